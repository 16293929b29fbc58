import { expectationsSchema, type Expectation, type ExpectationResult } from '../domain/quality';
import { NonRetryableError } from '../domain/errors';
import type { Dialect } from '../warehouse/dialect';
import type { TableRef } from '../domain/table-ref';
import type { SqlParams, SqlValue } from '../warehouse/params';
import type { Warehouse } from '../warehouse/warehouse';
import { toNumber } from './sql';


/**
 * Validates expectations from people (plans, config) and names every problem
 * by its field path, e.g. `expectations[2].values: list at least one allowed value`.
 */
export function parseExpectations(input: unknown, path = 'expectations'): Expectation[] {
  const parsed = expectationsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${fieldPath(path, issue.path)}: ${issue.message}`);
  throw new NonRetryableError('InvalidExpectation', `invalid expectations: ${problems.join('; ')}`, { problems });
}

function fieldPath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), root);
}


export interface RunExpectationsOptions {
  /** How many offending values to bring back per expectation */
  readonly sampleSize?: number;
  /** For freshness: the moment ages are measured from (keeps a re-run reproducible) */
  readonly now?: Date;
}

/**
 * Runs data-quality expectations against a table, each compiled to an
 * aggregate query (plus one small query for the sample when something
 * failed). Values in the specs are bound parameters. The specs are validated
 * again at run time (they often arrive as JSON); a malformed one is a
 * non-retryable error naming the field.
 */
export async function runExpectations(
  wh: Warehouse,
  table: TableRef,
  expectations: readonly Expectation[],
  options: RunExpectationsOptions = {},
): Promise<ExpectationResult[]> {
  const specs = parseExpectations(expectations);
  const sampleSize = options.sampleSize ?? 5;
  if (!(Number.isInteger(sampleSize) && sampleSize >= 0 && sampleSize <= 1000)) {
    throw new NonRetryableError('InvalidArgument', `sampleSize must be an integer from 0 to 1000, got ${sampleSize}`);
  }
  const names = uniqueNames(specs);
  const results: ExpectationResult[] = [];
  for (const [i, spec] of specs.entries()) {
    const context: CheckContext = { wh, d: wh.dialect, from: wh.dialect.table(table), sampleSize, now: options.now };
    results.push({ name: names[i]!, kind: spec.kind, ...(await check(context, spec)) });
  }
  return results;
}

export function expectationName(e: Expectation): string {
  if (e.name) return e.name;
  switch (e.kind) {
    case 'unique':
      return `unique(${e.columns.join(',')})`;
    case 'row_count':
      return 'row_count';
    default:
      return `${e.kind}(${e.column})`;
  }
}

/** Results are stored by name, so two expectations must not share one. */
function uniqueNames(specs: readonly Expectation[]): string[] {
  const counts = new Map<string, number>();
  return specs.map((s) => {
    const base = expectationName(s);
    const n = (counts.get(base) ?? 0) + 1;
    counts.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
}

interface CheckContext {
  readonly wh: Warehouse;
  readonly d: Dialect;
  readonly from: string;
  readonly sampleSize: number;
  readonly now: Date | undefined;
}

type Outcome = Omit<ExpectationResult, 'name' | 'kind'>;

function check(c: CheckContext, e: Expectation): Promise<Outcome> {
  switch (e.kind) {
    case 'not_null':
      return checkNotNull(c, e.column);
    case 'unique':
      return checkUnique(c, e.columns);
    case 'in_set': {
      const params: Record<string, SqlValue> = {};
      e.values.forEach((v, i) => (params[`aimo_v${i}`] = v));
      const col = c.d.quote(e.column);
      return checkRowCondition(c, e.column, `NOT (${col} IN (${e.values.map((_, i) => `@aimo_v${i}`).join(', ')}))`, params);
    }
    case 'between': {
      const col = c.d.quote(e.column);
      const outside = [e.min !== undefined ? `${col} < @aimo_min` : null, e.max !== undefined ? `${col} > @aimo_max` : null].filter(Boolean);
      const params: Record<string, SqlValue> = {};
      if (e.min !== undefined) params['aimo_min'] = e.min;
      if (e.max !== undefined) params['aimo_max'] = e.max;
      return checkRowCondition(c, e.column, `(${outside.join(' OR ')})`, params, true);
    }
    case 'row_count':
      return checkRowCount(c, e.min, e.max);
    case 'freshness':
      return checkFreshness(c, e.column, e.maxAgeHours, e.now === undefined ? c.now : new Date(e.now));
  }
}

const percent = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 0);

async function checkNotNull(c: CheckContext, columnName: string): Promise<Outcome> {
  const q = (s: string) => c.d.quote(s);
  const [row] = await c.wh.query(
    `SELECT COUNT(*) AS ${q('element_count')}, SUM(CASE WHEN ${q(columnName)} IS NULL THEN 1 ELSE 0 END) AS ${q('unexpected')} FROM ${c.from}`,
  );
  const elementCount = toNumber(row?.['element_count']);
  const unexpected = toNumber(row?.['unexpected']);
  return { success: unexpected === 0, unexpectedCount: unexpected, unexpectedPercent: percent(unexpected, elementCount), elementCount, sample: [] };
}

/** in_set and between: rows whose non-NULL value meets `violation`. */
async function checkRowCondition(c: CheckContext, columnName: string, violation: string, params: SqlParams, withRange = false): Promise<Outcome> {
  const q = (s: string) => c.d.quote(s);
  const col = q(columnName);
  const range = withRange ? `, MIN(${col}) AS ${q('observed_min')}, MAX(${col}) AS ${q('observed_max')}` : '';
  const [row] = await c.wh.query(
    `SELECT COUNT(*) AS ${q('element_count')},
            SUM(CASE WHEN ${col} IS NULL THEN 1 ELSE 0 END) AS ${q('missing')},
            SUM(CASE WHEN ${col} IS NOT NULL AND ${violation} THEN 1 ELSE 0 END) AS ${q('unexpected')}${range}
     FROM ${c.from}`,
    params,
  );
  const elementCount = toNumber(row?.['element_count']);
  const missing = toNumber(row?.['missing']);
  const unexpected = toNumber(row?.['unexpected']);
  const sample =
    unexpected > 0 && c.sampleSize > 0
      ? (
          await c.wh.query(
            `SELECT ${col} AS ${q('value')}, COUNT(*) AS ${q('n')} FROM ${c.from}
             WHERE ${col} IS NOT NULL AND ${violation}
             GROUP BY ${col} ORDER BY COUNT(*) DESC, ${col} LIMIT ${c.sampleSize}`,
            params,
          )
        ).map((r) => r['value'])
      : [];
  const observed: Record<string, number | string | null> = { missingCount: missing };
  if (withRange) {
    observed['min'] = observedValue(row?.['observed_min']);
    observed['max'] = observedValue(row?.['observed_max']);
  }
  return {
    success: unexpected === 0,
    unexpectedCount: unexpected,
    unexpectedPercent: percent(unexpected, elementCount - missing),
    elementCount,
    sample,
    observed,
  };
}

async function checkUnique(c: CheckContext, columns: readonly string[]): Promise<Outcome> {
  const q = (s: string) => c.d.quote(s);
  const cols = columns.map(q);
  const keyAliases = columns.map((_, i) => q(`k${i}`));
  const keyed = cols.map((col) => `${col} IS NOT NULL`).join(' AND ');
  const groups = `SELECT ${cols.map((col, i) => `${col} AS ${keyAliases[i]}`).join(', ')}, COUNT(*) AS aimo_n
                  FROM ${c.from} WHERE ${keyed} GROUP BY ${cols.join(', ')}`;
  const [row] = await c.wh.query(
    `SELECT aimo_t.aimo_rows AS ${q('element_count')}, aimo_g.aimo_keyed AS ${q('keyed')},
            aimo_g.aimo_unexpected AS ${q('unexpected')}, aimo_g.aimo_duplicate_keys AS ${q('duplicate_keys')}
     FROM (SELECT COUNT(*) AS aimo_rows FROM ${c.from}) aimo_t
     CROSS JOIN (SELECT SUM(aimo_n) AS aimo_keyed,
                        SUM(CASE WHEN aimo_n > 1 THEN aimo_n ELSE 0 END) AS aimo_unexpected,
                        SUM(CASE WHEN aimo_n > 1 THEN 1 ELSE 0 END) AS aimo_duplicate_keys
                 FROM (${groups}) aimo_k) aimo_g`,
  );
  const elementCount = toNumber(row?.['element_count']);
  const keyedRows = toNumber(row?.['keyed']);
  const unexpected = toNumber(row?.['unexpected']);
  let sample: unknown[] = [];
  if (unexpected > 0 && c.sampleSize > 0) {
    const keys = await c.wh.query(
      `SELECT * FROM (${groups}) aimo_k WHERE aimo_n > 1 ORDER BY aimo_n DESC, ${keyAliases.join(', ')} LIMIT ${c.sampleSize}`,
    );
    sample = keys.map((k) =>
      columns.length === 1 ? (k['k0'] ?? null) : Object.fromEntries(columns.map((name, i) => [name, k[`k${i}`] ?? null])),
    );
  }
  return {
    success: unexpected === 0,
    unexpectedCount: unexpected,
    unexpectedPercent: percent(unexpected, keyedRows),
    elementCount,
    sample,
    observed: { duplicateKeys: toNumber(row?.['duplicate_keys']), missingCount: elementCount - keyedRows },
  };
}

async function checkRowCount(c: CheckContext, min: number | undefined, max: number | undefined): Promise<Outcome> {
  const [row] = await c.wh.query(`SELECT COUNT(*) AS ${c.d.quote('n')} FROM ${c.from}`);
  const n = toNumber(row?.['n']);
  const short = min !== undefined && n < min ? min - n : 0;
  const over = max !== undefined && n > max ? n - max : 0;
  const missBound = short > 0 ? min! : max ?? 0;
  const miss = short + over;
  return {
    success: miss === 0,
    unexpectedCount: miss,
    unexpectedPercent: miss === 0 ? 0 : missBound > 0 ? (100 * miss) / missBound : 100,
    elementCount: n,
    sample: [],
    observed: { rowCount: n, min: min ?? null, max: max ?? null },
  };
}

async function checkFreshness(c: CheckContext, columnName: string, maxAgeHours: number, now: Date | undefined): Promise<Outcome> {
  const q = (s: string) => c.d.quote(s);
  const [row] = await c.wh.query(
    `SELECT COUNT(*) AS ${q('element_count')}, MAX(${q(columnName)}) AS ${q('latest')}, ${c.d.currentTimestamp()} AS ${q('warehouse_now')} FROM ${c.from}`,
  );
  const elementCount = toNumber(row?.['element_count']);
  const latest = toDate(row?.['latest']);
  const reference = now ?? toDate(row?.['warehouse_now']);
  const ageHours = latest && reference ? (reference.getTime() - latest.getTime()) / 3_600_000 : null;
  const fresh = ageHours !== null && ageHours <= maxAgeHours;
  return {
    success: fresh,
    unexpectedCount: fresh ? 0 : 1,
    unexpectedPercent: fresh ? 0 : 100,
    elementCount,
    sample: [],
    observed: {
      latest: latest ? latest.toISOString() : null,
      now: reference ? reference.toISOString() : null,
      ageHours,
      maxAgeHours,
    },
  };
}

function observedValue(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Timestamps arrive as Dates, ISO strings or epoch milliseconds depending on the warehouse client. */
function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (typeof v === 'number') return new Date(v);
  if (typeof v === 'string') {
    // A timestamp without a zone is UTC, as the warehouses store it.
    const text = /[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`;
    const d = new Date(text);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}
