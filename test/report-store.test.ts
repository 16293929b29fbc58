import { loadReport, pruneReports, saveReport } from '../store/reports';
import { DuckDbWarehouse } from '../warehouse/duckdb';

/** aimo.reports: one row per run and format, overwritten in place, pruned by age as retention asks. */
describe('report store', () => {
  let warehouse: DuckDbWarehouse;
  beforeAll(async () => {
    warehouse = await DuckDbWarehouse.open(':memory:');
  });
  afterAll(async () => warehouse?.close());

  const report = (workflowId: string, writtenAt: string, content = `<p>${workflowId}</p>`) => ({ workflowId, format: 'html' as const, kind: 'rollout' as const, useCase: workflowId.split('-')[1]!, content, writtenAt });

  it('keeps one row per workflow and format, the last content written', async () => {
    await saveReport(warehouse, report('rollout-a-1', '2026-01-01T00:00:00.000Z', 'first'));
    await saveReport(warehouse, report('rollout-a-1', '2026-01-01T00:00:00.000Z', 'second'));
    expect((await loadReport(warehouse, 'rollout-a-1', 'html'))?.content).toBe('second');
    expect(await loadReport(warehouse, 'rollout-a-1', 'md')).toBeUndefined();
    const [row] = await warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM aimo.reports WHERE workflow_id = 'rollout-a-1'`);
    expect(Number(row!.n)).toBe(1);
  });

  it('prunes reports written before the cutoff, of one use case or all, and nothing more the second time', async () => {
    await saveReport(warehouse, report('rollout-b-1', '2026-01-05T00:00:00.000Z'));
    await saveReport(warehouse, report('rollout-c-1', '2026-01-05T00:00:00.000Z'));
    await saveReport(warehouse, report('rollout-b-2', '2026-03-01T00:00:00.000Z'));
    expect(await pruneReports(warehouse, '2026-02-01T00:00:00.000Z', 'b')).toBe(1);
    expect(await loadReport(warehouse, 'rollout-c-1', 'html')).toBeDefined();
    expect(await pruneReports(warehouse, '2026-02-01T00:00:00.000Z')).toBe(2);
    expect(await pruneReports(warehouse, '2026-02-01T00:00:00.000Z')).toBe(0);
    expect((await loadReport(warehouse, 'rollout-b-2', 'html'))?.content).toBe('<p>rollout-b-2</p>');
  });
});
