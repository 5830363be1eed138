import { sql } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../../db/create-db.js';
import { createTestDb } from '../../test/helpers/test-db.js';
import { checkExpression, renderExpression } from './rules-expression.js';

/**
 * `date_trunc` cuts a date or time to the start of its period: what a pipeline derives for "monthly" or
 * "quarterly". MySQL has no such function, so its rendering is built from date_format and friends; both
 * renderings run on a real database here and must start the same periods.
 */
const moment = '2024-05-15 13:45:30'; // a Wednesday
const periods: Record<string, string> = {
  year: '2024-01-01 00:00:00',
  quarter: '2024-04-01 00:00:00',
  month: '2024-05-01 00:00:00',
  week: '2024-05-13 00:00:00',
  day: '2024-05-15 00:00:00',
  hour: '2024-05-15 13:00:00',
  minute: '2024-05-15 13:45:00',
};

describe('date_trunc in rule and pipeline expressions', () => {
  let database: Database;
  let maria: mysql.Connection;

  beforeAll(async () => {
    database = await createTestDb();
    maria = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', dateStrings: true });
  });
  afterAll(async () => {
    await maria?.end();
    await database?.close();
  });

  it('accepts a known period over a column and refuses any other first argument', async () => {
    const checked = await checkExpression("date_trunc('month', paid_on)", ['paid_on']);
    expect(checked.columns).toEqual(['paid_on']);
    await expect(checkExpression("date_trunc('fortnight', paid_on)", ['paid_on'])).rejects.toThrow(
      /date_trunc takes a period \(year, quarter, month, week, day, hour, minute\)/,
    );
    await expect(checkExpression('date_trunc(paid_on, paid_on)', ['paid_on'])).rejects.toThrow(/takes a period/);
    await expect(checkExpression("date_trunc('month')", ['paid_on'])).rejects.toThrow(/takes a period/);
    await expect(checkExpression("date_trunc('month', secret)", ['paid_on'])).rejects.toThrow(
      /"secret" is not a column/,
    );
  });

  it('starts the same period on Postgres and on MySQL (MariaDB), for a column and for a bound constant', async () => {
    for (const [period, start] of Object.entries(periods)) {
      const onColumn = await checkExpression(`date_trunc('${period}', t)`, ['t']);
      const pg = renderExpression(onColumn, 'postgres', () => {
        throw new Error('no constant is bound for a column');
      });
      const [fromPostgres] = await queryRows<{ v: string }>(
        database.db,
        sql.raw(`select to_char(${pg}, 'YYYY-MM-DD HH24:MI:SS') as v from (select timestamp '${moment}' as "t") s`),
      );
      expect(fromPostgres!.v, `${period} on Postgres`).toBe(start);

      const my = renderExpression(onColumn, 'mysql', () => '?');
      const [rows] = await maria.query(`select cast(${my} as char) as v from (select timestamp '${moment}' as t) s`);
      expect((rows as { v: string }[])[0]!.v, `${period} on MySQL: ${my}`).toBe(start);

      // A constant argument is bound once per place the MySQL rendering uses it (quarter and week use it twice).
      const onConstant = await checkExpression(`date_trunc('${period}', cast('${moment}' as timestamp))`, []);
      const params: unknown[] = [];
      const bound = renderExpression(onConstant, 'mysql', (v) => {
        params.push(v);
        return '?';
      });
      expect(params.length, period).toBe(bound.split('?').length - 1);
      const [constantRows] = await maria.query(`select cast(${bound} as char) as v`, params);
      expect((constantRows as { v: string }[])[0]!.v, `${period} on MySQL with a bound constant`).toBe(start);
    }
  });
});
