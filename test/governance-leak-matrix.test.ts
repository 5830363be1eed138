import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDataOpsError } from '../core/errors.js';
import { type Database, queryRows } from '../db/create-db.js';
import { classificationLevels } from '../db/schema/types.js';
import { allTools } from '../mcp-server/registry.js';
import { errorMessage, runTool } from '../mcp-server/run-tool.js';
import type { ToolDefinition } from '../mcp-server/tool.js';
import {
  createLeakFixture,
  entityKinds,
  type FixtureAsset,
  type LeakFixture,
  type Level,
  levels,
  type MatrixPrincipal,
  restrictedDomain,
  source,
} from './helpers/leak-fixture.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { createTestDb } from './helpers/test-db.js';

/**
 * The leak matrix (issue 5 §2): every tool × a principal of each clearance (and a TS one outside the restricted
 * domain) × inputs aimed at assets of every marking. Nothing of an asset a caller may not see may appear in
 * any output or error: no name, URN, id, description, tag, owner or request id. And where the input names a
 * hidden asset, the answer must be the one given for an asset that does not exist, so not even "forbidden"
 * or a different wording tells it apart.
 *
 * Every tool needs an entry in `probes`; a tool added without one fails here, on purpose.
 */
type Probe = Record<string, unknown>;
type ProbeGenerator = (f: LeakFixture) => Probe[];

const each = (f: LeakFixture, make: (a: FixtureAsset) => Probe | Probe[]): Probe[] =>
  levels.flatMap((level): Probe[] => {
    const made = make(f.assets[level]);
    return Array.isArray(made) ? made : [made];
  });
const purpose = 'matrix probe of what this caller may see';
/** A rule by its asset and name, by its asset and id, and by a visible asset with another asset's rule id. */
const ruleProbes = (f: LeakFixture): Probe[] =>
  each(f, (a) => [
    { urn: a.urn, rule: `zrule_${a.level} ids present` },
    ...a.ids.rule.map((id) => ({ urn: a.urn, rule: id })),
    ...a.ids.rule.map((id) => ({ urn: f.assets.u.urn, rule: id })),
  ]);

const probes: Record<string, ProbeGenerator> = {
  catalog_search: (f) => [
    { query: '', limit: 50 },
    { query: 'holdings', limit: 50 },
    ...each(f, (a) => [
      { query: a.name, limit: 50 },
      { query: `zdesc_${a.level}`, limit: 50 },
      { query: '', tag: a.tag, limit: 50 },
      { query: '', owner: a.owner, limit: 50 },
    ]),
    ...classificationLevels.map((classification) => ({ query: '', classification, limit: 50 })),
    { query: '', domain: restrictedDomain, limit: 50 },
    { query: '', source, limit: 50 },
  ],
  catalog_browse: () => [{ limit: 100 }, { domain: restrictedDomain }, { source, limit: 100 }],
  catalog_get_asset: (f) => each(f, (a) => ({ urn: a.urn })),
  catalog_list_columns: (f) => each(f, (a) => [{ urn: a.urn }, { urn: a.urn, filter: 'zmark', sensitivity: 'pii' }]),
  catalog_update_asset: (f) => each(f, (a) => ({ urn: a.urn, addTags: ['reviewed'] })),
  lineage_get: (f) =>
    each(f, (a) => [
      { urn: a.urn, direction: 'both', depth: 6, includeReferences: true },
      { urn: a.urn, column: a.column, depth: 6 },
    ]),
  lineage_impact: (f) => each(f, (a) => [{ urn: a.urn }, { urn: a.urn, column: a.column }]),
  lineage_path: (f) =>
    each(f, (a) => [
      { from: f.assets.u.urn, to: a.urn },
      { from: a.urn, to: f.assets.end.urn },
    ]),
  lineage_diff: (f) => each(f, (a) => ({ urn: a.urn, from: '2000-01-01', depth: 6 })),
  // Both ends of an edge are names a caller writes; `out` is unclassified, so an edge from it raises no marking.
  lineage_add_edge: (f) =>
    each(f, (a) => [
      { from: a.urn, to: f.assets.out.urn, columns: [{ from: a.column, to: f.assets.out.column }] },
      { from: f.assets.out.urn, to: a.urn, columns: [{ from: f.assets.out.column, to: a.column }] },
    ]),
  lineage_remove_edge: (f) =>
    each(f, (a) => [
      { from: a.urn, to: f.assets.out.urn },
      { from: f.assets.out.urn, to: a.urn },
    ]),
  lineage_coverage: () => [{ limit: 200 }],
  governance_request_access: (f) => each(f, (a) => ({ urn: a.urn, purpose, days: 5 })),
  governance_decide_access: (f) =>
    each(f, (a) => a.ids.request.map((id) => ({ id, decision: 'deny', reason: 'matrix probe' }))),
  governance_list_access_requests: () => [
    { scope: 'mine', limit: 100 },
    { scope: 'to_decide', limit: 100 },
    { scope: 'to_decide', status: 'denied', limit: 100 },
  ],
  governance_revoke_access: (f) => each(f, (a) => a.ids.request.map((id) => ({ id, reason: 'matrix probe' }))),
  governance_create_policy: () => [
    { name: 'zprobe policy', kind: 'privacy', document: 'Probe.', authority: 'NIST SP 800-53 AC-3' },
  ],
  governance_link_policy: (f) =>
    each(f, (a) => [
      { policy: f.policy, urn: a.urn },
      { policy: f.policy, tag: a.tag },
    ]).concat([{ policy: f.policy, domain: restrictedDomain }]),
  governance_list_policies: (f) => [{ verbose: true }, ...each(f, (a) => ({ urn: a.urn, verbose: true }))],
  governance_compliance: (f) => [{ limit: 200 }, { domain: restrictedDomain }, ...each(f, (a) => ({ urn: a.urn }))],
  governance_record_compliance: (f) =>
    each(f, (a) => ({
      urn: a.urn,
      control: { controlId: 'V-214120', status: 'open', evidence: 'matrix probe' },
    })),
  governance_request_certification: (f) =>
    each(f, (a) => ({ urn: a.urn, label: 'Approved for Reporting', note: 'matrix probe' })),
  governance_review_certification: (f) =>
    each(f, (a) => a.ids.certification.map((id) => ({ id, decision: 'reject', reason: 'matrix probe' }))),
  governance_list_certifications: (f) => [
    { limit: 100 },
    { toReview: true, limit: 100 },
    { status: 'pending', limit: 100 },
    ...each(f, (a) => ({ urn: a.urn, limit: 100 })),
  ],
  governance_audit_report: (f) => [{ domain: restrictedDomain }, ...each(f, (a) => ({ urn: a.urn }))],
  governance_classify: (f) => each(f, (a) => [{ urn: a.urn }, { urn: a.urn, apply: false, sampleSize: 10 }]),
  governance_set_classification: (f) =>
    // Raising a marking to what it is already changes nothing, so the matrix keeps its shape.
    each(f, (a) => ({ urn: a.urn, column: a.column, classification: 'U', reason: 'matrix probe' })),
  social_rate: (f) => each(f, (a) => ({ urn: a.urn, stars: 5, review: 'matrix probe' })),
  social_list_reviews: (f) => each(f, (a) => ({ urn: a.urn, withText: true, limit: 50 })),
  social_comment: (f) => [
    ...each(f, (a) => ({ urn: a.urn, body: 'matrix probe @matrix_ts' })),
    ...each(f, (a) => a.ids.comment.map((replyTo) => ({ urn: f.assets.u.urn, body: 'matrix reply', replyTo }))),
  ],
  social_edit_comment: (f) => each(f, (a) => a.ids.comment.map((id) => ({ id, body: 'edited by matrix probe' }))),
  social_list_comments: (f) => each(f, (a) => ({ urn: a.urn, limit: 100 })),
  social_follow: (f) => [...each(f, (a) => ({ urn: a.urn, follow: true })), { domain: restrictedDomain, follow: true }],
  social_feed: () => ['following', 'domains', 'mentions', 'trending', 'new'].map((scope) => ({ scope, limit: 100 })),
  social_recommend: (f) => [{ limit: 50 }, ...each(f, (a) => ({ urn: a.urn, limit: 50 }))],
  social_record_usage: (f) => each(f, (a) => ({ urn: a.urn, action: 'view' })),
  quality_profile: (f) => each(f, (a) => ({ urn: a.urn })),
  quality_get: (f) => each(f, (a) => ({ urn: a.urn })),
  quality_anomalies: (f) => each(f, (a) => ({ urn: a.urn, lookbackDays: 30 })),
  quality_set_sla: (f) => each(f, (a) => ({ urn: a.urn, freshnessHours: 48, severity: 'warning' })),
  quality_list_alerts: (f) => [
    { state: 'all', limit: 100 },
    { state: 'open', minSeverity: 'info', limit: 100 },
    ...each(f, (a) => ({ urn: a.urn, state: 'all', limit: 100 })),
  ],
  quality_update_alert: (f) =>
    each(f, (a) => a.ids.alert.map((id) => ({ id, action: 'acknowledge', note: 'matrix probe' }))),
  quality_create_rule: (f) =>
    each(f, (a) => [
      { urn: a.urn, name: 'matrix probe rule', type: 'not_null', column: a.column, severity: 'info' },
      // The asset a relationships rule references is written into the rule, on a table everyone sees.
      {
        urn: f.assets.out.urn,
        name: `matrix probe reference ${a.level}`,
        type: 'relationships',
        column: `zmark_out_id`,
        config: { to: a.urn, field: `zmark_${a.level}_id` },
      },
    ]),
  quality_list_rules: (f) => each(f, (a) => ({ urn: a.urn, includeDisabled: true })),
  quality_run_checks: (f) => [
    ...each(f, (a) => ({ urn: a.urn })),
    ...each(f, (a) => a.ids.rule.map((id) => ({ urn: f.assets.u.urn, ruleIds: [id] }))),
  ],
  quality_explain: (f) => each(f, (a) => ({ urn: a.urn })),
  // Principals and tokens name no asset: the probes check they stay that way (and refuse stewards where they must).
  governance_list_principals: () => [{ includeRemoved: true }],
  governance_update_principal: () => [{ id: 'matrix_u', displayName: 'Matrix u' }],
  governance_remove_principal: () => [{ id: 'matrix_requester', reason: 'matrix probe' }],
  governance_list_tokens: () => [{}, { all: true, includeInactive: true }, { principal: 'matrix_u' }],
  governance_revoke_token: (f) => each(f, (a) => a.ids.rule.map((id) => ({ id }))),
  quality_disable_rule: (f) => ruleProbes(f),
  quality_enable_rule: (f) => ruleProbes(f),
  quality_delete_rule: (f) => ruleProbes(f),
  pipelines_list: () => [{ limit: 100 }],
  pipelines_add_test: (f) =>
    each(f, (a) => ({ pipeline: `zpipe_${a.level}`, name: 'matrix probe', inputs: { src: [] }, expect: { keep: [] } })),
  pipelines_test: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}` })),
  pipelines_deploy: (f) =>
    each(f, (a) => [
      { pipeline: `zpipe_${a.level}`, environment: 'dev', runNow: false },
      { pipeline: `zpipe_${a.level}`, schedule: { cron: '0 6 * * *', timeZone: 'UTC' }, runNow: false },
    ]),
  pipelines_schedule: (f) =>
    each(f, (a) => [
      { pipeline: `zpipe_${a.level}`, environment: 'dev', cron: '0 6 * * *' },
      { pipeline: `zpipe_${a.level}`, environment: 'dev', clear: true },
    ]),
  pipelines_get: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}` })),
  pipelines_validate: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}` })),
  pipelines_preview: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}`, node: 'keep', limit: 5 })),
  pipelines_diff: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}`, from: 1 })),
  pipelines_get_run: (f) => each(f, (a) => ({ run: a.id })),
  pipelines_explain_run: (f) => each(f, (a) => ({ run: a.id })),
  pipelines_create: () => [{ name: 'zprobe pipeline', description: 'matrix probe' }],
  pipelines_add_node: (f) =>
    each(f, (a) => ({ pipeline: 'zprobe pipeline', type: 'source_dataset', config: { urn: a.urn } })).concat(
      each(f, (a) => ({ pipeline: `zpipe_${a.level}`, type: 'sort', config: { by: [{ column: a.column }] } })),
      // Tables a pipeline would write, by name (governance-leak-written.test.ts deploys and runs such pipelines).
      each(f, (a) => ({
        pipeline: 'zprobe pipeline',
        type: 'destination_table',
        config: { schema: 'zns', table: a.name, mode: 'append' },
      })),
    ),
  pipelines_update_node: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}`, id: 'src', label: 'matrix probe' })),
  pipelines_connect: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}`, source: 'src', target: 'keep' })),
  pipelines_run: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}`, timeoutSeconds: 5 })),
  pipelines_rollback: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}`, version: 1 })),
  pipelines_disconnect: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}`, source: 'src', target: 'keep' })),
  pipelines_remove_node: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}`, id: 'keep' })),
  pipelines_suggest: (f) => [
    { goal: 'holdings', create: false },
    { goal: 'total amount of holdings by zmark', create: false },
    ...each(f, (a) => [
      { goal: 'total amount', datasets: [a.urn] },
      { goal: 'combine holdings with holdings', datasets: [f.assets.end.urn, a.urn], create: false },
    ]),
  ],
  pipelines_docs: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}` })),
  pipelines_upload: (f) => each(f, (a) => ({ pipeline: `zpipe_${a.level}`, name: 'probe.csv', content: 'probe\n1\n' })),
  quality_subscribe_alerts: (f) => [
    { action: 'list' },
    ...each(f, (a) => ({ action: 'subscribe', urn: a.urn, minSeverity: 'info', channel: 'inbox' })),
    { action: 'subscribe', domain: restrictedDomain, channel: 'inbox' },
    { action: 'list' },
  ],
};

/** Read-only tools first and destructive ones last, so a removal cannot starve the probes that follow. */
function rank(tool: ToolDefinition): number {
  if (tool.annotations.readOnlyHint) return 0;
  return tool.annotations.destructiveHint ? 2 : 1;
}

interface Answer {
  ok: boolean;
  code: string;
  text: string;
  output?: unknown;
}

async function call(tool: ToolDefinition, input: Probe, principal: MatrixPrincipal): Promise<Answer> {
  try {
    const output = await runTool(tool, input, principal.ctx);
    return { ok: true, code: 'ok', text: `${JSON.stringify(output)}\n${tool.render(output)}`, output };
  } catch (error) {
    const code = isDataOpsError(error) ? error.code : 'internal';
    return { ok: false, code, text: errorMessage(error, principal.ctx) };
  }
}

/**
 * A count that says more than the list beside it: an object with a `total` and one list, on its last page (no
 * `nextCursor`), whose total is not the length of the list, counts something the caller was not shown.
 */
function miscount(value: unknown, path = 'output'): string | null {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = miscount(item, `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const record = value as Record<string, unknown>;
  const lists = Object.entries(record).filter(([, v]) => Array.isArray(v));
  const lastPage = !('nextCursor' in record) || record.nextCursor === null;
  if (typeof record.total === 'number' && lists.length === 1 && lastPage) {
    const [name, list] = lists[0]! as [string, unknown[]];
    if (record.total !== list.length)
      return `${path}.total is ${record.total} but ${path}.${name} lists ${list.length}`;
  }
  for (const [key, item] of Object.entries(record)) {
    const found = miscount(item, `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

/** Replaces each hidden asset's names and ids in `text` by its ghost's (or, for comparing, by a placeholder). */
function substitute(text: string, hidden: FixtureAsset[], f: LeakFixture, to: 'ghost' | 'placeholder'): string {
  let out = text;
  for (const a of hidden) {
    const g = f.ghosts[a.level];
    const pairs: [string, string][] = [
      [a.urn, to === 'ghost' ? g.urn : `<urn ${a.level}>`],
      [a.qualifiedName, to === 'ghost' ? g.qualifiedName : `<qname ${a.level}>`],
      [a.id, to === 'ghost' ? g.id : `<id ${a.level}>`],
      ...entityKinds.flatMap((kind) =>
        a.ids[kind].map((id, i): [string, string] => [id, to === 'ghost' ? g.ids[kind][i]! : `<${kind} ${i}>`]),
      ),
    ];
    for (const [from, replacement] of pairs) out = out.split(from).join(replacement);
  }
  return out;
}

function ghostPlaceholders(text: string, hidden: FixtureAsset[], f: LeakFixture): string {
  let out = text;
  for (const a of hidden) {
    const g = f.ghosts[a.level];
    const pairs: [string, string][] = [
      [g.urn, `<urn ${a.level}>`],
      [g.qualifiedName, `<qname ${a.level}>`],
      [g.id, `<id ${a.level}>`],
      ...entityKinds.flatMap((kind) => g.ids[kind].map((id, i): [string, string] => [id, `<${kind} ${i}>`])),
    ];
    for (const [from, replacement] of pairs) out = out.split(from).join(replacement);
  }
  return out;
}

/** Times, fresh ids and incident numbers differ from one call to the next; they are not what is compared. */
function normalise(text: string): string {
  return text
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/incident [0-9a-f]+/g, 'incident <n>');
}

describe('leak matrix: every tool × every clearance × every marking', () => {
  let database: Database;
  let fixture: LeakFixture;

  beforeAll(async () => {
    database = await createTestDb();
    fixture = await createLeakFixture(database);
  });
  afterAll(() => database.close());

  it('gives every asset the things the probes aim at', async () => {
    const made = (kind: (typeof entityKinds)[number]) => levels.filter((l) => fixture.assets[l].ids[kind].length > 0);
    expect(made('alert')).toEqual([...levels]);
    const has = (name: string) => allTools.some((t) => t.name === name);
    if (has('social_comment')) expect(made('comment')).toEqual([...levels]);
    if (has('governance_request_certification')) expect(made('certification')).toEqual([...levels]);
    if (has('quality_create_rule')) expect(made('rule')).toEqual([...levels]);
    if (has('pipelines_create')) {
      const rows = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from pipelines where name like 'zpipe\_%'`,
      );
      expect(rows[0]!.n).toBe(levels.length);
    }
    // Every asset, the restricted one included (its owners see the request its requester may not).
    if (has('governance_request_access')) expect(made('request')).toEqual([...levels]);
  });

  it('lists and reads MCP resources without revealing hidden assets', async () => {
    for (const principal of fixture.principals) {
      const sees = await fixture.visibleTo(principal);
      const client = await connectMcpClient(principal.ctx);
      try {
        const listed = JSON.stringify(await client.listResources());
        for (const level of levels) {
          const a = fixture.assets[level];
          const uri = `dataops://asset/${encodeURIComponent(a.urn)}`;
          if (sees.has(level)) {
            expect(listed, `${principal.key} lists ${level}`).toContain(`"name":"${a.qualifiedName}"`);
            continue;
          }
          const leaked = a.secrets.filter((secret) => listed.includes(secret));
          expect(leaked, `${principal.key}: the resource list reveals ${level}`).toEqual([]);
          const ghostUri = `dataops://asset/${encodeURIComponent(fixture.ghosts[level].urn)}`;
          const hidden = await client.readResource({ uri }).then(
            () => 'read',
            (e: Error) => e.message,
          );
          const absent = await client.readResource({ uri: ghostUri }).then(
            () => 'read',
            (e: Error) => e.message,
          );
          expect(hidden.split(a.urn).join('<urn>'), `${principal.key} reading ${level}`).toBe(
            absent.split(fixture.ghosts[level].urn).join('<urn>'),
          );
        }
      } finally {
        await client.close();
      }
    }
  });

  // The counts first: the matrix's own writes (edges to `out`, tags) come after.
  it('counts in totals and facets only what the caller may see', async () => {
    const search = allTools.find((t) => t.name === 'catalog_search')!;
    for (const principal of fixture.principals) {
      const visible = [...(await fixture.visibleTo(principal))];
      const result = (await runTool(search, { query: '', limit: 50 }, principal.ctx)) as {
        total: number;
        hits: { name: string }[];
        facets: Record<string, { value: string; count: number }[]>;
      };
      expect(result.hits.map((h) => h.name).sort(), principal.key).toEqual(visible.map((l) => `zmark_${l}`).sort());
      expect(result.total, principal.key).toBe(visible.length);
      const classified = result.facets.classification!.reduce((n, f) => n + f.count, 0);
      expect(classified, `${principal.key}: classification facet`).toBe(visible.length);
      const bySource = result.facets.source!.reduce((n, f) => n + f.count, 0);
      expect(bySource, `${principal.key}: source facet`).toBe(visible.length);
    }
  });

  it('counts only visible lineage neighbours in a profile', async () => {
    const get = allTools.find((t) => t.name === 'catalog_get_asset')!;
    for (const principal of fixture.principals) {
      const sees = await fixture.visibleTo(principal);
      // `end` is fed by ts and rd; `u` feeds c and rd.
      const profile = (await runTool(get, { urn: fixture.assets.end.urn }, principal.ctx)) as {
        lineage: { upstream: number };
      };
      expect(profile.lineage.upstream, `${principal.key}: upstream of end`).toBe(
        (['ts', 'rd'] as const).filter((l) => sees.has(l)).length,
      );
      const u = (await runTool(get, { urn: fixture.assets.u.urn }, principal.ctx)) as {
        lineage: { downstream: number };
      };
      expect(u.lineage.downstream, `${principal.key}: downstream of u`).toBe(
        (['c', 'rd'] as const).filter((l) => sees.has(l)).length,
      );
    }
  });

  const tools = [...allTools].sort((a, b) => rank(a) - rank(b));

  it.each(tools.map((t) => [t.name, t] as const))('%s reveals nothing a caller may not see', async (name, tool) => {
    const generate = probes[name];
    if (!generate) {
      expect.fail(
        `${name} has no input generator in test/governance-leak-matrix.test.ts: add probes aimed at every asset of ` +
          'the fixture (visible and hidden, by URN, id and name) so the leak matrix covers it',
      );
    }
    const inputs = generate(fixture);
    expect(inputs.length, `${name}: the generator made no inputs`).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const principal of fixture.principals) {
      const sees = await fixture.visibleTo(principal);
      const hidden = levels.filter((l: Level) => !sees.has(l)).map((l) => fixture.assets[l]);
      for (const input of inputs) {
        const answer = await call(tool, input, principal);
        const where = `${name} as ${principal.key} with ${JSON.stringify(input)}`;
        if (answer.code === 'internal') problems.push(`${where}: internal error ${answer.text}`);
        const typed = JSON.stringify(input);
        const named = hidden.filter(
          (a) => typed.includes(a.urn) || Object.values(a.ids).some((ids) => ids.some((id) => typed.includes(id))),
        );
        // What the caller typed comes back in messages such as "no asset <urn>": compare that with a ghost instead.
        const shown = substitute(answer.text, named, fixture, 'placeholder');
        // A tag or owner the caller typed is its own words, not a disclosure (unless it names a hidden URN).
        const echoed = substitute(typed, named, fixture, 'placeholder');
        for (const a of hidden) {
          const leaked = a.secrets.filter((s) => shown.includes(s) && !echoed.includes(s));
          if (leaked.length > 0) {
            problems.push(`${where}: reveals ${a.level} asset (${leaked.join(', ')}) in ${answer.text.slice(0, 160)}`);
          }
        }
        const counted = answer.ok ? miscount(answer.output) : null;
        if (counted) problems.push(`${where}: ${counted}`);
        if (named.length > 0) {
          const ghostInput = JSON.parse(substitute(JSON.stringify(input), named, fixture, 'ghost')) as Probe;
          const ghost = await call(tool, ghostInput, principal);
          const expected = normalise(ghostPlaceholders(ghost.text, named, fixture));
          const actual = normalise(shown);
          if (ghost.code !== answer.code || expected !== actual) {
            problems.push(
              `${where}: answers differently than for an asset that does not exist:\n  hidden: ${answer.code} ${actual.slice(0, 300)}\n  absent: ${ghost.code} ${expected.slice(0, 300)}`,
            );
          }
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
