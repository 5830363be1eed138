import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import type { Db, Tx } from '../../db/create-db.js';
import { sourceCredentials } from '../../db/schema/index.js';

/** Seals and opens secrets with the workspace's key (AES-256-GCM: a tampered value fails to open). */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

/** A key of any length is stretched to 256 bits; a short one is refused because it could be guessed. */
export function createSecretBox(secret: string | Buffer): SecretBox {
  if (secret.length < 32) {
    throw new DataOpsError(
      'invalid_input',
      'DATAOPS_SECRET_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)',
    );
  }
  const key = createHash('sha256').update(secret).digest();
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), body]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join(':');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split(':');
      if (version !== 'v1' || !iv || !tag || body === undefined) {
        throw new DataOpsError('invalid_input', 'a stored secret is not in a format this version can read');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch (error) {
        throw new DataOpsError(
          'unavailable',
          'a stored source connection could not be decrypted: the workspace secret key changed since it was saved; ingest the source again',
          { cause: error },
        );
      }
    },
  };
}

/**
 * The workspace's secret key: DATAOPS_SECRET_KEY when set, else a key file in `keyDir` (the data
 * directory), created on first use and readable by its owner only. Several servers sharing one catalog
 * must share the key, so they set the variable.
 */
export function loadSecretBox(secretKey: string | undefined, keyDir: string): SecretBox {
  if (secretKey) return createSecretBox(secretKey);
  const file = path.join(keyDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(keyDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  return createSecretBox(readFileSync(file, 'utf8').trim());
}

/** Remembers how to reach a source, inside the sync's transaction. */
export async function saveSourceConnection(tx: Tx, box: SecretBox, sourceId: string, target: string, now: Date) {
  const sealed = box.seal(target);
  await tx
    .insert(sourceCredentials)
    .values({ sourceId, sealed, updatedAt: now })
    .onConflictDoUpdate({ target: sourceCredentials.sourceId, set: { sealed, updatedAt: now } });
}

/** The connection target saved for a source, or null when none was kept. */
export async function loadSourceConnection(db: Db, box: SecretBox, sourceId: string): Promise<string | null> {
  const [row] = await db.select().from(sourceCredentials).where(eq(sourceCredentials.sourceId, sourceId));
  return row ? box.open(row.sealed) : null;
}
