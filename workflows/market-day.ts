import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { addDaysIso } from '../domain/dates';
import type { MarketDayInput, MarketDaysResult } from '../domain/simulated-market';

const { appendMarketDays } = proxyActivities<Activities>({
  // A stack that was off for months catches up in one call; heartbeats after every stored piece of days say it is alive.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

/**
 * A day of the simulated market (the embedded default's schedule
 * aimo-market-day runs it shortly after midnight UTC): appends every day
 * missing up to yesterday by the workflow's clock, so a stack that was off
 * for a week catches up, and returns how many days and rows it added.
 */
export async function marketDay(input: MarketDayInput = {}): Promise<MarketDaysResult> {
  const yesterday = addDaysIso(new Date().toISOString().slice(0, 10), -1);
  const result = await appendMarketDays({ schema: input.schema ?? 'raw', through: yesterday });
  log.info(result.days > 0 ? `market grew by ${result.days} day(s), ${result.rows} rows` : 'market already up to date', { newestDay: result.newestDay });
  return result;
}
