import { llmLedger } from '../activities/content/llm-ledger';
import { DuckDbWarehouse } from '../warehouse/duckdb';

/** The usage ledger is keyed by the job too: two jobs that send the same prompt each pay, and each is booked. */
describe('the LLM usage ledger', () => {
  it('keeps a second job\'s call with the same prompt, model and attempt beside the first one', async () => {
    const warehouse = await DuckDbWarehouse.open(':memory:');
    try {
      const ledger = llmLedger(warehouse);
      const call = { promptHash: 'p1', useCase: 'ct-ledger', day: '2026-11-28', model: 'local-small', attempt: 1, promptTokens: 100, completionTokens: 50, cost: 0.01, at: '2026-11-28T10:00:00Z' };
      await ledger.book({ ...call, jobId: 'job-a' });
      await ledger.book({ ...call, jobId: 'job-b' });
      // A retried booking of the same call stays one row.
      await ledger.book({ ...call, jobId: 'job-b' });
      expect(await ledger.tokensOfJob('job-a')).toBe(150);
      expect(await ledger.tokensOfJob('job-b')).toBe(150);
      expect(await ledger.tokensOfDay('ct-ledger', '2026-11-28')).toBe(300);
    } finally {
      await warehouse.close();
    }
  });
});
