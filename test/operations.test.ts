import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { pipelineRuns, pipelines } from '../db/schema/index.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { verifyAuditChain } from '../mcp-server/governance/audit.js';
import {
  createApiToken,
  linkIdentity,
  loadPrincipal,
  principalForToken,
  savePrincipal,
} from '../mcp-server/governance/principals.js';
import { failInterruptedRuns } from '../mcp-server/pipelines/interrupted-runs.js';
import { callOk, callTool, connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

describe('operations: principals, tokens and runs a stopped server left running', () => {
  let database: Database;
  let admin: ServiceContext;
  let adminClient: Client;
  let analystClient: Client;

  beforeAll(async () => {
    database = await createTestDb();
    admin = await createTestContext(database);
    const analyst = await contextAs(database, {
      id: 'analyst',
      displayName: 'Ana Lyst',
      clearance: 'C',
      roles: ['viewer'],
    });
    adminClient = await connectMcpClient(admin);
    analystClient = await connectMcpClient(analyst);
  });
  afterAll(async () => {
    await adminClient?.close();
    await analystClient?.close();
    await database?.close();
  });

  it('lists and changes principals: only what is given changes, and only admins may', async () => {
    await linkIdentity(admin, { principalId: 'analyst', provider: 'https://idp.example/', subject: 'ana' });
    await createApiToken(database.db, 'analyst', 'notebook', new Date(Date.now() + 86_400_000));
    const listed = await callOk<{ principals: { id: string; activeTokens: number; identities: unknown[] }[] }>(
      adminClient,
      'governance_list_principals',
      {},
    );
    expect(listed.principals.find((p) => p.id === 'analyst')).toMatchObject({
      activeTokens: 1,
      identities: [{ provider: 'https://idp.example/', subject: 'ana' }],
    });
    const changed = await callTool(adminClient, 'governance_update_principal', { id: 'analyst', clearance: 'S' });
    expect(changed.text).toBe(
      'Updated:\n- analyst (Ana Lyst): clearance S, roles viewer, 1 linked identity, 1 active token',
    );
    expect((await loadPrincipal(database.db, 'analyst')).clearance).toBe('S');
    const refused = await callTool(analystClient, 'governance_update_principal', { id: 'analyst', clearance: 'TS' });
    expect(refused.text).toBe('analyst may not change principals: it needs the admin role (ask an admin to grant it)');
    const lastAdmin = await callTool(adminClient, 'governance_update_principal', { id: 'admin', roles: ['viewer'] });
    expect(lastAdmin.text).toBe('admin is the last administrator: make someone else admin first');
    const unknown = await callTool(adminClient, 'governance_update_principal', { id: 'ghost', clearance: 'U' });
    expect(unknown.text).toBe('no principal "ghost": governance_list_principals lists them');
  });

  it('lists and revokes tokens: your own, or anyone’s as an admin; a revoked token stops working', async () => {
    const value = await createApiToken(database.db, 'analyst', 'laptop', new Date(Date.now() + 86_400_000));
    const mine = await callOk<{ tokens: { id: string; name: string; state: string }[] }>(
      analystClient,
      'governance_list_tokens',
      {},
    );
    expect(mine.tokens.map((t) => t.name).sort()).toEqual(['laptop', 'notebook']);
    const laptop = mine.tokens.find((t) => t.name === 'laptop')!;
    const adminToken = await createApiToken(database.db, 'admin', 'ops', new Date(Date.now() + 86_400_000));
    const adminTokens = await callOk<{ tokens: { id: string }[] }>(adminClient, 'governance_list_tokens', {});
    // Someone else's token is answered as an unknown one, and listing others' needs the admin role.
    const theirs = await callTool(analystClient, 'governance_revoke_token', { id: adminTokens.tokens[0]!.id });
    expect(theirs.text).toMatch(/^no token [0-9a-f-]+: governance_list_tokens lists your tokens and their ids$/);
    const others = await callTool(analystClient, 'governance_list_tokens', { all: true });
    expect(others.text).toBe("analyst may list only its own tokens: an admin lists others'");
    expect(await principalForToken(database.db, adminToken, new Date())).not.toBeNull();

    const revoked = await callTool(analystClient, 'governance_revoke_token', { id: laptop.id });
    expect(revoked.text).toMatch(/^Revoked\n- [0-9a-f-]+ analyst "laptop" revoked, expires /);
    expect(await principalForToken(database.db, value, new Date())).toBeNull();
    const again = await callOk<{ changed: boolean }>(adminClient, 'governance_revoke_token', { id: laptop.id });
    expect(again.changed).toBe(false);
    const all = await callOk<{ tokens: { name: string; state: string }[] }>(adminClient, 'governance_list_tokens', {
      principal: 'analyst',
      includeInactive: true,
    });
    expect(all.tokens.map((t) => `${t.name} ${t.state}`).sort()).toEqual(['laptop revoked', 'notebook active']);
  });

  it('removes a principal: it cannot act, its tokens are revoked, the audit chain holds; adding it restores it', async () => {
    const token = await createApiToken(database.db, 'analyst', 'ci', new Date(Date.now() + 86_400_000));
    const removed = await callTool(adminClient, 'governance_remove_principal', { id: 'analyst', reason: 'left' });
    expect(removed.text).toBe('Removed analyst; 2 tokens revoked.');
    expect(await principalForToken(database.db, token, new Date())).toBeNull();
    await expect(loadPrincipal(database.db, 'analyst')).rejects.toThrow(/unknown principal "analyst"/);
    const listed = await callOk<{ principals: { id: string }[] }>(adminClient, 'governance_list_principals', {});
    expect(listed.principals.map((p) => p.id)).not.toContain('analyst');
    const withRemoved = await callTool(adminClient, 'governance_list_principals', { includeRemoved: true });
    expect(withRemoved.text).toMatch(/- analyst \(Ana Lyst\) REMOVED: clearance S/);
    expect(await verifyAuditChain(database.db)).toBeNull();
    const self = await callTool(adminClient, 'governance_remove_principal', { id: 'admin' });
    expect(self.text).toBe('you cannot remove yourself: ask another admin');
    const update = await callTool(adminClient, 'governance_update_principal', { id: 'analyst', clearance: 'U' });
    expect(update.text).toBe(
      'principal "analyst" was removed: add it again with `dataops principal add analyst` to restore it',
    );

    await savePrincipal(admin, { id: 'analyst', displayName: 'Ana Lyst', clearance: 'C', roles: ['viewer'] });
    expect((await loadPrincipal(database.db, 'analyst')).clearance).toBe('C');
    expect(await principalForToken(database.db, token, new Date())).toBeNull();
  });

  it('marks failed, at the next start, a run whose process is gone, and explains it', async () => {
    const created = await callOk<{ id: string }>(adminClient, 'pipelines_create', { name: 'nightly readiness' });
    const [pipeline] = await database.db.select().from(pipelines).where(eq(pipelines.id, created.id));
    const gonePid = spawnSync(process.execPath, ['-e', '0']).pid!;
    const run = async (proc: { host: string; pid: number }) =>
      (
        await database.db
          .insert(pipelineRuns)
          .values({
            pipelineId: pipeline!.id,
            version: pipeline!.currentVersion,
            status: 'running',
            trigger: 'manual',
            stats: { timeoutSeconds: 3600, process: proc },
            startedAt: new Date(),
          })
          .returning({ id: pipelineRuns.id })
      )[0]!.id;
    const killed = await run({ host: hostname(), pid: gonePid });
    const elsewhere = await run({ host: 'another-host.example', pid: gonePid });
    const live = await run({ host: hostname(), pid: process.ppid });

    // On a shared catalog only this host's dead processes are known to be gone.
    expect(await failInterruptedRuns(database.db, new Date(), { embedded: false })).toBe(1);
    const status = async (id: string) =>
      (await database.db.select().from(pipelineRuns).where(eq(pipelineRuns.id, id)))[0]!.status;
    expect([await status(killed), await status(elsewhere), await status(live)]).toEqual([
      'failed',
      'running',
      'running',
    ]);
    const why = await callOk<{ status: string; summary: string; fix: string }>(adminClient, 'pipelines_explain_run', {
      run: killed,
    });
    expect(why.status).toBe('failed');
    expect(why.summary).toMatch(
      /the server running it stopped \(it was killed, crashed or restarted\) before the run finished/,
    );
    expect(why.summary).not.toMatch(/no failure to explain/);
    expect(why.fix).toMatch(/run it again with pipelines_run/);
    // An embedded catalog is one process's, so every run still `running` at its start is orphaned.
    expect(await failInterruptedRuns(database.db, new Date(), { embedded: true })).toBe(2);
  });
});
