import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../channels/http/app.js';
import { loopbackHosts } from '../channels/http/host-check.js';
import type { Database } from '../db/create-db.js';
import { annotateAssets } from '../mcp-server/catalog/annotate.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createOidcVerifier } from '../mcp-server/governance/oidc.js';
import { linkIdentity, localAdminId, savePrincipal } from '../mcp-server/governance/principals.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { runCli } from './helpers/run-cli.js';
import { contextAs, createTestContext, testRuntimeSource } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

/** A stand-in identity provider on loopback: a discovery document and its signing keys. */
async function startIssuer(keys: KeyPair) {
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }));
    } else if (req.url === '/keys') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('sign-in with an OIDC identity provider', () => {
  let database: Database;
  let keys: KeyPair;
  let idp: Awaited<ReturnType<typeof startIssuer>>;
  let app: ReturnType<typeof createApp>;

  const token = (
    claims: { sub?: string; aud?: string; iss?: string; exp?: string | number },
    signWith = keys.privateKey,
  ) => {
    const jwt = new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setIssuer(claims.iss ?? idp.issuer)
      .setAudience(claims.aud ?? 'dataops')
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '5m');
    if (claims.sub !== undefined) jwt.setSubject(claims.sub);
    return jwt.sign(signWith);
  };
  const search = (bearer: string) =>
    app.request('http://127.0.0.1:8787/api/tools/catalog_search', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ query: '', limit: 50 }),
    });

  beforeAll(async () => {
    keys = await generateKeyPair('RS256');
    idp = await startIssuer(keys);
    database = await createTestDb();
    const admin = await createTestContext(database);
    await syncSource(admin, warehouseSnapshot());
    await annotateAssets(admin, [
      { urn: assetUrn('postgres', 'warehouse', 'intel', 'collection_requirements'), classification: 'TS' },
    ]);
    await savePrincipal(admin, { id: 'analyst', displayName: 'Analyst', clearance: 'U', roles: ['viewer'] });
    await linkIdentity(admin, { principalId: 'analyst', provider: idp.issuer, subject: 'entra|4711' });
    app = createApp({
      runtime: testRuntimeSource(database),
      auth: 'required',
      localPrincipal: localAdminId,
      allowedHosts: loopbackHosts,
      oidc: {
        issuer: idp.issuer,
        verify: createOidcVerifier({ issuer: idp.issuer, audience: 'dataops' }, database.db),
      },
    });
  });
  afterAll(async () => {
    await idp.close();
    await database.close();
  });

  it('acts as the linked principal, with its clearance', async () => {
    const res = await search(await token({ sub: 'entra|4711' }));
    expect(res.status).toBe(200);
    const names = ((await res.json()) as { hits: { name: string }[] }).hits.map((h) => h.name);
    expect(names).toContain('contracts');
    expect(names).not.toContain('collection_requirements');
  });

  it('refuses tokens that are expired, for another audience, from another issuer, badly signed or unlinked', async () => {
    const other = await generateKeyPair('RS256');
    const cases: [Promise<string>, RegExp][] = [
      [token({ sub: 'entra|4711', exp: Date.parse('2020-01-01T00:00:00Z') / 1000 }), /has expired/],
      [token({ sub: 'entra|4711', aud: 'someone-else' }), /not meant for this server/],
      [token({ sub: 'entra|4711', iss: 'https://evil.example' }), /not issued by http:\/\/127\.0\.0\.1/],
      [token({ sub: 'entra|4711' }, other.privateKey), /not signed by a key of/],
      [token({ sub: 'entra|9999' }), /entra\|9999 .* is not linked to a principal: .*dataops principal link/],
      [token({}), /has no subject/],
    ];
    for (const [bearer, message] of cases) {
      const res = await search(await bearer);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
  });

  it('tells MCP clients where to get a token (OAuth protected-resource metadata)', async () => {
    const res = await app.request('http://127.0.0.1:8787/mcp', { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="dataops", resource_metadata="http://127.0.0.1:8787/.well-known/oauth-protected-resource/mcp"',
    );
    const metadata = await app.request('http://127.0.0.1:8787/.well-known/oauth-protected-resource/mcp');
    expect(await metadata.json()).toEqual({
      resource: 'http://127.0.0.1:8787/mcp',
      resource_name: 'DataOps',
      authorization_servers: [idp.issuer],
      bearer_methods_supported: ['header'],
    });
  });

  it('lets only an administrator add principals and link identities', async () => {
    const analyst = await contextAs(database, {
      id: 'analyst',
      displayName: 'Analyst',
      clearance: 'U',
      roles: ['viewer'],
    });
    await expect(
      savePrincipal(analyst, { id: 'eve', displayName: 'Eve', clearance: 'TS', roles: ['admin'] }),
    ).rejects.toThrow(/analyst may not manage principals: it needs the admin role/);
    await expect(
      linkIdentity(analyst, { principalId: 'analyst', provider: idp.issuer, subject: 'other' }),
    ).rejects.toThrow(/needs the admin role/);
    const admin = await createTestContext(database);
    await expect(
      savePrincipal(admin, { id: 'bo', displayName: 'Bo', clearance: 'S', roles: ['viewer'], domains: ['nowhere'] }),
    ).rejects.toThrow('no domain nowhere: domains are created by a steward first');
  });
});

describe('dataops principal', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-principal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds a principal and links a sign-in to it; a viewer may not', async () => {
    const added = await runCli([
      '--db',
      dir,
      '--json',
      'principal',
      'add',
      'kim',
      '--name',
      'Kim Lee',
      '--clearance',
      'S',
      '--role',
      'steward',
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ id: 'kim', clearance: 'S', roles: ['steward'] });
    const linked = await runCli([
      '--db',
      dir,
      'principal',
      'link',
      'kim',
      '--subject',
      'okta|1',
      '--issuer',
      'https://idp.example',
    ]);
    expect(linked.stdout).toBe('okta|1 at https://idp.example signs in as kim\n');
    const refused = await runCli([
      '--db',
      dir,
      '--as',
      'kim',
      'principal',
      'add',
      'eve',
      '--name',
      'Eve',
      '--role',
      'admin',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'dataops: kim may not manage principals: it needs the admin role (ask an admin to grant it)\n',
    );
  }, 180_000);
});
