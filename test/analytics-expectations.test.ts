import { parseExpectations, runExpectations } from '../analytics/expectations';
import { expectationSchema, type Expectation } from '../domain/quality';
import { DuckDbWarehouse } from '../warehouse/duckdb';

let wh: DuckDbWarehouse;
const table = { name: 'orders', schema: 'raw' };

/**
 * 1,000 orders with planted violations:
 * - order_id: ids 5 (×3) and 7 (×2) repeated → 5 rows in 2 duplicated keys
 * - user_id NULL on the 13 rows with i % 80 = 3
 * - status: 'refund' ×4, 'REFUND' ×1 outside the set, 2 NULLs; 495 'paid' (even i), the rest 'shipped'
 * - revenue: −5 ×2 and 2000 ×1 outside [0, 1000], 3 NULLs
 * - order_ts: latest 2024-05-01 10:00:00
 */
beforeAll(async () => {
  wh = await DuckDbWarehouse.open(':memory:');
  await wh.execute(`CREATE SCHEMA raw`);
  await wh.execute(`
    CREATE TABLE raw.orders AS
    SELECT CASE WHEN i IN (1005, 1006) THEN 5 WHEN i = 1007 THEN 7 ELSE i END AS order_id,
           CASE WHEN i % 80 = 3 THEN NULL ELSE 'u' || CAST(i % 300 AS VARCHAR) END AS user_id,
           CASE WHEN i IN (10, 11, 12, 13) THEN 'refund' WHEN i = 14 THEN 'REFUND' WHEN i IN (15, 16) THEN NULL
                WHEN i % 2 = 0 THEN 'paid' ELSE 'shipped' END AS status,
           CASE WHEN i IN (20, 21) THEN -5.0 WHEN i = 22 THEN 2000.0 WHEN i IN (23, 24, 25) THEN NULL ELSE CAST(i % 500 AS DOUBLE) END AS revenue,
           TIMESTAMP '2024-05-01 10:00:00' - to_minutes(CAST(i - 3 AS BIGINT)) AS order_ts,
           i % 3 AS channel
    FROM (SELECT i FROM range(3, 1000) r(i) UNION ALL SELECT * FROM (VALUES (1005), (1006), (1007)) v(i))`);
});

afterAll(async () => {
  await wh.close();
});

async function run(expectations: Expectation[], now?: Date) {
  return runExpectations(wh, table, expectations, { sampleSize: 5, now });
}

describe('runExpectations', () => {
  it('counts the table: 997 generated rows plus 3 duplicates', async () => {
    const [rc] = await run([{ kind: 'row_count', min: 1000, max: 1000 }]);
    expect(rc).toMatchObject({ name: 'row_count', kind: 'row_count', success: true, unexpectedCount: 0, elementCount: 1000 });
  });

  it('not_null: counts NULLs over all rows', async () => {
    const [r] = await run([{ kind: 'not_null', column: 'user_id' }]);
    // i % 80 = 3 for i in 3..999: 3, 83, ..., 963 → 13 rows
    expect(r).toMatchObject({ name: 'not_null(user_id)', success: false, unexpectedCount: 13, elementCount: 1000, sample: [] });
    expect(r!.unexpectedPercent).toBeCloseTo(1.3, 12);
    const [ok] = await run([{ kind: 'not_null', column: 'order_id' }]);
    expect(ok).toMatchObject({ success: true, unexpectedCount: 0, unexpectedPercent: 0 });
  });

  it('unique: rows in duplicated keys, and the keys most repeated first', async () => {
    const [r] = await run([{ kind: 'unique', columns: ['order_id'] }]);
    expect(r).toMatchObject({ name: 'unique(order_id)', success: false, unexpectedCount: 5, elementCount: 1000, sample: [5, 7] });
    expect(r!.unexpectedPercent).toBeCloseTo(0.5, 12);
    expect(r!.observed).toEqual({ duplicateKeys: 2, missingCount: 0 });

    const [composite] = await run([{ kind: 'unique', columns: ['user_id', 'channel'], name: 'user_channel' }]);
    expect(composite!.name).toBe('user_channel');
    expect(composite!.success).toBe(false);
    expect(composite!.sample[0]).toEqual({ user_id: expect.any(String), channel: expect.any(Number) });
    // NULL keys are not_null's business: they do not count as duplicates.
    expect(composite!.observed!['missingCount']).toBe(13);
  });

  it('in_set: unexpected values with bound parameters, NULLs left to not_null', async () => {
    const [r] = await run([{ kind: 'in_set', column: 'status', values: ['paid', 'shipped'] }]);
    expect(r).toMatchObject({ name: 'in_set(status)', success: false, unexpectedCount: 5, elementCount: 1000, sample: ['refund', 'REFUND'] });
    expect(r!.unexpectedPercent).toBeCloseTo((100 * 5) / 998, 12);
    expect(r!.observed).toEqual({ missingCount: 2 });
    // A value that would break SQL if it were inlined is just a value.
    const [quoted] = await run([{ kind: 'in_set', column: 'status', values: ["paid' OR '1'='1", 'shipped', 'refund', 'REFUND'] }]);
    expect(quoted!.unexpectedCount).toBe(495);
    const [numeric] = await run([{ kind: 'in_set', column: 'channel', values: [0, 1, 2] }]);
    expect(numeric!.success).toBe(true);
  });

  it('between: values outside the bounds, with the observed range', async () => {
    const [r] = await run([{ kind: 'between', column: 'revenue', min: 0, max: 1000 }]);
    expect(r).toMatchObject({ name: 'between(revenue)', success: false, unexpectedCount: 3, sample: [-5, 2000] });
    expect(r!.unexpectedPercent).toBeCloseTo((100 * 3) / 997, 12);
    expect(r!.observed).toEqual({ missingCount: 3, min: -5, max: 2000 });
    const [onlyMin] = await run([{ kind: 'between', column: 'revenue', min: 0 }]);
    expect(onlyMin!.unexpectedCount).toBe(2);
    const [onlyMax] = await run([{ kind: 'between', column: 'revenue', max: 499 }]);
    expect(onlyMax!.unexpectedCount).toBe(1);
  });

  it('row_count: the shortfall or excess against the bound it misses', async () => {
    const [short, over] = await run([
      { kind: 'row_count', min: 1250 },
      { kind: 'row_count', max: 800 },
    ]);
    expect(short).toMatchObject({ success: false, unexpectedCount: 250, unexpectedPercent: 20, observed: { rowCount: 1000, min: 1250, max: null } });
    expect(over).toMatchObject({ name: 'row_count#2', success: false, unexpectedCount: 200, unexpectedPercent: 25 });
  });

  it('freshness: age of the newest row against now', async () => {
    const now = new Date('2024-05-01T16:00:00Z');
    const [fresh, stale] = await run(
      [
        { kind: 'freshness', column: 'order_ts', maxAgeHours: 24 },
        { kind: 'freshness', column: 'order_ts', maxAgeHours: 5 },
      ],
      now,
    );
    expect(fresh).toMatchObject({ success: true, unexpectedCount: 0, observed: { latest: '2024-05-01T10:00:00.000Z', ageHours: 6 } });
    expect(stale).toMatchObject({ success: false, unexpectedCount: 1, unexpectedPercent: 100 });
    const [own] = await run([{ kind: 'freshness', column: 'order_ts', maxAgeHours: 1, now: '2024-05-01T10:30:00+00:00' }], now);
    expect(own).toMatchObject({ success: true, observed: { ageHours: 0.5 } });
    // Without a reference time the warehouse clock is used.
    await wh.execute(`CREATE TABLE raw.recent AS SELECT CURRENT_TIMESTAMP - INTERVAL 2 HOUR AS loaded_at`);
    const [byWarehouse] = await runExpectations(wh, { name: 'recent', schema: 'raw' }, [{ kind: 'freshness', column: 'loaded_at', maxAgeHours: 3 }]);
    expect(byWarehouse!.success).toBe(true);
    expect(byWarehouse!.observed!['ageHours']).toBeGreaterThanOrEqual(2);
    expect(byWarehouse!.observed!['ageHours']).toBeLessThan(2.1);
  });

  it('checks every row-level expectation in one scan, and each unique key in one grouping', async () => {
    const queries: string[] = [];
    const recording = Object.create(wh, { query: { value: (sql: string, params?: Record<string, unknown>) => (queries.push(sql), wh.query(sql, params as never)) } }) as DuckDbWarehouse;
    const results = await runExpectations(recording, table, [
      { kind: 'row_count', min: 1 },
      { kind: 'not_null', column: 'user_id' },
      { kind: 'in_set', column: 'status', values: ['paid', 'shipped'] },
      { kind: 'between', column: 'revenue', min: 0, max: 1000 },
      { kind: 'freshness', column: 'order_ts', maxAgeHours: 24 },
      { kind: 'unique', columns: ['order_id'] },
    ], { sampleSize: 5, now: new Date('2024-05-01T16:00:00Z') });
    expect(queries).toHaveLength(2);
    expect(results.map((r) => [r.name, r.unexpectedCount, r.sample])).toEqual([
      ['row_count', 0, []],
      ['not_null(user_id)', 13, []],
      ['in_set(status)', 5, ['refund', 'REFUND']],
      ['between(revenue)', 3, [-5, 2000]],
      ['freshness(order_ts)', 0, []],
      ['unique(order_id)', 5, [5, 7]],
    ]);
  });

  it('limits the sample to sampleSize', async () => {
    const [r] = await runExpectations(wh, table, [{ kind: 'in_set', column: 'status', values: ['paid'] }], { sampleSize: 1 });
    expect(r!.sample).toEqual(['shipped']);
    const [none] = await runExpectations(wh, table, [{ kind: 'in_set', column: 'status', values: ['paid'] }], { sampleSize: 0 });
    expect(none!.sample).toEqual([]);
  });

  it('passes vacuously on an empty table, where only row_count fails', async () => {
    await wh.execute(`CREATE TABLE raw.empty AS SELECT * FROM raw.orders WHERE FALSE`);
    const results = await runExpectations(wh, { name: 'empty', schema: 'raw' }, [
      { kind: 'not_null', column: 'user_id' },
      { kind: 'unique', columns: ['order_id'] },
      { kind: 'between', column: 'revenue', min: 0 },
      { kind: 'row_count', min: 1 },
      { kind: 'freshness', column: 'order_ts', maxAgeHours: 1 },
    ]);
    expect(results.map((r) => [r.kind, r.success, r.unexpectedPercent])).toEqual([
      ['not_null', true, 0],
      ['unique', true, 0],
      ['between', true, 0],
      ['row_count', false, 100],
      ['freshness', false, 100],
    ]);
  });
});

describe('expectation specs', () => {
  it('reject malformed specs naming the field path and the fix', () => {
    const problems = (input: unknown): string[] => {
      try {
        parseExpectations(input);
      } catch (err) {
        expect(err).toMatchObject({ type: 'InvalidExpectation' });
        return (err as { details: { problems: string[] } }).details.problems;
      }
      throw new Error('expected the specs to be rejected');
    };
    expect(problems([{ kind: 'not_null', column: 'ok' }, { kind: 'in_set', column: 'status', values: [] }])).toEqual([
      'expectations[1].values: list at least one allowed value',
    ]);
    expect(problems([{ kind: 'unique', columns: ['order_id', 'bad column'] }])).toEqual([
      'expectations[0].columns[1]: must be a column name: letters, digits and underscores, starting with a letter or underscore',
    ]);
    expect(problems([{ kind: 'between', column: 'revenue' }])).toEqual(['expectations[0].min: give min, max or both']);
    expect(problems([{ kind: 'between', column: 'revenue', min: 10, max: 1 }])).toEqual(['expectations[0].max: min must not exceed max']);
    expect(problems([{ kind: 'freshness', column: 'ts', maxAgeHours: 0, now: 'yesterday' }])).toEqual([
      'expectations[0].maxAgeHours: must be a positive number of hours',
      'expectations[0].now: must be an ISO date-time with a zone, e.g. 2024-05-01T00:00:00Z',
    ]);
    expect(problems([{ kind: 'no_such_kind', column: 'x' }])[0]).toMatch(/^expectations\[0\]\.kind: .*not_null.*freshness/);
    expect(problems([{ kind: 'row_count', min: 1.5 }])[0]).toMatch(/^expectations\[0\]\.min: /);
    expect(problems([{ kind: 'not_null', column: 'x', colum: 'y' }])[0]).toMatch(/^expectations\[0\]: .*"colum"/);
    expect(problems({ kind: 'not_null', column: 'x' })[0]).toMatch(/^expectations: .*array/);
  });

  it('are checked again when run, so JSON from a plan cannot slip through', async () => {
    const hostile = [{ kind: 'not_null', column: 'x"; DROP TABLE raw.orders; --' }] as unknown as Expectation[];
    await expect(runExpectations(wh, table, hostile)).rejects.toMatchObject({
      type: 'InvalidExpectation',
      message: expect.stringContaining('expectations[0].column'),
    });
    expect(await wh.tableExists(table)).toBe(true);
  });

  it('accept every kind in its documented shape', () => {
    const specs: unknown[] = [
      { kind: 'not_null', column: 'user_id' },
      { kind: 'unique', columns: ['order_id'] },
      { kind: 'in_set', column: 'label', values: [0, 1] },
      { kind: 'between', column: 'revenue', min: 0 },
      { kind: 'row_count', min: 100 },
      { kind: 'freshness', column: 'order_ts', maxAgeHours: 26, now: new Date(0) },
    ];
    for (const spec of specs) expect(expectationSchema.safeParse(spec).success).toBe(true);
  });
});
