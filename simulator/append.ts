import { addDaysIso } from '../domain/dates';
import { NonRetryableError } from '../domain/errors';
import type { MarketDaysResult, ProgressListener } from '../domain/simulated-market';
import type { Warehouse } from '../warehouse/warehouse';
import { daysBetween } from './calendar';
import { assertDuckDb, createContext, withWorkDatabase } from './context';
import { simulateDays } from './days';
import { appendDaysOptionsSchema, parseOptions, type AppendDaysOptions } from './options';
import { buildWorkUsers } from './stages/people';
import { livingOptions, readSimulatorState } from './state';

/**
 * Grows a generated dataset by the days `from`..`through` (default from:
 * the day after its newest one) for its existing population: sessions,
 * events, orders and spend, with the options recorded at generation —
 * drift, concept drift, promotion and faults included. Idempotent: a day
 * simulated again replaces its rows, so it is stored once, and the rows
 * equal what generating the longer period at once writes. Days must follow
 * on from the newest one without a gap.
 */
export async function appendDays(wh: Warehouse, input: AppendDaysOptions, listeners: { onProgress?: ProgressListener } = {}): Promise<MarketDaysResult> {
  assertDuckDb(wh);
  const o = parseOptions(appendDaysOptionsSchema, input, 'appendDays options');
  const stored = livingOptions(await readSimulatorState(wh, o.schema), o.schema);
  const next = addDaysIso(stored.endDate, 1);
  const from = o.from ?? next;
  if (from > next) {
    throw new NonRetryableError('SimulatedDaysGap', `${o.schema} is simulated up to ${stored.endDate}: the next day to append is ${next}, not ${from}`);
  }
  if (from < stored.startDate) {
    throw new NonRetryableError('InvalidSimulatorOptions', `appendDays options: from: ${o.schema} starts on ${stored.startDate}; ${from} comes before it`);
  }
  if (o.through < from) return { schema: o.schema, days: 0, rows: 0, newestDay: stored.endDate };
  const endDate = o.through > stored.endDate ? o.through : stored.endDate;
  const ctx = createContext(wh, { ...stored, endDate, days: daysBetween(stored.startDate, endDate) + 1 });
  const dayOf = (date: string) => daysBetween(stored.startDate, date);
  const rows = await withWorkDatabase(ctx, async () => {
    await buildWorkUsers(ctx);
    return simulateDays(ctx, { fromDay: dayOf(from), toDay: dayOf(o.through) + 1, mode: 'append', newestDay: dayOf(stored.endDate) }, listeners.onProgress);
  });
  return { schema: o.schema, days: dayOf(o.through) - dayOf(from) + 1, rows, from, through: o.through, newestDay: endDate };
}
