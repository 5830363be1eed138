import type {
  DiscoveredAsset,
  DiscoveredAssetKind,
  DiscoveredColumn,
  DiscoveredForeignKey,
  SourceSnapshot,
} from '../../../mcp-server/connectors/types.js';
import { createRng, type Rng } from './prng.js';
import {
  commonColumns,
  type DomainVocabulary,
  domains,
  layers,
  parseColumn,
  shapes,
  splitSpec,
  suffixes,
} from './vocabulary.js';

export interface EstateOptions {
  assets: number;
  seed: number;
  /** Only base tables (the ingestion benchmark creates them for real); otherwise views and materialized views too. */
  tablesOnly?: boolean;
}

/** Generated assets plus the DDL type of each column, which the snapshot does not carry verbatim. */
export interface Estate {
  sources: SourceSnapshot[];
  /** Column DDL types by `source/namespace.name/column`. */
  columnTypes: Map<string, string>;
}

/** Bigger domains hold more tables, as in a real estate (finance and logistics dwarf medical). */
const domainWeights: Record<string, number> = {
  finance: 16,
  contracts: 12,
  logistics: 16,
  personnel: 12,
  readiness: 7,
  maintenance: 12,
  intel: 6,
  facilities: 5,
  medical: 4,
  training: 4,
  cyber: 4,
  acquisition: 4,
};

const suffixPhrase = (suffix: string): string => {
  if (suffix.startsWith('_fy')) return ` for fiscal year ${suffix.slice(3)}`;
  if (/^_q\d$/.test(suffix)) return ` for quarter ${suffix.slice(2)}`;
  if (suffix === '_hist') return ', historical records';
  if (suffix === '_conus') return ' in the continental United States';
  if (suffix === '_oconus') return ' outside the continental United States';
  return '';
};

function weighted<T extends { weight: number }>(rng: Rng, items: readonly T[]): T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let r = rng.next() * total;
  for (const item of items) {
    r -= item.weight;
    if (r < 0) return item;
  }
  return items[items.length - 1]!;
}

/** Deterministically generates `assets` tables and views with about ten columns each, spread over many sources. */
export function generateEstate(options: EstateOptions): Estate {
  const rng = createRng(options.seed);
  const weightedDomains = domains.map((d) => ({ d, weight: domainWeights[d.id] ?? 1 }));
  const bySource = new Map<
    string,
    { snapshot: SourceSnapshot; names: Set<string>; byNamespace: Map<string, DiscoveredAsset[]> }
  >();
  const columnTypes = new Map<string, string>();
  for (let i = 0; i < options.assets; i++) {
    const domain = weighted(rng, weightedDomains).d;
    const system = rng.pick(domain.systems);
    let source = bySource.get(system.name);
    if (!source) {
      source = {
        snapshot: {
          kind: 'postgres',
          name: system.name,
          location: `postgres://${system.name}-db.mil.example:5432/${system.name}`,
          assets: [],
          errors: [],
        },
        names: new Set(),
        byNamespace: new Map(),
      };
      bySource.set(system.name, source);
    }
    const asset = generateAsset(rng, domain, system, source.names, source.byNamespace, options.tablesOnly ?? false);
    source.snapshot.assets.push(asset.discovered);
    source.names.add(`${asset.discovered.namespace}.${asset.discovered.name}`);
    const siblings = source.byNamespace.get(asset.discovered.namespace) ?? [];
    siblings.push(asset.discovered);
    source.byNamespace.set(asset.discovered.namespace, siblings);
    for (const [column, type] of asset.types) {
      columnTypes.set(`${system.name}/${asset.discovered.namespace}.${asset.discovered.name}/${column}`, type);
    }
  }
  return { sources: [...bySource.values()].map((s) => s.snapshot), columnTypes };
}

function generateAsset(
  rng: Rng,
  domain: DomainVocabulary,
  system: DomainVocabulary['systems'][number],
  taken: Set<string>,
  byNamespace: Map<string, DiscoveredAsset[]>,
  tablesOnly: boolean,
): { discovered: DiscoveredAsset; types: Map<string, string> } {
  const layer = weighted(rng, layers);
  const namespace = layer.namespace === 'core' ? domain.id : layer.namespace;
  let entity = splitSpec(rng.pick(domain.entities));
  let shape = splitSpec(rng.pick(shapes));
  let suffix = rng.pick(suffixes);
  let withShape = rng.chance(0.8);
  let name = '';
  for (let attempt = 0; ; attempt++) {
    name = `${layer.prefix}${entity[0]}${withShape ? `_${shape[0]}` : ''}${suffix}`;
    if (attempt >= 6) name = `${name}_${attempt}`;
    if (!taken.has(`${namespace}.${name}`)) break;
    entity = splitSpec(rng.pick(domain.entities));
    shape = splitSpec(rng.pick(shapes));
    suffix = rng.pick(suffixes);
    withShape = rng.chance(0.9);
  }
  let kind: DiscoveredAssetKind = 'table';
  if (!tablesOnly && layer.prefix === 'vw_') kind = 'view';
  else if (!tablesOnly && layer.prefix === 'rpt_' && rng.chance(0.3)) kind = 'materialized_view';

  const about = withShape ? `${shape[1]} ${entity[1]}` : capitalise(entity[1]);
  const description = rng.chance(0.75) ? `${about}${suffixPhrase(suffix)}, from ${system.label}.` : null;
  const { columns, types, foreignKeys } = generateColumns(rng, domain, entity[0], byNamespace.get(namespace) ?? []);
  const rowCount = kind === 'view' ? null : Math.round(10 ** (1 + rng.next() * 7));
  const base = byNamespace.get(namespace)?.[0];
  return {
    discovered: {
      kind,
      namespace,
      name,
      description,
      owner: system.owner,
      definition:
        kind === 'table'
          ? null
          : `SELECT * FROM ${namespace}.${base?.name ?? `${entity[0]}_detail`} WHERE record_status = 'A'`,
      rowCount,
      sizeBytes: rowCount === null ? null : rowCount * rng.int(80, 600),
      lastModified: null,
      properties: {},
      columns,
      foreignKeys: kind === 'table' ? foreignKeys : [],
    },
    types,
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function generateColumns(rng: Rng, domain: DomainVocabulary, entity: string, siblings: DiscoveredAsset[]) {
  // Skewed so most tables are narrow and a few are wide: 4 to 24 columns, about 10 on average.
  const count = 4 + Math.floor(rng.next() ** 2 * 21);
  const pk = rng.chance(0.5) ? 'id' : `${entity.replace(/s$/, '')}_id`;
  const columns: DiscoveredColumn[] = [];
  const types = new Map<string, string>();
  const add = (name: string, type: string, description: string | null, nullable: boolean, isPrimaryKey = false) => {
    if (types.has(name)) return;
    types.set(name, type);
    columns.push({ name, position: columns.length + 1, dataType: type, nullable, isPrimaryKey, description });
  };
  add(pk, 'bigint', rng.chance(0.5) ? 'Surrogate key' : null, false, true);
  const foreignKeys: DiscoveredForeignKey[] = [];
  const referenced = siblings.length > 0 && rng.chance(0.2) ? rng.pick(siblings) : undefined;
  const refPk = referenced?.columns.find((c) => c.isPrimaryKey)?.name;
  if (referenced && refPk) {
    const column = `${referenced.name.slice(0, 50)}_id`;
    add(column, 'bigint', `References ${referenced.namespace}.${referenced.name}`, true);
    foreignKeys.push({
      name: `fk_${column}`.slice(0, 63),
      columns: [column],
      refNamespace: referenced.namespace,
      refName: referenced.name,
      refColumns: [refPk],
    });
  }
  const pool = rng.shuffle([...domain.columns, ...domain.columns, ...commonColumns]);
  for (const spec of pool) {
    if (columns.length >= count) break;
    const c = parseColumn(spec);
    add(c.name, c.type, rng.chance(0.6) ? c.description : null, rng.chance(0.7));
  }
  return { columns, types, foreignKeys };
}

/** Estate totals, for the report. */
export function estateStats(estate: Estate): { sources: number; assets: number; columns: number; foreignKeys: number } {
  let assets = 0;
  let columns = 0;
  let foreignKeys = 0;
  for (const s of estate.sources) {
    assets += s.assets.length;
    for (const a of s.assets) {
      columns += a.columns.length;
      foreignKeys += a.foreignKeys?.length ?? 0;
    }
  }
  return { sources: estate.sources.length, assets, columns, foreignKeys };
}
