import { randomUUID } from 'node:crypto';
import { NonRetryableError } from '../domain/errors';
import { daysBetween } from './calendar';
import type { SqlParams } from '../warehouse/params';
import type { Warehouse } from '../warehouse/warehouse';
import { DEFAULT_MOBILE_NUMBER, MARKET_PRICE_LEVELS, MOBILE_NUMBERS } from './model';
import type { ResolvedDatasetOptions } from './options';
import { fnv1a32, SqlRandom } from './random';
import { caseOverCumulative, int, lookup, num, timestampAt } from './sql';

/**
 * Tables the generator builds along the way and drops at the end: the
 * population, one piece of days' draws, and the rows of that piece as they
 * will be stored (`out_*`), which one transaction moves into the dataset.
 */
export type WorkTable =
  | 'users'
  | 'orders'
  | 'session_keys'
  | 'sessions'
  | 'out_sessions'
  | 'out_events'
  | 'out_orders'
  | 'out_ad_spend'
  | 'out_campaigns'
  | 'out_truth_dataset';

/** Everything a generation stage needs: the warehouse, the options, the randomness and the bound values. */
export interface SimContext {
  readonly wh: Warehouse;
  readonly options: ResolvedDatasetOptions;
  readonly random: SqlRandom;
  readonly params: SqlParams;
  /** Quoted name of a table in the target schema */
  table(name: string): string;
  /** Name of the run's in-memory work database */
  readonly workDatabase: string;
  /** Quoted name of a work table (in the run's in-memory work database) */
  work(name: WorkTable): string;
  /** SQL: the timestamp `seconds` (an integer expression) after midnight of the start date */
  timestampAt(seconds: string): string;
  /** Day index (from the start date) where drift begins, or null without drift */
  readonly driftFromDay: number | null;
  /** The drift strength of a feature, or 0 when it is not shifted */
  driftStrength(feature: string): number;
  /** Day index from which purchases follow the concept-drift hazard, or null without concept drift */
  readonly conceptDriftFromDay: number | null;
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
 * Runs `fn` with the context's work database attached. Work tables live in
 * an in-memory database (attached databases are shared by all connections
 * of a DuckDB instance): they never touch the warehouse file, which saves
 * writing and compressing millions of rows that are dropped at the end
 * anyway. Each run has its own, so two runs never share work tables.
 */
export async function withWorkDatabase<T>(ctx: SimContext, fn: () => Promise<T>): Promise<T> {
  const name = ctx.wh.dialect.quote(ctx.workDatabase);
  await ctx.wh.execute(`ATTACH IF NOT EXISTS ':memory:' AS ${name}`);
  try {
    return await fn();
  } finally {
    await ctx.wh.execute(`DETACH DATABASE IF EXISTS ${name}`);
  }
}

export function assertDuckDb(wh: Warehouse): void {
  if (wh.dialect.name !== 'duckdb') {
    throw new NonRetryableError(
      'UnsupportedWarehouse',
      `the simulator generates data with DuckDB SQL, not ${wh.dialect.name}: generate into DuckDB and load the tables, or point aimo at your real sources`,
    );
  }
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
  const workDatabase = `aimo_sim_work_${fnv1a32(options.schema).toString(16)}_${randomUUID().replace(/-/g, '')}`;
  return {
    wh,
    options,
    random: new SqlRandom(options.seed),
    params,
    table: (name) => d.table({ schema: options.schema, name }),
    workDatabase,
    work: (name) => `${d.quote(workDatabase)}.${d.quote('main')}.${d.quote(name)}`,
    timestampAt: (seconds) => timestampAt(Date.parse(`${options.startDate}T00:00:00Z`) / 1000, seconds),
    driftFromDay: drift ? daysBetween(options.startDate, drift.fromDate) : null,
    driftStrength: (feature) => (drift && (drift.features as readonly string[]).includes(feature) ? drift.strength : 0),
    conceptDriftFromDay: options.conceptDrift ? daysBetween(options.startDate, options.conceptDrift.fromDate) : null,
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
