import { addDaysIso } from '../domain/dates';
import type { ProgressListener } from '../domain/simulated-market';
import { piecesOf, type DayPiece } from './calendar';
import type { SimContext, WorkTable } from './context';
import { writeEvents, writeOrders, writeSessions } from './stages/activity';
import { buildWorkOrders, buildWorkSessions } from './stages/behaviour';
import { writeAdSpend, writeCampaigns } from './stages/marketing';
import { writeTruthDatasetRow } from './stages/truth';

/** Days [fromDay, toDay) to simulate, as day indexes from the dataset's first day */
export interface DaySpan {
  readonly fromDay: number;
  readonly toDay: number;
  /**
   * fresh: the tables were just created empty, nothing to replace, and the
   * state is written once at the end. append: the tables hold days up to
   * `newestDay`; every piece replaces its rows by key and moves the state on.
   */
  readonly mode: 'fresh' | 'append';
  /** Newest stored day before this call (−1: none) */
  readonly newestDay: number;
}

/** The day-by-day source tables, each with the column that identifies a stored row of a day */
const DAILY_TABLES = [
  { table: 'sessions', out: 'out_sessions', key: 'session_id' },
  { table: 'events', out: 'out_events', key: 'event_id' },
  { table: 'orders', out: 'out_orders', key: 'order_id' },
  // Spend rows are per day and campaign: replacing a day's spend means replacing that date's rows.
  { table: 'ad_spend', out: 'out_ad_spend', key: 'spend_date' },
] as const satisfies readonly { table: string; out: WorkTable; key: string }[];

/** Tables that are a function of the newest day alone, rewritten whole */
const STATE_TABLES = [
  { table: 'campaigns', out: 'out_campaigns' },
  { table: 'truth_dataset', out: 'out_truth_dataset' },
] as const satisfies readonly { table: string; out: WorkTable }[];

/**
 * Simulates the span piece by piece (a piece never crosses a chunk), each
 * stored in one transaction, and returns the rows stored. Work tables must
 * hold the population (buildWorkUsers). A piece that fails leaves the
 * dataset as it was before the piece, state included, so a retry goes on
 * from there.
 */
export async function simulateDays(ctx: SimContext, span: DaySpan, onProgress?: ProgressListener): Promise<number> {
  let rows = 0;
  let newest = span.newestDay;
  for (const piece of piecesOf(span.fromDay, span.toDay)) {
    await writePieceRows(ctx, piece);
    newest = Math.max(newest, piece.toDay - 1);
    if (span.mode === 'append') await writeStateRows(ctx, newest);
    rows += await countPieceRows(ctx);
    await commit(ctx, { replace: span.mode === 'append', days: true, state: span.mode === 'append' });
    onProgress?.({ stage: 'days', daysDone: piece.toDay - span.fromDay, days: span.toDay - span.fromDay, rows, newestDay: addDaysIso(ctx.options.startDate, newest) });
  }
  if (span.mode === 'fresh') {
    await writeStateRows(ctx, newest);
    await commit(ctx, { replace: false, days: false, state: true });
  }
  return rows;
}

async function writePieceRows(ctx: SimContext, piece: DayPiece): Promise<void> {
  await buildWorkOrders(ctx, piece);
  await buildWorkSessions(ctx, piece);
  await writeSessions(ctx);
  await writeEvents(ctx);
  await writeOrders(ctx);
  await writeAdSpend(ctx);
}

async function writeStateRows(ctx: SimContext, newestDay: number): Promise<void> {
  await writeCampaigns(ctx, newestDay);
  await writeTruthDatasetRow(ctx, newestDay);
}

async function countPieceRows(ctx: SimContext): Promise<number> {
  const [row] = await ctx.wh.query<{ n: number }>(
    `SELECT ${DAILY_TABLES.map((t) => `(SELECT COUNT(*) FROM ${ctx.work(t.out)})`).join(' + ')} AS n`,
  );
  return Number(row?.n ?? 0);
}

/**
 * Moves the work tables' rows into the dataset in one transaction: a day
 * stored again replaces its rows (by key, so duplicates planted by faults
 * go too, and NULLs planted in other columns cannot hide a row), and the
 * state moves with the days. The statements carry no parameters (DuckDB
 * binds only the last statement of a batch): every value comes from the
 * work tables.
 */
async function commit(ctx: SimContext, what: { replace: boolean; days: boolean; state: boolean }): Promise<void> {
  const q = (name: string) => ctx.wh.dialect.quote(name);
  const statements = ['BEGIN TRANSACTION'];
  if (what.days) {
    for (const t of DAILY_TABLES) {
      if (what.replace) statements.push(`DELETE FROM ${ctx.table(t.table)} WHERE ${q(t.key)} IN (SELECT ${q(t.key)} FROM ${ctx.work(t.out)})`);
      statements.push(`INSERT INTO ${ctx.table(t.table)} BY NAME SELECT * FROM ${ctx.work(t.out)}`);
    }
  }
  if (what.state) {
    for (const t of STATE_TABLES) statements.push(`CREATE OR REPLACE TABLE ${ctx.table(t.table)} AS SELECT * FROM ${ctx.work(t.out)}`);
  }
  statements.push('COMMIT');
  await ctx.wh.execute(statements.join(';\n'));
}
