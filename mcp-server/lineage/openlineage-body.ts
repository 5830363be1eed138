import { DataOpsError, type ErrorCode, isDataOpsError } from '../../core/errors.js';
import type { ServiceContext } from '../context.js';
import { appendAudit } from '../governance/audit.js';
import { parseJsonLines, parseJsonText } from '../json-text.js';

/** Content types of NDJSON (one event per line), as producers and `curl --data-binary @events.ndjson` send it. */
export const ndjsonContentTypes = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'];

/**
 * The events of a POST to the OpenLineage endpoint: one event or a JSON array of events, or NDJSON when
 * the content type says so. Broken JSON is refused naming the line and column; JSON nested beyond reason
 * is refused before anything recurses through it.
 */
export function parseLineageBody(text: string, contentType: string): unknown[] {
  const what = 'the request body';
  let events: unknown[];
  if (ndjsonContentTypes.includes(contentType)) {
    events = parseJsonLines(text, what, { checkDepth: true });
  } else {
    let body: unknown;
    try {
      body = parseJsonText(text, what, { checkDepth: true });
    } catch (error) {
      // One event per line sent as application/json: say how to send it.
      if (isDataOpsError(error) && /unexpected text after the end/.test(error.message)) {
        throw new DataOpsError(
          'invalid_input',
          `${error.message} (for one event per line, send Content-Type: application/x-ndjson)`,
          { cause: error },
        );
      }
      throw error;
    }
    events = Array.isArray(body) ? body : [body];
  }
  if (events.length === 0) throw new DataOpsError('invalid_input', 'the request body has no OpenLineage events');
  return events;
}

/**
 * Records a refused POST of lineage events (unreadable, invalid or not allowed) with its outcome, as a
 * refused tool call is: who tried, when, and why it failed. A lost audit row goes to the operator's log,
 * the caller still sees the reason the events were refused.
 */
export async function auditRefusedLineage(ctx: ServiceContext, error: unknown): Promise<void> {
  const outcome: ErrorCode = isDataOpsError(error) ? error.code : 'internal';
  await ctx.db
    .transaction((tx) =>
      appendAudit(tx, {
        actorId: ctx.principal.id,
        action: 'lineage.ingest',
        at: ctx.clock(),
        details: { origin: 'openlineage', outcome },
      }),
    )
    .catch((auditError: unknown) => {
      ctx.logger.error('could not audit refused lineage events', { error: String(auditError) });
    });
}
