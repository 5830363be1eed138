import { describe, expect, it } from 'vitest';
import { analyzeQuery, type QueryLineage } from './sql-lineage.js';
import { mysqlToPostgres } from './view-lineage.js';

const tables: Record<string, string[]> = {
  'public.orders': ['id', 'customer_id', 'amount', 'placed_at', 'status'],
  'public.customers': ['id', 'name', 'region'],
  'archive.orders': ['id', 'customer_id', 'amount', 'placed_at', 'status'],
  'public.employees': ['id', 'manager_id', 'name'],
};

function analyze(sql: string): Promise<QueryLineage> {
  return analyzeQuery(sql, ({ schema, name }) => {
    const key = `${schema ?? 'public'}.${name}`;
    return tables[key] ? { id: key, columns: tables[key] } : undefined;
  });
}

/** Output column -> its sources as `relation.column SUBTYPE`. */
function columns(lineage: QueryLineage): Record<string, string[]> {
  return Object.fromEntries(
    lineage.columns.map((c) => [c.name, c.sources.map((s) => `${s.relation}.${s.column} ${s.subtype}`).sort()]),
  );
}

function indirect(lineage: QueryLineage): string[] {
  return lineage.indirect.map((s) => `${s.relation}.${s.column} ${s.subtype}`).sort();
}

describe('column lineage of a SELECT', () => {
  it('merges both branches of a UNION by position', async () => {
    const lineage = await analyze(
      'select id, amount from orders union all select id, amount * 1.1 from archive.orders where status = $1',
    );
    expect(columns(lineage)).toEqual({
      id: ['archive.orders.id IDENTITY', 'public.orders.id IDENTITY'],
      amount: ['archive.orders.amount TRANSFORMATION', 'public.orders.amount IDENTITY'],
    });
    expect(indirect(lineage)).toEqual(['archive.orders.status FILTER']);
  });

  it('expands * through a subquery in FROM and keeps the subquery’s filters', async () => {
    const lineage = await analyze(
      'select * from (select o.id, c.name as customer from orders o join customers c on c.id = o.customer_id where o.amount > 0) big',
    );
    expect(columns(lineage)).toEqual({
      id: ['public.orders.id IDENTITY'],
      customer: ['public.customers.name IDENTITY'],
    });
    expect(indirect(lineage)).toEqual([
      'public.customers.id JOIN',
      'public.orders.amount FILTER',
      'public.orders.customer_id JOIN',
    ]);
  });

  it('follows a recursive CTE and a correlated scalar subquery', async () => {
    const lineage = await analyze(`
      with recursive chain(id, name, depth) as (
        select id, name, 0 from employees where manager_id is null
        union all
        select e.id, e.name, c.depth + 1 from employees e join chain c on e.manager_id = c.id)
      select name, depth, (select count(*) from orders o where o.customer_id = chain.id) as orders from chain`);
    expect(columns(lineage)).toEqual({
      name: ['public.employees.name IDENTITY'],
      depth: [],
      orders: [],
    });
    expect(indirect(lineage)).toEqual(
      expect.arrayContaining(['public.employees.manager_id FILTER', 'public.orders.customer_id FILTER']),
    );
  });

  it('tells aggregation from transformation and records windows and conditions', async () => {
    const lineage = await analyze(`
      select c.region,
             sum(o.amount) filter (where o.status = 'paid') as paid,
             case when count(*) > 10 then 'busy' else c.name end as label,
             row_number() over (partition by c.region order by max(o.placed_at)) as rank
      from orders o join customers c on c.id = o.customer_id group by c.region, c.name`);
    expect(columns(lineage)).toEqual({
      region: ['public.customers.region IDENTITY'],
      paid: ['public.orders.amount AGGREGATION'],
      label: ['public.customers.name TRANSFORMATION'],
      rank: [],
    });
    expect(indirect(lineage)).toEqual(
      expect.arrayContaining([
        'public.orders.status FILTER',
        'public.customers.region WINDOW',
        'public.orders.placed_at WINDOW',
        'public.customers.region GROUP_BY',
      ]),
    );
    expect(lineage.columns.find((c) => c.name === 'paid')?.sql).toBe("sum(o.amount) filter (where o.status = 'paid')");
  });

  it('reports relations it cannot resolve and refuses what is not one SELECT', async () => {
    const lineage = await analyze('select x.a from somewhere.else x join orders o on o.id = x.order_id');
    expect(lineage.unresolved).toEqual(['somewhere.else']);
    expect(lineage.relations).toEqual(['public.orders']);
    await expect(analyze('select 1; select 2')).rejects.toThrow(/expected one SELECT statement, got 2/);
    await expect(analyze('delete from orders')).rejects.toThrow(/expected a SELECT statement, got DeleteStmt/);
    await expect(analyze('select from where')).rejects.toThrow(/could not parse the SQL at character \d+/);
  });

  it('reads MySQL view definitions once their backticks are double quotes', async () => {
    const mysql = "select `shop`.`orders`.`id` AS `id`, 'it''s `quoted`' AS `note` from `shop`.`orders`";
    expect(mysqlToPostgres(mysql)).toBe(
      `select "shop"."orders"."id" AS "id", 'it''s \`quoted\`' AS "note" from "shop"."orders"`,
    );
  });
});
