import { ConcurrencyLimit } from '../warehouse/limiter';
import { DuckDbWarehouse } from '../warehouse/duckdb';

describe('ConcurrencyLimit', () => {
  it('runs at most its limit at once, the rest in arrival order, and frees a slot when a task fails', async () => {
    const limit = new ConcurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const release: Array<() => void> = [];
    const task = (i: number) =>
      limit.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => release.push(resolve));
        running--;
        if (i === 1) throw new Error('boom');
        return i;
      });
    const results = [0, 1, 2, 3, 4].map((i) => task(i).catch((e: Error) => e.message));
    for (let step = 0; step < 5; step++) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    expect(await Promise.all(results)).toEqual([0, 'boom', 2, 3, 4]);
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses a limit that is not a whole number of at least 1', () => {
    expect(() => new ConcurrencyLimit(0)).toThrow(/at least 1/);
  });

  it('lets DuckDB take a memory limit and a spill directory, and refuses a size it cannot read', async () => {
    const wh = await DuckDbWarehouse.open(':memory:', { memoryLimit: '512MB', tempDirectory: '.cache/duckdb-spill-test', maxConcurrentQueries: 1 });
    const [row] = await wh.query(`SELECT current_setting('memory_limit') AS m, current_setting('temp_directory') AS t`);
    expect(String(row!['m'])).toMatch(/^(488\.2 MiB|512\.0 MB|500\.0 MB)/);
    expect(String(row!['t'])).toContain('duckdb-spill-test');
    const many = await Promise.all(Array.from({ length: 6 }, (_, i) => wh.query(`SELECT ${i} AS v`)));
    expect(many.map((r) => r[0]!['v'])).toEqual([0, 1, 2, 3, 4, 5]);
    await wh.close();
    await expect(DuckDbWarehouse.open(':memory:', { memoryLimit: 'lots' })).rejects.toThrow(/not a size/);
  });
});
