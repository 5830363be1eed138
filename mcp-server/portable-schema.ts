const subschemaMaps = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const subschemaLists = ['anyOf', 'allOf', 'oneOf', 'prefixItems'];
const subschemas = ['items', 'additionalItems', 'contains', 'propertyNames', 'not', 'if', 'then', 'else'];
const booleanValued = ['additionalProperties', 'unevaluatedProperties', 'unevaluatedItems'];
/** Keywords that describe a value rather than constrain it: they stay beside `anyOf`, not inside a branch. */
const annotationKeys = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  '$comment',
]);

/**
 * Rewrites a JSON Schema into the spelling that tool-calling clients with a narrower dialect accept
 * (Gemini's OpenAPI subset, the MCP Inspector's --strict lint): zod writes a nullable field as
 * `type: ["string", "null"]`, which becomes `anyOf` branches of one type each, and an unconstrained
 * `additionalProperties: {}` becomes `true`. Both rewrites accept exactly the same values.
 */
export function portableSchema(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const node: Record<string, unknown> = { ...(schema as Record<string, unknown>) };
  for (const key of subschemaMaps) {
    const map = node[key];
    if (map && typeof map === 'object' && !Array.isArray(map)) {
      node[key] = Object.fromEntries(Object.entries(map).map(([name, sub]) => [name, portableSchema(sub)]));
    }
  }
  for (const key of subschemaLists) {
    if (Array.isArray(node[key])) node[key] = (node[key] as unknown[]).map(portableSchema);
  }
  for (const key of subschemas) {
    if (key in node)
      node[key] = Array.isArray(node[key]) ? (node[key] as unknown[]).map(portableSchema) : portableSchema(node[key]);
  }
  for (const key of booleanValued) {
    const sub = node[key];
    if (sub && typeof sub === 'object' && Object.keys(sub).length === 0) node[key] = true;
    else if (key in node) node[key] = portableSchema(sub);
  }
  if (!Array.isArray(node.type)) return node;
  const outer: Record<string, unknown> = {};
  const inner: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'type') continue;
    if (annotationKeys.has(key)) outer[key] = value;
    else inner[key] = value;
  }
  const types = node.type as string[];
  return {
    ...outer,
    anyOf: types.map((type) => (type === 'null' ? { type } : { type, ...inner })),
  };
}
