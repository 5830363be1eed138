import { withSourceReader } from '../../connectors/source-reader.js';
import { fenceUntrusted } from '../../tool.js';
import { postgresDialect } from '../dialect.js';
import { type Dataset, type DatasetColumn, isAmountColumn, isDateColumn } from './suggest-catalog.js';
import { mentions, singular, wordsOf } from './suggest-goal.js';
import type { Planning } from './suggest-planning.js';

/** Which columns of the measured dataset an aggregate uses: the date of its period, the amount, a fitting status. */

/**
 * The date the period is taken from: one named like the goal's words ("paid_on" for spend); for a count, the
 * date a row came to be (created, received, requested…); never a housekeeping time (updated_at, loaded_at);
 * else the first date.
 */
export function pickDate(
  fact: Dataset,
  subject: string[],
  measure: { fn: string; word: string },
): DatasetColumn | null {
  const dates = fact.columns.filter(isDateColumn);
  const arrival = /^(created|opened|submitted|requested|received|issued|shipped|ordered|filed|reported)$/;
  const score = (c: DatasetColumn) => {
    const words = wordsOf(c.name);
    const goalWord = [...subject, measure.word].some((w) => mentions(words, w)) ? 4 : 0;
    const born = measure.fn === 'count' && words.some((w) => arrival.test(w)) ? 2 : 0;
    const housekeeping = /^(updated|modified|loaded|inserted|deleted|synced)_/.test(c.name) ? -3 : 0;
    const dated = /(date|_on|_at|day)$/.test(c.name) ? 1 : 0;
    return goalWord + born + housekeeping + dated;
  };
  return dates.reduce<DatasetColumn | null>((top, c) => (!top || score(c) > score(top) ? c : top), null);
}

/** The amount measured: one named like the goal's words, else the first amount-like column. */
export function pickAmount(fact: Dataset, subject: string[], measureWord: string): DatasetColumn | null {
  const amounts = fact.columns.filter(isAmountColumn);
  const named = amounts.find((c) => [...subject, measureWord].some((w) => mentions(wordsOf(c.name), w)));
  return named ?? amounts[0] ?? null;
}

/** The measure's column name: the goal's noun ("spend"), else `total_amount`, `average_amount`, `payment_count`… */
export function nameMeasure(
  measure: { fn: string; word: string },
  amount: DatasetColumn | null,
  fact: Dataset,
  taken: Set<string>,
): string {
  const nouns = new Set(['spend', 'spent', 'spending', 'cost', 'costs', 'revenue', 'value']);
  let name =
    measure.fn === 'count'
      ? `${singular(fact.name)}_count`
      : nouns.has(measure.word)
        ? measure.word.replace(/^spent$|^spending$/, 'spend')
        : `${{ sum: 'total', avg: 'average', min: 'min', max: 'max' }[measure.fn]}_${amount!.name}`;
  name = name.slice(0, 63);
  return taken.has(name) ? `${name.slice(0, 57)}_value` : name;
}

/**
 * A status that clearly fits the measure ("spend" and a status value "Paid"): rows with that status only,
 * said in the explanation. The values are read from a sample of the table, where the data lives; a table
 * that cannot be read now just gets no filter (and the explanation says so).
 */
export async function statusFilter(planning: Planning, fact: Dataset, measureWord: string) {
  const column = fact.columns.find(
    (c) => /(^|_)status$/.test(c.name) && /^(text|character|varchar)/.test(c.type) && !c.sensitivity,
  );
  if (!column) return null;
  const q = postgresDialect.quote;
  let values: string[];
  try {
    const rows = await withSourceReader(planning.ctx, fact.sourceId, (reader) =>
      reader.query<{ value: string | null }>(
        `select distinct ${q(column.name)} as value from (select ${q(column.name)} from ${q(fact.namespace)}.${q(fact.name)} limit 100000) s limit 50`,
      ),
    );
    values = rows
      .map((r) => r.value)
      .filter((v): v is string => typeof v === 'string')
      .sort();
  } catch {
    planning.explain.push(
      `\`${column.name}\` may say which rows count, but its values could not be read now, so no rows are filtered out.`,
    );
    return null;
  }
  const fitting = values.filter((v) => mentions(wordsOf(v), measureWord));
  if (fitting.length !== 1) return null;
  const value = fitting[0]!;
  const othersSeen = values.filter((v) => v !== value);
  planning.explain.push(
    `"${measureWord}" → keep only rows whose \`${column.name}\` is ${fenceUntrusted(value)}` +
      (othersSeen.length ? ` (it also holds ${othersSeen.map(fenceUntrusted).join(', ')})` : '') +
      `; remove the filter node to count every row.`,
  );
  return { column: column.name, value };
}
