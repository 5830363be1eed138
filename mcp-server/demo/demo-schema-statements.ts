import { contractsComments } from './contracts-comments.js';
import { contractsConstraints, contractsStatements } from './contracts-statements.js';
import { demoViewStatements } from './demo-view-statements.js';
import { lit } from './deterministic-sql.js';
import { logisticsComments } from './logistics-comments.js';
import { logisticsConstraints, logisticsStatements } from './logistics-statements.js';
import { performanceComments } from './performance-comments.js';
import { performanceConstraints, performanceStatements } from './performance-statements.js';
import { personnelComments } from './personnel-comments.js';
import { personnelConstraints, personnelStatements } from './personnel-statements.js';

const schemas: [name: string, description: string][] = [
  ['contracts', 'Contract awards, line items, obligations, payments and vendors. Owner: acquisition data team.'],
  ['performance', 'Contractor performance evaluations, corrective actions and program reviews.'],
  ['personnel', 'People, clearances, units and assignments. Contains PII: need-to-know access only.'],
  ['logistics', 'Depots, NSN catalog, inventory, requisitions, shipments and tracking events.'],
];

/**
 * The SQL statements, in order, that create and fill the demo database: four schemas, about 300,000 rows, views and
 * materialized views, descriptions and planted quality defects. Idempotent as a whole (it starts by dropping the
 * schemas), deterministic, and valid on PostgreSQL 15 through 18 (PGlite). Run them in order on one connection
 * (or in one transaction): the load sets two session settings and resets them at the end.
 */
export function demoSchemaStatements(): string[] {
  const tables = [
    ...personnelStatements(),
    ...contractsStatements(),
    ...performanceStatements(),
    ...logisticsStatements(),
  ];
  const views = demoViewStatements();
  // Fresh statistics, so a connector reading pg_class.reltuples sees real row counts straight away.
  const analyzed = [...tables, ...views].flatMap((statement) => {
    const match = /^CREATE (?:TABLE|MATERIALIZED VIEW) (\S+)/.exec(statement);
    return match?.[1] ? [match[1]] : [];
  });
  return [
    `DROP SCHEMA IF EXISTS ${schemas.map(([name]) => name).join(', ')} CASCADE`,
    // Session settings for the load, reset at the end: JIT compilation costs a Postgres server about a second per
    // big INSERT here and saves nothing; a small statistics sample keeps ANALYZE fast on PGlite.
    'SET jit = off',
    'SET default_statistics_target = 10',
    ...schemas.flatMap(([name, description]) => [
      `CREATE SCHEMA ${name}`,
      `COMMENT ON SCHEMA ${name} IS ${lit(description)}`,
    ]),
    ...tables,
    ...personnelConstraints(),
    ...contractsConstraints(),
    ...performanceConstraints(),
    ...logisticsConstraints(),
    ...views,
    ...personnelComments(),
    ...contractsComments(),
    ...performanceComments(),
    ...logisticsComments(),
    `ANALYZE ${analyzed.join(', ')}`,
    'RESET default_statistics_target',
    'RESET jit',
  ];
}
