import { z } from 'zod';
import { DataOpsError } from '../../core/errors.js';

/**
 * OpenLineage events (spec 2-0-2): RunEvent, JobEvent and DatasetEvent, with the facets the catalog reads
 * or that the spec gives a shape. Lenient where real producers are sloppy: an eventTime without a time
 * zone is UTC, `_producer`/`_schemaURL`/`producer`/`schemaURL` may be missing, unknown facets and fields are
 * kept as they are. Strict where meaning would be lost: a RunEvent (any event with an eventType) needs its run
 * id, a UUID, and a known facet
 * with the wrong shape (an owner without a name, a row count that is not a number) is refused, naming the field.
 */

type Issue = { input?: unknown };
const expect = (what: string) => ({
  error: (issue: Issue) => (issue.input === undefined ? 'is required' : `must be ${what}`),
});

const text = () => z.string(expect('a string'));
const name = () => text().min(1, 'must not be empty');
const integer = () => z.number(expect('an integer')).int('must be an integer');
const number = () => z.number(expect('a number'));
const bool = () => z.boolean(expect('true or false'));
const list = <T extends z.ZodType>(item: T) => z.array(item, expect('a list'));
const object = <S extends z.ZodRawShape>(shape: S) => z.looseObject(shape, expect('an object'));
const map = <T extends z.ZodType>(value: T) => z.record(z.string(), value, expect('an object'));

/** A facet the spec describes: checked when present, unless the producer deletes it (`_deleted: true`). */
const facet = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (value) =>
      value && typeof value === 'object' && (value as { _deleted?: unknown })._deleted === true ? undefined : value,
    schema.optional(),
  );

const owners = object({ owners: list(object({ name: name(), type: text().optional() })).optional() });
const documentation = object({ description: text() });

export const transformationTypes = ['DIRECT', 'INDIRECT'] as const;

const inputField = object({
  namespace: name(),
  name: name(),
  field: name(),
  transformations: list(
    object({
      type: z.enum(transformationTypes, { error: () => 'must be DIRECT or INDIRECT' }),
      subtype: text().optional(),
      description: text().nullish(),
      masking: bool().optional(),
    }),
  ).optional(),
});

type SchemaField = { name: string; type?: string; description?: string | null; fields?: SchemaField[] };
const schemaField: z.ZodType<SchemaField> = z.lazy(() =>
  object({
    name: name(),
    type: text().nullish(),
    description: text().nullish(),
    ordinal_position: integer().optional(),
    fields: list(schemaField).optional(),
  }),
) as z.ZodType<SchemaField>;

const datasetFacets = object({
  schema: facet(object({ fields: list(schemaField).optional() })),
  documentation: facet(documentation),
  ownership: facet(owners),
  columnLineage: facet(
    object({
      fields: map(
        object({
          inputFields: list(inputField),
          transformationDescription: text().nullish(),
          transformationType: text().nullish(),
        }),
      ),
      dataset: list(inputField).optional(),
    }),
  ),
  dataSource: facet(object({ name: text().optional(), uri: text().optional() })),
  datasetType: facet(object({ datasetType: text(), subType: text().nullish() })),
});

const inputFacets = object({
  dataQualityMetrics: facet(
    object({
      rowCount: integer().optional(),
      bytes: integer().optional(),
      fileCount: integer().optional(),
      lastUpdated: text().optional(),
      columnMetrics: map(
        object({
          nullCount: integer().optional(),
          distinctCount: integer().optional(),
          sum: number().optional(),
          count: number().optional(),
          min: number().optional(),
          max: number().optional(),
          quantiles: map(number()).optional(),
        }),
      ).optional(),
    }).refine((f) => f.columnMetrics !== undefined || f.rowCount !== undefined, {
      // The spec requires columnMetrics; OpenLineage's own full example sends rowCount alone, so either will do.
      message: 'needs columnMetrics or rowCount: without them it measures nothing',
    }),
  ),
  dataQualityAssertions: facet(
    object({
      assertions: list(object({ assertion: name(), success: bool(), column: text().nullish() })),
    }),
  ),
});

const outputFacets = object({
  outputStatistics: facet(
    object({ rowCount: integer().optional(), size: integer().optional(), fileCount: integer().optional() }),
  ),
});

const dataset = object({
  namespace: name(),
  name: name(),
  facets: datasetFacets.optional(),
});
const inputDataset = dataset.extend({ inputFacets: inputFacets.optional() });
const outputDataset = dataset.extend({ outputFacets: outputFacets.optional() });

const jobFacets = object({
  documentation: facet(documentation),
  ownership: facet(owners),
  sql: facet(object({ query: text(), dialect: text().nullish() })),
  jobType: facet(object({ processingType: text(), integration: text(), jobType: text().nullish() })),
  sourceCodeLocation: facet(object({ type: text(), url: text() })),
  sourceCode: facet(object({ language: text(), sourceCode: text() })),
});

const job = object({ namespace: name(), name: name(), facets: jobFacets.optional() });

const runFacets = object({
  parent: facet(
    object({
      run: object({ runId: name() }),
      job: object({ namespace: name(), name: name() }),
      root: object({
        run: object({ runId: name() }),
        job: object({ namespace: name(), name: name() }),
      }).optional(),
    }),
  ),
  nominalTime: facet(object({ nominalStartTime: text(), nominalEndTime: text().nullish() })),
  errorMessage: facet(object({ message: text(), programmingLanguage: text().nullish() })),
});

export const runStates = ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'] as const;
export type RunState = (typeof runStates)[number];

const base = {
  eventTime: text(),
  producer: text().optional(),
  schemaURL: text().optional(),
};

const runEvent = object({
  ...base,
  eventType: z.enum(runStates, { error: () => `must be one of ${runStates.join(', ')}` }).optional(),
  run: object({ runId: name(), facets: runFacets.optional() }),
  job,
  inputs: list(inputDataset).nullish(),
  outputs: list(outputDataset).nullish(),
});

const jobEvent = object({
  ...base,
  job,
  inputs: list(inputDataset).nullish(),
  outputs: list(outputDataset).nullish(),
});

const datasetEvent = object({ ...base, dataset });

export type InputField = z.infer<typeof inputField>;
export type DatasetFacets = z.infer<typeof datasetFacets>;
export type ColumnLineageFacet = NonNullable<DatasetFacets['columnLineage']>;
export type Dataset = z.infer<typeof dataset>;
export type OutputDataset = z.infer<typeof outputDataset>;
export type Job = z.infer<typeof job>;

interface Common {
  /** The event exactly as received (unknown facets included), for storage. */
  raw: Record<string, unknown>;
  eventTime: Date;
  producer: string | null;
}

export type OpenLineageEvent =
  | (Common & { category: 'run'; event: z.infer<typeof runEvent> })
  | (Common & { category: 'job'; event: z.infer<typeof jobEvent> })
  | (Common & { category: 'dataset'; event: z.infer<typeof datasetEvent> });

/**
 * Validates one OpenLineage event. Throws an `invalid_input` error whose message names the field and
 * says what is wrong, e.g. `outputs[0].facets.ownership.owners[0].name is required`.
 */
export function parseOpenLineageEvent(raw: unknown): OpenLineageEvent {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid('an OpenLineage event must be a JSON object');
  }
  const record = raw as Record<string, unknown>;
  // Only a RunEvent has an eventType: START without a run is a RunEvent that lost its run, not a JobEvent.
  const category =
    'run' in record || 'eventType' in record ? 'run' : 'dataset' in record ? 'dataset' : 'job' in record ? 'job' : null;
  if (!category) {
    throw invalid(
      'not an OpenLineage event: a RunEvent has run and job, a JobEvent has job, a DatasetEvent has dataset',
    );
  }
  if (category === 'run') {
    const run = record.run as { runId?: unknown } | undefined;
    if (!run || typeof run !== 'object' || run.runId === undefined || run.runId === null) {
      throw invalid('run.runId is required: a RunEvent must say which run it reports on');
    }
    // The spec makes it a UUID, and every producer (and Marquez) sends one; other text is a broken producer.
    if (typeof run.runId !== 'string' || !uuid.test(run.runId)) {
      throw invalid(
        `run.runId must be a UUID such as 0193a8b0-0000-7000-8000-000000000001, not ${JSON.stringify(run.runId).slice(0, 60)}`,
      );
    }
  }
  const schema = category === 'run' ? runEvent : category === 'job' ? jobEvent : datasetEvent;
  const parsed = schema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = formatPath(issue.path);
    throw invalid(`${where ? `${where} ` : ''}${issue.message}`);
  }
  const eventTime = parseEventTime(record.eventTime as string);
  const producer = typeof record.producer === 'string' ? record.producer : null;
  return { category, event: parsed.data, raw: record, eventTime, producer } as OpenLineageEvent;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function invalid(message: string): DataOpsError {
  return new DataOpsError('invalid_input', `invalid OpenLineage event: ${message}`);
}

/** `outputs[0].facets.ownership.owners[0].name` */
function formatPath(path: PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

const isoDateTime = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO 8601 date-time; without a time zone (as Python's client sends) it is taken as UTC. */
export function parseEventTime(value: string): Date {
  const match = isoDateTime.exec(value.trim());
  if (!match) {
    throw invalid(`eventTime must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z, not "${value}"`);
  }
  const [, date, time, zone] = match;
  // Date.parse keeps milliseconds only; longer fractions (microseconds) are cut, not rounded.
  const clock = time!.replace(/(\.\d{3})\d+$/, '$1');
  let offset = (zone ?? 'Z').toUpperCase();
  if (offset !== 'Z') offset = offset.length === 3 ? `${offset}:00` : offset.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const parsed = new Date(`${date}T${clock}${offset}`);
  if (Number.isNaN(parsed.getTime())) {
    throw invalid(`eventTime must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z, not "${value}"`);
  }
  return parsed;
}
