import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import type { TableRef } from '../domain/table-ref';
import { createSimulatedMarket } from '../simulator/market';
import { interruptible, withCancellableQueries } from '../warehouse/cancellation';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import type { SqlParams } from '../warehouse/params';
import { withQueryContext } from '../warehouse/scoped';
import type { QueryContext, Warehouse } from '../warehouse/warehouse';
import { rollout } from '../workflows';
import { seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './support/temporal';

/** Runs for hours unless interrupted: DuckDB cannot fold it, and it returns one row, so nothing piles up meanwhile. */
const ENDLESS = 'SELECT max(hash(i)) AS h FROM range(100000000000000) t(i)';

function settled(p: Promise<unknown>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  return p.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

describe('cancellation reaches running queries', () => {
  it('an aborted signal interrupts a running DuckDB query, rejects with its reason and frees the connection', async () => {
    const warehouse = await DuckDbWarehouse.open(':memory:', { maxConcurrentQueries: 1 });
    try {
      const abort = new AbortController();
      const running = settled(warehouse.query(ENDLESS, {}, { signal: abort.signal }));
      await new Promise((r) => setTimeout(r, 300));
      const reason = new CancelledFailure('test cancel');
      abort.abort(reason);
      const outcome = await running;
      expect(outcome).toEqual({ ok: false, error: reason });
      // The one query slot is free again: a query after the interrupted one runs at once.
      expect(await warehouse.query('SELECT 41 + 1 AS n')).toEqual([{ n: 42 }]);
    } finally {
      await warehouse.close();
    }
  });

  it("the running activity's signal reaches statements without being passed, through scoped warehouses too", async () => {
    const warehouse = await DuckDbWarehouse.open(':memory:');
    try {
      const abort = new AbortController();
      const scoped = withQueryContext(warehouse, { useCase: 'uc', workflowId: 'wf' });
      const running = settled(withCancellableQueries(abort.signal, () => scoped.execute(`CREATE TABLE never AS ${ENDLESS}`)));
      await new Promise((r) => setTimeout(r, 300));
      abort.abort(new CancelledFailure('test cancel'));
      const outcome = await running;
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: unknown }).error).toBeInstanceOf(CancelledFailure);
      expect(await warehouse.tableExists({ name: 'never' })).toBe(false);
      // Already cancelled: nothing starts at all.
      const late = await settled(withCancellableQueries(abort.signal, () => warehouse.execute('CREATE TABLE late AS SELECT 1 AS x')));
      expect(late.ok).toBe(false);
      expect(await warehouse.tableExists({ name: 'late' })).toBe(false);
    } finally {
      await warehouse.close();
    }
  });

  it('a statement that ends before the signal aborts returns its rows, and a later abort changes nothing', async () => {
    const abort = new AbortController();
    let interrupts = 0;
    const value = await interruptible(abort.signal, async () => 7, () => interrupts++);
    abort.abort();
    expect(value).toBe(7);
    expect(interrupts).toBe(0);
  });

  describe('in a rollout', () => {
    let env: TestWorkflowEnvironment;
    let seeded: DuckDbWarehouse;

    beforeAll(async () => {
      [env, seeded] = await Promise.all([connectToTestServer(), seededWarehouse(5_000)]);
    });

    afterAll(async () => {
      await seeded?.close();
      await env?.teardown();
    });

    it('cancelling the rollout interrupts the query its data step is running', async () => {
      const endless = new EndlessOnce(seeded);
      const taskQueue = uniqueTaskQueue('query-cancel');
      const activities = createActivities({ warehouse: endless, simulator: createSimulatedMarket(seeded, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir(), temporalClient: env.client });
      const worker = await createTestWorker(env, activities, taskQueue);
      const workflowId = `rollout-query-cancel-${taskQueue}`;
      const { error, outcome } = await worker.runUntil(async () => {
        const handle = await env.client.workflow.start(rollout, { taskQueue, workflowId, args: [testPlan({ useCase: 'query-cancel' })] });
        await endless.started;
        await handle.cancel();
        const error = await handle.result().catch((e: unknown) => e);
        // The statement ends because it was interrupted: left alone it would run for hours.
        return { error, outcome: await endless.outcome };
      });
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: unknown }).error).toBeInstanceOf(CancelledFailure);
      expect(await seeded.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    }, 240_000);
  });
});

/**
 * The seeded warehouse, except that the first table a data step builds is
 * preceded by a query that never ends on its own: the rollout is cancelled
 * while it runs.
 */
class EndlessOnce implements Warehouse {
  private startedResolve!: () => void;
  readonly started = new Promise<void>((resolve) => (this.startedResolve = resolve));
  private outcomeResolve!: (o: { ok: true } | { ok: false; error: unknown }) => void;
  readonly outcome = new Promise<{ ok: true } | { ok: false; error: unknown }>((resolve) => (this.outcomeResolve = resolve));
  private fired = false;

  constructor(private readonly inner: Warehouse) {}

  get dialect() {
    return this.inner.dialect;
  }

  query: Warehouse['query'] = (sql, params, ctx) => this.inner.query(sql, params, ctx);
  execute: Warehouse['execute'] = (sql, params, ctx) => this.inner.execute(sql, params, ctx);
  tableExists: Warehouse['tableExists'] = (table) => this.inner.tableExists(table);
  columns: Warehouse['columns'] = (table) => this.inner.columns(table);
  merge: Warehouse['merge'] = (table, source, keys, columns, params, ctx) => this.inner.merge(table, source, keys, columns, params, ctx);
  close = () => this.inner.close();

  async createOrReplaceTableAs(table: TableRef, select: string, params?: SqlParams, ctx?: QueryContext): Promise<void> {
    if (!this.fired) {
      this.fired = true;
      const endless = settled(this.inner.query(ENDLESS, {}, ctx));
      this.startedResolve();
      const outcome = await endless;
      this.outcomeResolve(outcome);
      if (!outcome.ok) throw outcome.error;
    }
    return this.inner.createOrReplaceTableAs(table, select, params, ctx);
  }
}
