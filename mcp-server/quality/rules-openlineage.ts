import { and, eq, sql } from 'drizzle-orm';
import { queryRows, type Tx } from '../../db/create-db.js';
import { qualityResults, qualityRules } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import type { RuleType } from './rules.js';

/**
 * OpenLineage's dataQualityAssertions facet (on a run's input datasets) says which checks a producer ran
 * and whether each passed. Each assertion becomes a rule of the dataset's asset (origin `openlineage`,
 * one per assertion name and column) and each event's verdict a stored result of it, once per event.
 * Assertions we know how to run ourselves become those typed rules (not_null, unique); the others are
 * `external`: their results come only from the producer.
 */

interface Assertion {
  assertion: string;
  success: boolean;
  column?: string;
}

const known: Record<string, { type: RuleType; dimension: string }> = {
  not_null: { type: 'not_null', dimension: 'completeness' },
  no_null_values: { type: 'not_null', dimension: 'completeness' },
  expect_column_values_to_not_be_null: { type: 'not_null', dimension: 'completeness' },
  unique: { type: 'unique', dimension: 'uniqueness' },
  is_unique: { type: 'unique', dimension: 'uniqueness' },
  expect_column_values_to_be_unique: { type: 'unique', dimension: 'uniqueness' },
};
const dimensionByWord: [RegExp, string][] = [
  [/null|missing|complete/, 'completeness'],
  [/unique|duplicate/, 'uniqueness'],
  [/relationship|foreign|reference/, 'consistency'],
  [/fresh|recent|stale/, 'timeliness'],
];

/**
 * Records the assertions of events stored in this transaction that have not been recorded yet. Lineage
 * calls it through its hook (domain-hooks.ts) with `assetOf`, which finds a dataset's visible asset.
 */
export async function recordAssertions(
  tx: Tx,
  ctx: ServiceContext,
  assetOf: (dataset: { namespace: string; name: string }) => Promise<string | null>,
): Promise<{ rules: number; results: number }> {
  const events = await queryRows<{
    id: string;
    event_time: string;
    run_id: string | null;
    producer: string | null;
    inputs: unknown;
  }>(
    tx,
    sql`select e.id::text, e.event_time::text, e.run_id, e.producer, e.payload->'inputs' as inputs from lineage_events e
        where jsonb_path_exists(e.payload, '$.inputs[*].inputFacets.dataQualityAssertions.assertions[*]')
          and not exists (select 1 from quality_results q where q.evidence->>'eventId' = e.id::text)`,
  );
  const counts = { rules: 0, results: 0 };
  for (const event of events) {
    const inputs = (typeof event.inputs === 'string' ? JSON.parse(event.inputs) : event.inputs) as {
      namespace: string;
      name: string;
      inputFacets?: { dataQualityAssertions?: { assertions?: Assertion[] } };
    }[];
    for (const input of inputs ?? []) {
      const assertions = input.inputFacets?.dataQualityAssertions?.assertions ?? [];
      if (assertions.length === 0) continue;
      const assetId = await assetOf(input);
      if (!assetId) continue;
      const columns = new Set(
        (await queryRows<{ name: string }>(tx, sql`select name from columns where asset_id = ${assetId}`)).map(
          (c) => c.name,
        ),
      );
      for (const a of assertions) {
        if (typeof a.assertion !== 'string' || typeof a.success !== 'boolean') continue;
        const column = typeof a.column === 'string' ? a.column : null;
        const name = column ? `${a.assertion} on ${column}` : a.assertion;
        const mapped = known[a.assertion];
        const runnable = mapped && column && columns.has(column);
        const [existing] = await tx
          .select({ id: qualityRules.id })
          .from(qualityRules)
          .where(
            and(eq(qualityRules.assetId, assetId), eq(qualityRules.origin, 'openlineage'), eq(qualityRules.name, name)),
          );
        let ruleId = existing?.id;
        if (!ruleId) {
          const [row] = await tx
            .insert(qualityRules)
            .values({
              assetId,
              name,
              type: runnable ? mapped.type : 'external',
              columnName: column,
              config: { openlineage: { assertion: a.assertion } },
              dimension:
                mapped?.dimension ??
                dimensionByWord.find(([w]) => w.test(a.assertion.toLowerCase()))?.[1] ??
                'validity',
              severity: 'warning',
              origin: 'openlineage',
              createdBy: ctx.principal.id,
            })
            .returning({ id: qualityRules.id });
          ruleId = row!.id;
          counts.rules++;
        }
        await tx.insert(qualityResults).values({
          ruleId,
          assetId,
          passed: a.success,
          observedValue: { success: a.success },
          evidence: {
            eventId: event.id,
            runId: event.run_id,
            producer: event.producer,
            summary: `${event.producer ?? 'an OpenLineage producer'} reported the assertion ${a.success ? 'passed' : 'failed'}`,
          },
          ranAt: new Date(event.event_time),
        });
        counts.results++;
      }
    }
  }
  return counts;
}
