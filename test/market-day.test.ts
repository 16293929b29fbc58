import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { addDaysIso } from '../domain/dates';
import { deleteSchedule, upsertSchedule } from '../platform/schedules';
import { generateDataset, tableChecksums } from '../simulator';
import { createSimulatedMarket } from '../simulator/market';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import { marketDayScheduleSpec, seedCalendar } from '../workers/stack';
import { marketDay } from '../workflows';
import { TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, startTimeSkippingServer, uniqueTaskQueue } from './support/temporal';

const USERS = 2000;
const SEED = 3;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function activitiesFor(warehouse: DuckDbWarehouse) {
  return createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
}

describe('marketDay: the simulated market grows to yesterday', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    [env, warehouse] = await Promise.all([startTimeSkippingServer(), DuckDbWarehouse.open(':memory:')]);
  });

  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  it('catches up every missing day by the workflow clock, then only the days that passed, to the tables of one generation', async () => {
    const today = isoDay(await env.currentTimeMs());
    const seeded = await generateDataset(warehouse, { seed: SEED, users: USERS, endDate: addDaysIso(today, -6), days: 40 });
    const taskQueue = uniqueTaskQueue('market-day');
    const worker = await createTestWorker(env, activitiesFor(warehouse), taskQueue);
    // The test server moves its clock to a finished workflow's execution timeout: a short one keeps "today" today.
    const run = (id: string) =>
      env.client.workflow.execute(marketDay, { taskQueue, workflowId: `${taskQueue}-${id}`, args: [{}], workflowExecutionTimeout: '1 minute' });
    const [week, again, later] = await worker.runUntil(async () => {
      const results = [await run('catch-up'), await run('again')];
      await env.sleep('3 days');
      return [...results, await run('later')];
    });
    expect(week).toMatchObject({ schema: 'raw', days: 5, from: addDaysIso(today, -5), through: addDaysIso(today, -1), newestDay: addDaysIso(today, -1) });
    expect(week!.rows).toBeGreaterThan(0);
    expect(again).toEqual({ schema: 'raw', days: 0, rows: 0, newestDay: addDaysIso(today, -1) });
    expect(later).toMatchObject({ days: 3, from: today, newestDay: addDaysIso(today, 2) });

    const once = await DuckDbWarehouse.open(':memory:');
    try {
      await generateDataset(once, { seed: SEED, users: USERS, startDate: seeded.startDate, endDate: addDaysIso(today, 2) });
      expect(await tableChecksums(warehouse, 'raw')).toEqual(await tableChecksums(once, 'raw'));
    } finally {
      await once.close();
    }
  });

  it('seeds with heartbeats that say how far it is, and leaves a seeded dataset alone', async () => {
    const fresh = await DuckDbWarehouse.open(':memory:');
    try {
      const activity = new MockActivityEnvironment();
      const beats: unknown[] = [];
      activity.on('heartbeat', (details: unknown) => beats.push(details));
      const { ensureSimulatedDataset } = activitiesFor(fresh);
      const input = { seed: SEED, users: USERS, schema: 'seed', endDate: '2026-11-30', days: 45 };
      const first = await activity.run(ensureSimulatedDataset, input);
      expect(first).toMatchObject({ seeded: true, newestDay: '2026-11-30', summary: { startDate: '2026-10-17', days: 45 } });
      expect(beats).toEqual([
        { stage: 'population', daysDone: 0, days: 45, rows: 0 },
        expect.objectContaining({ stage: 'days', daysDone: 30, newestDay: '2026-11-15' }),
        expect.objectContaining({ stage: 'days', daysDone: 45, newestDay: '2026-11-30' }),
      ]);
      expect(await activity.run(ensureSimulatedDataset, { ...input, endDate: '2026-12-05' })).toEqual({ seeded: false, newestDay: '2026-11-30' });
    } finally {
      await fresh.close();
    }
  });

  it('is started by the stack’s nightly schedule on the dev server, shortly after midnight UTC', async () => {
    const devServer = await connectToTestServer();
    const taskQueue = uniqueTaskQueue('market-schedule');
    const spec = marketDayScheduleSpec(taskQueue);
    const market = await DuckDbWarehouse.open(':memory:');
    try {
      const yesterday = addDaysIso(isoDay(Date.now()), -1);
      await generateDataset(market, { seed: SEED, users: USERS, endDate: addDaysIso(yesterday, -2), days: 30 });
      expect(await upsertSchedule(devServer.client, spec)).toBe('created');
      expect(await upsertSchedule(devServer.client, spec)).toBe('unchanged');
      const schedule = devServer.client.schedule.getHandle(spec.scheduleId);
      const described = await schedule.describe();
      const next = described.info.nextActionTimes[0]!;
      expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([0, 5]);
      expect(described.action).toMatchObject({ workflowType: 'marketDay', taskQueue });

      const worker = await createTestWorker(devServer, activitiesFor(market), taskQueue);
      const result = await worker.runUntil(async () => {
        await schedule.trigger();
        for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
          const started = (await schedule.describe()).info.recentActions[0];
          if (started) return devServer.client.workflow.getHandle(started.action.workflow.workflowId).result();
        }
        throw new Error('the schedule started no workflow within a minute');
      });
      expect(result).toMatchObject({ days: 2, newestDay: yesterday });
    } finally {
      await deleteSchedule(devServer.client, spec.scheduleId);
      await market.close();
      await devServer.teardown();
    }
  });

  it('seeds a first start from the simulator’s first day to yesterday, between 90 days and two years', () => {
    expect(seedCalendar(new Date('2026-12-01T08:00:00Z'))).toEqual({ endDate: '2026-11-30', days: 334 });
    expect(seedCalendar(new Date('2026-02-01T00:30:00Z'))).toEqual({ endDate: '2026-01-31', days: 90 });
    expect(seedCalendar(new Date('2029-06-01T12:00:00Z'))).toEqual({ endDate: '2029-05-31', days: 730 });
  });
});
