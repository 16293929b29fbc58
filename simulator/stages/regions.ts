import type { SimContext } from '../context';
import { int } from '../sql';

/** Regions (sub-markets) per market: enough pairs for a geo test's randomisation inference */
export const REGIONS_PER_MARKET = 20;

/**
 * Where each user lives: a region of their market (`DE-01` … `DE-20`),
 * drawn from a stream of its own so that no other table's values change.
 * Regions differ in size (the draw is skewed), as real sub-markets do.
 */
export async function writeUserRegions(ctx: SimContext): Promise<void> {
  const r = ctx.random;
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.table('user_regions')} AS
     SELECT user_id, market,
            concat(market, '-', lpad(CAST(1 + CAST(floor(${int(REGIONS_PER_MARKET)} * pow(${r.unit('h', 'region')}, 1.6)) AS INTEGER) AS VARCHAR), 2, '0')) AS region
     FROM ${ctx.work('users')}
     ORDER BY idx`,
  );
}
