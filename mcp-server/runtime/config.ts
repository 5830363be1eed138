import path from 'node:path';
import { z } from 'zod';
import { DataOpsError } from '../../core/errors.js';
import { redactUrl } from '../../db/connection-errors.js';
import type { EmbedderConfig } from '../catalog/embeddings/embedder.js';
import type { OidcConfig } from '../governance/oidc.js';

/** The environment DataOps reads, validated once here; nothing else touches process.env. */
const envSchema = z.object({
  DATABASE_URL: z.string().optional(),
  DATAOPS_DATA_DIR: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  DATAOPS_HOST: z.string().optional(),
  DATAOPS_EMBEDDINGS: z.enum(['offline', 'bedrock']).default('offline'),
  AWS_REGION: z.string().optional(),
  DATAOPS_BEDROCK_EMBEDDING_MODEL: z.string().optional(),
  DATAOPS_BEDROCK_ENDPOINT: z.string().url().optional(),
  DATAOPS_LOG_LEVEL: z.enum(['info', 'warn', 'error', 'silent']).default('info'),
  DATAOPS_OIDC_ISSUER: z.string().url().optional(),
  DATAOPS_OIDC_AUDIENCE: z.string().optional(),
  DATAOPS_OIDC_JWKS_URL: z.string().url().optional(),
  DATAOPS_SECRET_KEY: z.string().optional(),
  DATAOPS_SCHEDULER_INTERVAL: z.coerce.number().int().min(0).max(86_400).default(300),
  DATAOPS_LOADING_WAIT: z.coerce.number().min(0).max(600).default(8),
  DATAOPS_SCHEDULER_TIMEZONE: z
    .string()
    .default('UTC')
    .refine(isTimeZone, 'must be an IANA time zone such as UTC or America/New_York'),
  DATAOPS_PROFILE_EVERY_HOURS: z.coerce.number().positive().max(8_760).default(24),
  /** The toolsets `dataops mcp` and `dataops start` offer, comma-separated (default all); `--toolsets` wins. */
  DATAOPS_TOOLSETS: z.string().optional(),
  /** Offer only read-only tools; `--read-only` also sets it. */
  DATAOPS_READ_ONLY: z
    .enum(['true', 'false', '1', '0', ''], { error: 'must be true or false' })
    .optional()
    .transform((value) => value === 'true' || value === '1'),
});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** How the quality scheduler runs: rule schedules' time zone and the profiling cadence. */
export interface SchedulerConfig {
  timeZone: string;
  profileEveryHours: number;
}

export function schedulerConfig(env: Env): SchedulerConfig {
  return { timeZone: env.DATAOPS_SCHEDULER_TIMEZONE, profileEveryHours: env.DATAOPS_PROFILE_EVERY_HOURS };
}

export type Env = z.infer<typeof envSchema>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DataOpsError('invalid_input', `environment variable ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** Everything an entry point decides before the runtime opens: the environment (validated) and where data lives. */
export interface RuntimeConfig {
  env: Env;
  storage: StorageLocation;
  /**
   * Where files kept beside the catalog go (the key that seals source connections, pipeline exports): the data
   * directory, or DATAOPS_DATA_DIR (default ./.dataops) beside a server catalog; null keeps no files.
   */
  filesDir: string | null;
}

/** The configuration of a command: its `--db` flag over the environment, read and validated once. */
export function readConfig(flags: { db?: string }, env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = readEnv(env);
  const storage = storageLocation(flags.db, parsed);
  return { env: parsed, storage, filesDir: storage.dataDir ?? path.resolve(parsed.DATAOPS_DATA_DIR || '.dataops') };
}

/**
 * The configuration of a runtime over a catalog its caller opened (a test file's database, a benchmark's
 * scratch one): the given environment (e.g. a silent log level and a secret key), no data directory, no files kept.
 */
export function configForDatabase(database: { location: string }, env: NodeJS.ProcessEnv): RuntimeConfig {
  return { env: readEnv(env), storage: { catalog: database.location, dataDir: null }, filesDir: null };
}

export interface StorageLocation {
  /** Catalog database: a server URL or an embedded data directory. */
  catalog: string;
  /** Directory for embedded databases the product keeps beside the catalog (the demo source); null on a server. */
  dataDir: string | null;
}

/** `--db` wins, then DATABASE_URL, then DATAOPS_DATA_DIR, then `./.dataops`; an empty variable counts as unset. */
export function storageLocation(dbOption: string | undefined, env: Env): StorageLocation {
  const [target, from] =
    dbOption !== undefined
      ? [dbOption, '--db']
      : env.DATABASE_URL
        ? [env.DATABASE_URL, 'DATABASE_URL']
        : [env.DATAOPS_DATA_DIR || '.dataops', 'DATAOPS_DATA_DIR'];
  if (target.trim() === '') {
    throw new DataOpsError('invalid_input', `${from} is empty: give a postgres:// URL or a data directory`);
  }
  if (/^postgres(ql)?:\/\//i.test(target)) return { catalog: target, dataDir: null };
  // Any other scheme would silently become a directory named after the URL.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target)?.[1];
  if (scheme) {
    const hint = /^(mysql|mariadb)$/i.test(scheme)
      ? ` (to read ${scheme} data into the catalog: dataops ingest mysql <url>)`
      : '';
    throw new DataOpsError(
      'invalid_input',
      `${from} ${redactUrl(target)}: the catalog is a postgres:// URL or a data directory, not ${scheme}://${hint}`,
    );
  }
  const dataDir = path.resolve(target);
  return { catalog: path.join(dataDir, 'catalog'), dataDir };
}

export function embedderConfig(env: Env): EmbedderConfig {
  if (env.DATAOPS_EMBEDDINGS === 'offline') return { provider: 'offline' };
  if (!env.AWS_REGION) {
    throw new DataOpsError(
      'invalid_input',
      'DATAOPS_EMBEDDINGS=bedrock needs AWS_REGION (and AWS credentials in the usual variables)',
    );
  }
  return {
    provider: 'bedrock',
    region: env.AWS_REGION,
    modelId: env.DATAOPS_BEDROCK_EMBEDDING_MODEL,
    baseURL: env.DATAOPS_BEDROCK_ENDPOINT,
  };
}

/** Sign-in with an identity provider, when DATAOPS_OIDC_ISSUER is set. */
export function oidcConfig(env: Env): OidcConfig | undefined {
  if (!env.DATAOPS_OIDC_ISSUER) return undefined;
  if (!env.DATAOPS_OIDC_AUDIENCE) {
    throw new DataOpsError(
      'invalid_input',
      'DATAOPS_OIDC_ISSUER needs DATAOPS_OIDC_AUDIENCE: the audience (client id) tokens are issued for',
    );
  }
  return { issuer: env.DATAOPS_OIDC_ISSUER, audience: env.DATAOPS_OIDC_AUDIENCE, jwksUrl: env.DATAOPS_OIDC_JWKS_URL };
}
