import { expectationsSchema, type Expectation, type ExpectationResult } from '../domain/quality';
import { NonRetryableError } from '../domain/errors';
import type { Dialect } from '../warehouse/dialect';
import type { TableRef } from '../domain/table-ref';
import type { SqlValue } from '../warehouse/params';
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
 * Runs data-quality expectations against a table. Every row-level
 * expectation (not_null, in_set, between, row_count, freshness) is one
 * aggregate of a single scan, grouped also by each in_set/between check's
 * offending value so its sample comes from that same grouped result. Each
 * unique expectation groups the table by its key once, its duplicated keys
 * sampled from those groups. Values in the specs are bound parameters. The
 * specs are validated again at run time (they often arrive as JSON); a
 * malformed one is a non-retryable error naming the field.
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
  const context: CheckContext = { wh, d: wh.dialect, from: wh.dialect.table(table), sampleSize, now: options.now };
  const scan = await scanTable(context, specs);
  const results: ExpectationResult[] = [];
  for (const [i, spec] of specs.entries()) {
    const outcome = spec.kind === 'unique' ? await checkUnique(context, spec.columns, scan.elementCount) : scan.outcome(i, spec);
    results.push({ name: names[i]!, kind: spec.kind, ...outcome });
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
type RowSpec = Exclude<Expectation, { kind: 'unique' }>;

const percent = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 0);

interface TableScan {
  readonly elementCount: number;
  outcome(index: number, spec: RowSpec): Outcome;
}

/** The SQL condition under which a non-NULL value breaks an in_set or between check, its values bound under @aimo_<i>_… */
function violation(c: CheckContext, i: number, spec: Extract<Expectation, { kind: 'in_set' | 'between' }>, params: Record<string, SqlValue>): string {
  const col = c.d.quote(spec.column);
  if (spec.kind === 'in_set') {
    spec.values.forEach((v, j) => (params[`aimo_${i}_v${j}`] = v));
    return `NOT (${col} IN (${spec.values.map((_, j) => `@aimo_${i}_v${j}`).join(', ')}))`;
  }
  const outside: string[] = [];
  if (spec.min !== undefined) {
    params[`aimo_${i}_min`] = spec.min;
    outside.push(`${col} < @aimo_${i}_min`);
  }
  if (spec.max !== undefined) {
    params[`aimo_${i}_max`] = spec.max;
    outside.push(`${col} > @aimo_${i}_max`);
  }
  return `(${outside.join(' OR ')})`;
}

/** An aggregate of the rows that can be taken in two steps: per group of offending values, then over those groups. */
interface Partial {
  /** The aggregate of the rows of one group */
  readonly first: string;
  /** How the groups' values combine: counts and sums add up, minima and maxima carry over */
  readonly then: 'SUM' | 'MIN' | 'MAX';
  readonly alias: string;
}

const partial = (fn: 'SUM' | 'MIN' | 'MAX', expr: string, alias: string): Partial => ({ first: `${fn}(${expr})`, then: fn, alias });

/**
 * One scan for every row-level expectation. The rows are grouped once by
 * the offending value of every in_set/between check (NULL where a row breaks
 * none, so nearly all rows share one group) with every counter summed per
 * group. The totals and, per check, its most frequent offending values are
 * then GROUPING SETS over those few groups, ranked in the same statement, so
 * the table is read once and at most sampleSize rows per check come back.
 */
async function scanTable(c: CheckContext, specs: readonly Expectation[]): Promise<TableScan> {
  const q = (s: string) => c.d.quote(s);
  const params: Record<string, SqlValue> = {};
  // A column every row has, so the inner SELECT is valid when only row_count asks nothing of the columns.
  const inner: string[] = ['1 AS aimo_one'];
  const partials: Partial[] = [{ first: 'COUNT(*)', then: 'SUM', alias: 'element_count' }];
  const sampled: number[] = [];
  specs.forEach((spec, i) => {
    switch (spec.kind) {
      case 'not_null':
        inner.push(`CASE WHEN ${q(spec.column)} IS NULL THEN 1 ELSE 0 END AS aimo_null_${i}`);
        partials.push(partial('SUM', `aimo_null_${i}`, `unexpected_${i}`));
        break;
      case 'in_set':
      case 'between': {
        const col = q(spec.column);
        const broken = `${col} IS NOT NULL AND ${violation(c, i, spec, params)}`;
        inner.push(`CASE WHEN ${col} IS NULL THEN 1 ELSE 0 END AS aimo_null_${i}`, `CASE WHEN ${broken} THEN 1 ELSE 0 END AS aimo_bad_${i}`);
        partials.push(partial('SUM', `aimo_null_${i}`, `missing_${i}`), partial('SUM', `aimo_bad_${i}`, `unexpected_${i}`));
        if (spec.kind === 'between') {
          inner.push(`${col} AS aimo_value_${i}`);
          partials.push(partial('MIN', `aimo_value_${i}`, `observed_min_${i}`), partial('MAX', `aimo_value_${i}`, `observed_max_${i}`));
        }
        if (c.sampleSize > 0) {
          inner.push(`CASE WHEN ${broken} THEN ${col} END AS aimo_key_${i}`);
          sampled.push(i);
        }
        break;
      }
      case 'freshness':
        inner.push(`${q(spec.column)} AS aimo_latest_${i}`);
        partials.push(partial('MAX', `aimo_latest_${i}`, `latest_${i}`));
        break;
      default:
        break;
    }
  });
  const rowsSql = `SELECT ${inner.join(', ')} FROM ${c.from}`;
  const now = `MAX(${c.d.currentTimestamp()}) AS ${q('warehouse_now')}`;
  let sql: string;
  if (sampled.length === 0) {
    sql = `SELECT ${[...partials.map((p) => `${p.first} AS ${q(p.alias)}`), now].join(',\n  ')}
FROM (${rowsSql}) aimo_rows`;
  } else {
    const keys = sampled.map((i) => `aimo_key_${i}`);
    const byOffence = `SELECT ${[...keys, ...partials.map((p) => `${p.first} AS aimo_p_${p.alias}`)].join(', ')}
FROM (${rowsSql}) aimo_rows
GROUP BY ${keys.join(', ')}`;
    const markers = sampled.map((i) => `${i} AS aimo_set_${i}`);
    const grouped = `SELECT ${[...sampled.flatMap((i) => [`aimo_set_${i} AS ${q(`aimo_set_${i}`)}`, `aimo_key_${i} AS ${q(`aimo_key_${i}`)}`]), ...partials.map((p) => `${p.then}(aimo_p_${p.alias}) AS ${q(p.alias)}`), now].join(',\n  ')}
FROM (SELECT aimo_o.*, ${markers.join(', ')} FROM (${byOffence}) aimo_o) aimo_groups
GROUP BY GROUPING SETS ((), ${sampled.map((i) => `(aimo_set_${i}, aimo_key_${i})`).join(', ')})`;
    // The totals row has every set marker NULL; a sample row its own set's marker and a non-NULL key.
    const totals = sampled.map((i) => `${q(`aimo_set_${i}`)} IS NULL`).join(' AND ');
    const ranks = sampled.map(
      (i) =>
        `CASE WHEN ${q(`aimo_set_${i}`)} IS NOT NULL AND ${q(`aimo_key_${i}`)} IS NOT NULL THEN ROW_NUMBER() OVER (PARTITION BY ${q(`aimo_set_${i}`)}, CASE WHEN ${q(`aimo_key_${i}`)} IS NULL THEN 1 ELSE 0 END ORDER BY ${q('element_count')} DESC, ${q(`aimo_key_${i}`)}) END AS ${q(`aimo_rank_${i}`)}`,
    );
    const keep = sampled.map((i) => `${q(`aimo_rank_${i}`)} <= ${c.sampleSize}`).join(' OR ');
    sql = `SELECT * FROM (SELECT aimo_g.*, ${ranks.join(', ')} FROM (${grouped}) aimo_g) aimo_r WHERE (${totals}) OR ${keep}`;
  }
  const rows = await c.wh.query(sql, params);
  const isTotals = (r: Record<string, unknown>) => sampled.every((i) => r[`aimo_set_${i}`] === null || r[`aimo_set_${i}`] === undefined);
  const totalsRow = rows.find(isTotals) ?? {};
  const samples = new Map<number, Array<{ value: unknown; rank: number }>>();
  for (const r of rows) {
    for (const i of sampled) {
      const rank = r[`aimo_rank_${i}`];
      if (rank !== null && rank !== undefined) samples.set(i, [...(samples.get(i) ?? []), { value: r[`aimo_key_${i}`], rank: toNumber(rank) }]);
    }
  }
  const elementCount = toNumber(totalsRow['element_count']);
  const at = (name: string) => totalsRow[name];
  return {
    elementCount,
    outcome: (i, spec) => {
      switch (spec.kind) {
        case 'not_null': {
          const unexpected = toNumber(at(`unexpected_${i}`));
          return { success: unexpected === 0, unexpectedCount: unexpected, unexpectedPercent: percent(unexpected, elementCount), elementCount, sample: [] };
        }
        case 'in_set':
        case 'between': {
          const missing = toNumber(at(`missing_${i}`));
          const unexpected = toNumber(at(`unexpected_${i}`));
          const observed: Record<string, number | string | null> = { missingCount: missing };
          if (spec.kind === 'between') {
            observed['min'] = observedValue(at(`observed_min_${i}`));
            observed['max'] = observedValue(at(`observed_max_${i}`));
          }
          const sample = (samples.get(i) ?? []).sort((a, b) => a.rank - b.rank).map((s) => s.value);
          return {
            success: unexpected === 0,
            unexpectedCount: unexpected,
            unexpectedPercent: percent(unexpected, elementCount - missing),
            elementCount,
            sample: unexpected > 0 ? sample : [],
            observed,
          };
        }
        case 'row_count':
          return rowCountOutcome(elementCount, spec.min, spec.max);
        case 'freshness':
          return freshnessOutcome(elementCount, at(`latest_${i}`), at('warehouse_now'), spec.maxAgeHours, spec.now === undefined ? c.now : new Date(spec.now));
      }
    },
  };
}

/** One GROUP BY of the key: the totals and the most repeated keys both come from those groups. */
async function checkUnique(c: CheckContext, columns: readonly string[], elementCount: number): Promise<Outcome> {
  const q = (s: string) => c.d.quote(s);
  const cols = columns.map(q);
  const keyAliases = columns.map((_, i) => q(`k${i}`));
  const keyed = cols.map((col) => `${col} IS NOT NULL`).join(' AND ');
  const sql = `WITH aimo_k AS (
  SELECT ${cols.map((col, i) => `${col} AS ${keyAliases[i]}`).join(', ')}, COUNT(*) AS aimo_n
  FROM ${c.from} WHERE ${keyed} GROUP BY ${cols.join(', ')}
)
SELECT 0 AS ${q('is_sample')}, SUM(aimo_n) AS ${q('keyed')},
       SUM(CASE WHEN aimo_n > 1 THEN aimo_n ELSE 0 END) AS ${q('unexpected')},
       SUM(CASE WHEN aimo_n > 1 THEN 1 ELSE 0 END) AS ${q('duplicate_keys')},
       ${keyAliases.map((k, i) => `MIN(CASE WHEN 1 = 0 THEN ${k} END) AS ${q(`k${i}`)}`).join(', ')}, ${c.d.cast('0', 'int')} AS ${q('sample_rank')}
FROM aimo_k
UNION ALL
SELECT * FROM (
  SELECT 1, ${c.d.cast('NULL', 'int')}, ${c.d.cast('NULL', 'int')}, ${c.d.cast('NULL', 'int')}, ${keyAliases.join(', ')},
         ROW_NUMBER() OVER (ORDER BY aimo_n DESC, ${keyAliases.join(', ')}) AS aimo_rank
  FROM aimo_k WHERE aimo_n > 1
) aimo_top WHERE aimo_rank <= ${c.sampleSize}`;
  const rows = await c.wh.query(sql);
  const row = rows.find((r) => toNumber(r['is_sample']) === 0) ?? {};
  const keyedRows = toNumber(row['keyed']);
  const unexpected = toNumber(row['unexpected']);
  const sample = rows
    .filter((r) => toNumber(r['is_sample']) === 1)
    .sort((a, b) => toNumber(a['sample_rank']) - toNumber(b['sample_rank']))
    .map((k) => (columns.length === 1 ? (k['k0'] ?? null) : Object.fromEntries(columns.map((name, i) => [name, k[`k${i}`] ?? null]))));
  return {
    success: unexpected === 0,
    unexpectedCount: unexpected,
    unexpectedPercent: percent(unexpected, keyedRows),
    elementCount,
    sample: c.sampleSize > 0 ? sample : [],
    observed: { duplicateKeys: toNumber(row['duplicate_keys']), missingCount: elementCount - keyedRows },
  };
}

function rowCountOutcome(n: number, min: number | undefined, max: number | undefined): Outcome {
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

function freshnessOutcome(elementCount: number, latestValue: unknown, warehouseNow: unknown, maxAgeHours: number, now: Date | undefined): Outcome {
  const latest = toDate(latestValue);
  const reference = now ?? toDate(warehouseNow);
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
