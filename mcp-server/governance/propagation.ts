import { eq, sql } from 'drizzle-orm';
import { queryRows, type Tx, textArray } from '../../db/create-db.js';
import { activityEvents, assets, classificationEvents } from '../../db/schema/index.js';
import { type Classification, classificationLevels } from '../../db/schema/types.js';
import { appendAudit } from './audit.js';

/**
 * Propagation of markings through lineage: a derived asset carries at least the highest marking of the
 * assets it derives from (current `derives` edges), unless a steward downgraded it and no input has risen
 * above the marking the downgrade was made against. Called when a marking rises and when lineage is recorded.
 */

/** Who propagation acts as in the audit log when lineage, not a person, raises a marking. */
export const propagationActor = 'system:lineage';

/** Re-checks what derives from `sourceIds` (their marking rose). Returns the assets raised. */
export function propagateFrom(tx: Tx, actorId: string, sourceIds: string[], now: Date) {
  return propagate(
    tx,
    actorId,
    sql`select e.to_asset_id from lineage_edges e
    where e.from_asset_id = any(${textArray(sourceIds)}::uuid[]) and e.kind = 'derives' and e.valid_to is null`,
    now,
  );
}

/** Checks `targetIds` themselves (new lineage into them was recorded), then what derives from them. */
export function propagateInto(tx: Tx, actorId: string, targetIds: string[], now: Date) {
  return propagate(tx, actorId, sql`select unnest(${textArray(targetIds)}::uuid[])`, now);
}

/**
 * Raises, level by level, every asset whose inputs carry a higher marking than it does, unless a standing
 * downgrade covers that level. Each raise is recorded (event, activity, audit). It ends: a raise only
 * ever increases a marking, and markings are bounded.
 */
async function propagate(tx: Tx, actorId: string, candidates: ReturnType<typeof sql>, now: Date) {
  const raised: { urn: string; from: Classification; to: Classification }[] = [];
  let next: ReturnType<typeof sql> | null = candidates;
  while (next) {
    const rows: PropagationCandidate[] = await queryRows<PropagationCandidate>(
      tx,
      sql`select c.id::text, c.urn, c.qualified_name as "qualifiedName", c.classification::text as current,
            top.classification::text as "inputLevel",
            ev.kind as "lastKind", ev.details->>'inputLevel' as "downgradedAgainst"
          from assets c
          cross join lateral (select max(i.classification) as classification
            from lineage_edges e join assets i on i.id = e.from_asset_id
            where e.to_asset_id = c.id and e.kind = 'derives' and e.valid_to is null) top
          left join lateral (select kind, details from classification_events x
            where x.asset_id = c.id and x.column_name is null order by x.created_at desc, x.id desc limit 1) ev on true
          where c.id in (${next}) and top.classification > c.classification
          for update of c`,
    );
    const rising: PropagationCandidate[] = rows.filter(
      (r) => !(r.lastKind === 'downgraded' && level(r.inputLevel) <= level(r.downgradedAgainst ?? 'U')),
    );
    for (const r of rising) {
      await tx.update(assets).set({ classification: r.inputLevel, updatedAt: now }).where(eq(assets.id, r.id));
      // The reason names no input: a reader of the derived asset may not be allowed to know of it.
      const reason = `an asset it derives from is marked ${r.inputLevel}`;
      await tx.insert(classificationEvents).values({
        assetId: r.id,
        from: r.current,
        to: r.inputLevel,
        kind: 'propagated',
        reason,
        actorId,
        createdAt: now,
      });
      await recordMarkingChange(
        tx,
        actorId,
        'Lineage',
        { id: r.id, urn: r.urn },
        r.current,
        r.inputLevel,
        'propagated',
        reason,
        now,
      );
      raised.push({ urn: r.urn, from: r.current, to: r.inputLevel });
    }
    next =
      rising.length > 0
        ? sql`select e.to_asset_id from lineage_edges e where e.from_asset_id = any(${textArray(rising.map((r) => r.id))}::uuid[])
            and e.kind = 'derives' and e.valid_to is null`
        : null;
  }
  return raised;
}

export async function recordMarkingChange(
  tx: Tx,
  actorId: string,
  actorName: string,
  asset: { id: string; urn: string },
  from: Classification,
  to: Classification,
  kind: 'set' | 'downgraded' | 'propagated',
  reason: string | null,
  now: Date,
) {
  const verb =
    kind === 'downgraded' ? 'downgraded the marking' : kind === 'propagated' ? 'raised the marking' : 'set the marking';
  await tx.insert(activityEvents).values({
    assetId: asset.id,
    type: 'classification_changed',
    actorId,
    summary: `${actorName} ${verb} from ${from} to ${to}${reason ? `: ${reason}` : ''}`,
    details: { from, to, kind, reason },
    at: now,
  });
  await appendAudit(tx, {
    actorId,
    action:
      kind === 'downgraded'
        ? 'classification.downgrade'
        : kind === 'propagated'
          ? 'classification.propagate'
          : 'classification.set',
    targetUrn: asset.urn,
    details: { from, to, reason },
    at: now,
  });
}

interface PropagationCandidate {
  id: string;
  urn: string;
  qualifiedName: string;
  current: Classification;
  inputLevel: Classification;
  lastKind: string | null;
  downgradedAgainst: Classification | null;
}

export function level(marking: Classification): number {
  return classificationLevels.indexOf(marking);
}
