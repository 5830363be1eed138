type Schema = Record<string, unknown>;

const schemaMaps = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const schemaLists = new Set(['anyOf', 'allOf', 'oneOf', 'prefixItems']);
const schemaValued = new Set([
  'items',
  'additionalItems',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'additionalProperties',
]);

function isSchema(value: unknown): value is Schema {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

/** Applies `visit` to every subschema (keyword positions only: a property named `description` is a name). */
function mapSchema(schema: unknown, visit: (node: Schema) => Schema): unknown {
  if (!isSchema(schema)) return schema;
  const node: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (schemaMaps.has(key) && isSchema(value)) {
      node[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, mapSchema(sub, visit)]));
    } else if (schemaLists.has(key) && Array.isArray(value)) {
      node[key] = value.map((sub) => mapSchema(sub, visit));
    } else if (schemaValued.has(key)) {
      node[key] = Array.isArray(value) ? value.map((sub) => mapSchema(sub, visit)) : mapSchema(value, visit);
    } else {
      node[key] = value;
    }
  }
  return visit(node);
}

/**
 * Drops what tells a client nothing it must respect: `$schema`, string key names of a JSON object (all keys
 * are strings), `additionalProperties: true` (the default). Output schemas also drop descriptions and
 * `additionalProperties: false`: a model never reads them, and a client validating structuredContent
 * accepts exactly what the server sends either way.
 */
export function compactSchema(schema: unknown, kind: 'input' | 'output'): unknown {
  return mapSchema(schema, (node) => {
    const { $schema: _, ...rest } = node;
    if (isSchema(rest.propertyNames) && Object.keys(rest.propertyNames).join() === 'type') {
      if (rest.propertyNames.type === 'string') delete rest.propertyNames;
    }
    if (rest.additionalProperties === true) delete rest.additionalProperties;
    if (kind === 'output') {
      delete rest.description;
      if (rest.additionalProperties === false) delete rest.additionalProperties;
    }
    return rest;
  });
}

/** Shapes smaller than this stay inline: a `$ref` costs about as much as they do. */
const minSharedBytes = 60;

/**
 * Writes each shape that repeats inside one schema (the five quality dimensions, a node or an edge in every
 * graph) once under `definitions` and refers to it with `$ref`: the same schema, validated the same way.
 */
export function shareRepeatedShapes(schema: unknown): unknown {
  if (!isSchema(schema)) return schema;
  let root: Schema = schema;
  const definitions: Record<string, unknown> = {};
  for (let n = 1; ; n++) {
    const counts = new Map<string, number>();
    const count = (node: Schema) => {
      const text = JSON.stringify(node);
      if (text.length >= minSharedBytes && !('$ref' in node)) counts.set(text, (counts.get(text) ?? 0) + 1);
      return node;
    };
    mapSchema(root, count);
    for (const definition of Object.values(definitions)) mapSchema(definition, count);
    let best: string | undefined;
    let saved = 0;
    for (const [text, times] of counts) {
      const saving = (text.length - 30) * (times - 1) - 30;
      if (times > 1 && text !== JSON.stringify(root) && saving > saved) [best, saved] = [text, saving];
    }
    if (!best) break;
    const name = `s${n}`;
    const replace = (node: Schema): Schema =>
      JSON.stringify(node) === best ? { $ref: `#/definitions/${name}` } : node;
    // The definition is the shape itself, with any shape it contains already shared.
    definitions[name] = JSON.parse(best);
    root = mapSchema(root, replace) as Schema;
    for (const key of Object.keys(definitions)) {
      if (key !== name) definitions[key] = mapSchema(definitions[key], replace);
    }
  }
  return Object.keys(definitions).length ? { ...root, definitions } : root;
}
