import { appendDays, generateDataset, tableChecksums } from '../simulator';
import { DuckDbWarehouse } from '../warehouse/duckdb';

/**
 * A planted one-day jump changes the one source table it names on its day
 * only: every other day, table and truth stay as the market without it.
 */
describe('simulator: planted one-day jumps', () => {
  let wh: DuckDbWarehouse;
  const base = { seed: 3, users: 10_000, startDate: '2026-01-01', endDate: '2026-02-10' };
  const day = '2026-02-03';
  const perDay = async (sql: string) => new Map((await wh.query<{ day: string; v: number }>(sql)).map((r) => [String(r.day), Number(r.v)]));

  beforeAll(async () => {
    wh = await DuckDbWarehouse.open(':memory:');
    await generateDataset(wh, { ...base, schema: 'plain' });
    await generateDataset(wh, { ...base, schema: 'orders_jump', jump: { date: day, series: 'orders', factor: 0.3 } });
    // Planted after the generated end: an appended day carries it.
    await generateDataset(wh, { ...base, endDate: '2026-01-31', schema: 'spend_jump', jump: { date: day, series: 'spend', factor: 2.5 } });
    await appendDays(wh, { schema: 'spend_jump', through: base.endDate });
  }, 300_000);

  afterAll(async () => {
    await wh?.close();
  });

  it("an orders jump keeps the given share of that day's orders and changes nothing else", async () => {
    const orders = (schema: string) => perDay(`SELECT CAST(CAST(order_ts AS DATE) AS VARCHAR) AS day, COUNT(*) AS v FROM ${schema}.orders GROUP BY 1`);
    const [plain, jumped] = await Promise.all([orders('plain'), orders('orders_jump')]);
    for (const [d, n] of plain) if (d !== day) expect([d, jumped.get(d)]).toEqual([d, n]);
    const kept = jumped.get(day)! / plain.get(day)!;
    expect(kept).toBeGreaterThan(0.15);
    expect(kept).toBeLessThan(0.45);
    // The kept orders are the plain market's own orders of that day, not new ones.
    const [{ foreign }] = (await wh.query<{ foreign: number }>(`SELECT COUNT(*) AS foreign FROM orders_jump.orders j ANTI JOIN plain.orders p USING (order_id)`)) as [{ foreign: number }];
    expect(Number(foreign)).toBe(0);
    const sums = { plain: await tableChecksums(wh, 'plain'), jumped: await tableChecksums(wh, 'orders_jump') };
    for (const table of ['sessions', 'events', 'ad_spend', 'users', 'truth_propensity']) expect([table, sums.jumped[table]]).toEqual([table, sums.plain[table]]);
  });

  it("a spend jump multiplies that day's spend, also on an appended day", async () => {
    const spend = (schema: string) => perDay(`SELECT CAST(spend_date AS VARCHAR) AS day, round(SUM(spend), 2) AS v FROM ${schema}.ad_spend GROUP BY 1`);
    const [plain, jumped] = await Promise.all([spend('plain'), spend('spend_jump')]);
    for (const [d, v] of plain) if (d !== day) expect([d, jumped.get(d)]).toEqual([d, v]);
    // Each campaign's spend is rounded to cents after the factor: within a cent per campaign row of 2.5 ×.
    const [{ rows }] = (await wh.query<{ rows: number }>(`SELECT COUNT(*) AS rows FROM plain.ad_spend WHERE spend_date = DATE '${day}'`)) as [{ rows: number }];
    expect(Math.abs(jumped.get(day)! - 2.5 * plain.get(day)!)).toBeLessThanOrEqual(0.01 * 2.5 * Number(rows));
    const [state] = await wh.query<{ options: string }>(`SELECT options FROM spend_jump.truth_dataset`);
    expect(JSON.parse(state!.options)).toMatchObject({ jump: { date: day, series: 'spend', factor: 2.5 } });
  });

  it('refuses a jump that cannot be planted, naming the field', async () => {
    await expect(generateDataset(wh, { ...base, schema: 'bad', jump: { date: day, series: 'orders', factor: 1.5 } })).rejects.toThrow(/jump\.factor: orders can only be lost/);
    await expect(generateDataset(wh, { ...base, schema: 'bad', jump: { date: '2026-01-01', series: 'spend', factor: 2 } })).rejects.toThrow(/jump\.date: must come after the first simulated day/);
  });
});
