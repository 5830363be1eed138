/**
 * Import direction, checked by `npm run lint` (docs/architecture.md, "Layers and the import rule"). Layers from the top; a file
 * may import its own layer and the layers below it, never one above. Tests (`test/`, `*.test.ts`) sit at
 * the top wherever they live. Among domain services any file may import any other, as long as no loop forms.
 */
const testCode = '(^test/|\\.test\\.ts$)';

const domain = (names) => `^mcp-server/(${names})/`;

const layers = [
  { name: 'entry', path: '^(bin|cli|evals|scripts)/|^[^/]+\\.ts$' },
  { name: 'channels', path: '^channels/' },
  { name: 'agent', path: '^agent/' },
  { name: 'mcp-adapter', path: '^mcp-server/(server\\.ts$|transports/)' },
  { name: 'runtime', path: '^mcp-server/runtime/' },
  // The tool registry and what runs or lists a tool apart from any transport.
  {
    name: 'tool-registry',
    path: '^mcp-server/(registry\\.ts$|registry/|run-tool\\.ts$|listed-tools\\.ts$|compact-schema\\.ts$|portable-schema\\.ts$)',
  },
  // Views and jobs that combine several domains, and the hooks through which domains react to each other.
  { name: 'above-domains', path: '^mcp-server/(read-models/|scheduler/|domain-hooks\\.ts$)' },
  // Domain services, in tiers: the demo loads every domain; pipelines run quality checks; quality and social
  // build on the catalog. The base tier's folders use each other freely (without loops).
  { name: 'demo', path: domain('demo') },
  { name: 'pipelines', path: domain('pipelines') },
  { name: 'quality-social', path: domain('quality|social') },
  {
    name: 'base-domains',
    path: `${domain('catalog|lineage|governance|connectors|sql')}|^mcp-server/(context|tool|json-text|read-input-file)\\.ts$`,
  },
  { name: 'db', path: '^db/' },
  { name: 'core', path: '^core/' },
];

const upward = layers.slice(1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  severity: 'error',
  comment: `${layer.name} may import only its own layer and those below it (${layers
    .slice(i + 2)
    .map((l) => l.name)
    .join(', ')})`,
  from: { path: layer.path, pathNot: testCode },
  to: { path: layers.slice(0, i + 1).map((l) => `(${l.path})`) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import loops (type-only imports count): move what both sides need into a module below both',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      comment: 'Only tests import test helpers and fixtures',
      from: { pathNot: testCode },
      to: { path: testCode },
    },
    {
      name: 'evals-stand-alone',
      severity: 'error',
      comment: 'Benchmarks and evaluations start from the runtime, never from the CLI or test helpers',
      from: { path: '^evals/' },
      to: { path: '^(test|cli)/' },
    },
    {
      name: 'every-file-in-a-layer',
      severity: 'error',
      comment: 'A new place for code needs a row in `layers` (which decides what it may import and what may import it)',
      from: { pathNot: [...layers.map((l) => l.path), testCode] },
      to: {},
    },
    {
      name: 'core-imports-nothing',
      severity: 'error',
      comment: 'core/ is the kernel below every layer',
      from: { path: '^core/' },
      to: { pathNot: '^(core/|node_modules/)', dependencyTypesNot: ['core'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.dataops|db/migrations|web/)' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports are dependencies too: a loop through types is still a loop.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    cache: false,
  },
};
