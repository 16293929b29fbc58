import { NonRetryableError } from '../domain/errors';
import type { SqlParams } from '../warehouse/params';
import type { Warehouse } from '../warehouse/warehouse';
import { DEFAULT_MOBILE_NUMBER, MARKET_PRICE_LEVELS, MOBILE_NUMBERS } from './model';
import type { ResolvedDatasetOptions } from './options';
import { fnv1a32, SqlRandom } from './random';
import { caseOverCumulative, int, lookup, num, timestampAt } from './sql';

/** Tables the generator builds along the way and drops at the end */
export type WorkTable = 'users' | 'orders' | 'session_keys' | 'sessions';

/** Everything a generation stage needs: the warehouse, the options, the randomness and the bound values. */
export interface SimContext {
  readonly wh: Warehouse;
  readonly options: ResolvedDatasetOptions;
  readonly random: SqlRandom;
  readonly params: SqlParams;
  /** Quoted name of a table in the target schema */
  table(name: string): string;
  /** Quoted name of a work table (in the run's in-memory work database) */
  work(name: WorkTable): string;
  /** SQL: the timestamp `seconds` (an integer expression) after midnight of the start date */
  timestampAt(seconds: string): string;
  /** Day index (from the start date) where drift begins, or null without drift */
  readonly driftFromDay: number | null;
  /** The drift strength of a feature, or 0 when it is not shifted */
  driftStrength(feature: string): number;
  /** SQL: the market code of a market index */
  marketOf(indexExpr: string): string;
  /** SQL: a market index drawn with the market weights from a uniform */
  marketIndex(u: string): string;
  /** SQL: the price level of a market index */
  priceLevelOf(indexExpr: string): string;
  /** SQL: the mobile number prefix of a market index */
  phonePrefixOf(indexExpr: string): string;
  /** SQL: how many digits follow the prefix in a market's mobile numbers */
  phoneDigitsOf(indexExpr: string): string;
}

/**
 * Work tables live in an in-memory database attached for the run (attached
 * databases are shared by all connections of a DuckDB instance): they never
 * touch the warehouse file, which saves writing and compressing millions of
 * rows that are dropped at the end anyway. Keyed by the target schema.
 */
export function workDatabaseName(schema: string): string {
  return `aimo_sim_work_${fnv1a32(schema).toString(16)}`;
}

export function assertDuckDb(wh: Warehouse): void {
  if (wh.dialect.name !== 'duckdb') {
    throw new NonRetryableError(
      'UnsupportedWarehouse',
      `the simulator generates data with DuckDB SQL, not ${wh.dialect.name}: generate into DuckDB and load the tables, or point aimo at your real sources`,
    );
  }
}

export function daysBetween(fromIso: string, toIso: string): number {
  return Math.round((Date.parse(`${toIso}T00:00:00Z`) - Date.parse(`${fromIso}T00:00:00Z`)) / 86_400_000);
}

/** Earlier markets are bigger: weights 1, 1/1.5, 1/2, ... */
export function marketWeights(count: number): number[] {
  return Array.from({ length: count }, (_, k) => 1 / (1 + 0.5 * k));
}

export function createContext(wh: Warehouse, options: ResolvedDatasetOptions): SimContext {
  const d = wh.dialect;
  const markets = options.markets;
  const params: Record<string, string> = { start_date: options.startDate };
  markets.forEach((m, k) => {
    params[`market_${k}`] = m;
    params[`phone_prefix_${k}`] = (MOBILE_NUMBERS[m] ?? DEFAULT_MOBILE_NUMBER).prefix;
  });
  const byIndex = (indexExpr: string, value: (k: number) => string) =>
    lookup(
      indexExpr,
      markets.map((_, k) => [int(k), value(k)] as const),
    );
  const drift = options.drift;
  return {
    wh,
    options,
    random: new SqlRandom(options.seed),
    params,
    table: (name) => d.table({ schema: options.schema, name }),
    work: (name) => `${d.quote(workDatabaseName(options.schema))}.${d.quote('main')}.${d.quote(name)}`,
    timestampAt: (seconds) => timestampAt(Date.parse(`${options.startDate}T00:00:00Z`) / 1000, seconds),
    driftFromDay: drift ? daysBetween(options.startDate, drift.fromDate) : null,
    driftStrength: (feature) => (drift && (drift.features as readonly string[]).includes(feature) ? drift.strength : 0),
    marketOf: (indexExpr) => byIndex(indexExpr, (k) => `@market_${k}`),
    marketIndex: (u) =>
      caseOverCumulative(
        u,
        marketWeights(markets.length),
        markets.map((_, k) => int(k)),
      ),
    priceLevelOf: (indexExpr) => byIndex(indexExpr, (k) => num(MARKET_PRICE_LEVELS[k % MARKET_PRICE_LEVELS.length]!)),
    phonePrefixOf: (indexExpr) => byIndex(indexExpr, (k) => `@phone_prefix_${k}`),
    phoneDigitsOf: (indexExpr) => byIndex(indexExpr, (k) => int((MOBILE_NUMBERS[markets[k]!] ?? DEFAULT_MOBILE_NUMBER).digits)),
  };
}
