import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { ensureAimoTables, upsertAimoRow } from '../store/aimo-tables';
import { getAlias, getVersion, promote, servingView } from '../serving/registry';
import { tableChecksums } from '../simulator';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import type { Warehouse } from '../warehouse/warehouse';
import { TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { createSimulatedMarket } from '../simulator/market';

/**
 * The serving switch — promotion, rollback, canary — is what activation
 * reads, so it must be exact under Temporal's retries: applied twice it
 * leaves the state of once, and a worker lost after any of its writes
 * leaves, once the retry finishes, the state of one clean run.
 */
const USE_CASE = 'switch-demo';
const V1 = 'switch-demo-v1';
const V2 = 'switch-demo-v2';
const AT = '2026-11-28T09:00:00.000Z';
const env = new MockActivityEnvironment({ taskQueue: 'serving-switch' });

type Switch = (activities: ReturnType<typeof createActivities>) => Promise<unknown>;

const switches: Array<[string, Switch]> = [
  ['promotion of the challenger', (a) => a.promoteVersion({ useCase: USE_CASE, versionId: V2, by: 'retrain-1', reason: 'canary healthy', at: AT })],
  ['rollback to a named version', (a) => a.rollbackServing({ useCase: USE_CASE, toVersion: V2, by: 'ana@growth', reason: 'forward again', at: AT })],
  ['canary on 30 % of users', (a) => a.startCanaryServing({ useCase: USE_CASE, championVersionId: V1, challengerVersionId: V2, share: 0.3 })],
];

describe('the serving switch', () => {
  it.each(switches)('%s applied twice leaves the state of once', async (_name, apply) => {
    const once = await withRegistry(async (wh) => {
      await run(wh, apply);
      return state(wh);
    });
    const twice = await withRegistry(async (wh) => {
      await run(wh, apply);
      await run(wh, apply);
      return state(wh);
    });
    expect(twice).toEqual(once);
  });

  it.each(switches)('%s cut off after any write finishes, on retry, as one clean run', async (_name, apply) => {
    const clean = await withRegistry(async (wh) => {
      await run(wh, apply);
      return state(wh);
    });
    let crashes = 0;
    for (let k = 1; ; k++) {
      const { crashed, after } = await withRegistry(async (wh) => {
        const crashed = await run(losingWorkerAt(wh, k), apply).then(
          () => false,
          (err: Error) => (expect(err.message).toBe(`worker lost after write ${k - 1}`), true),
        );
        if (crashed) await run(wh, apply);
        return { crashed, after: await state(wh) };
      });
      expect([k, after]).toEqual([k, clean]);
      if (!crashed) break;
      crashes++;
    }
    expect(crashes).toBeGreaterThan(2);
  });

  it('rolls back to the previous version once, however often a rollback is asked for', async () => {
    await withRegistry(async (wh) => {
      await promote(wh, { useCase: USE_CASE, versionId: V2, by: 'retrain-1', reason: 'canary healthy', at: AT });
      const activities = createActivities({ warehouse: wh, simulator: createSimulatedMarket(wh, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
      const ask = () => env.run(() => activities.rollbackServing({ useCase: USE_CASE, by: 'ana@growth', reason: 'conversion dropped', at: AT }));
      expect(await ask()).toEqual({ from: V2, to: V1, changed: true });
      const afterOne = await state(wh);
      expect(await ask()).toEqual({ to: V1, changed: false });
      expect(await state(wh)).toEqual(afterOne);
      expect(await getAlias(wh, USE_CASE, 'champion')).toBe(V1);
      expect((await getVersion(wh, V2))!.status).toBe('rolled_back');
    });
  });

  it('refuses a version that failed its gates, and changes nothing', async () => {
    await withRegistry(async (wh) => {
      const activities = createActivities({ warehouse: wh, simulator: createSimulatedMarket(wh, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
      await env.run(() => activities.markModelVersion({ versionId: V2, status: 'failed' }));
      const before = await state(wh);
      await expect(env.run(() => activities.rollbackServing({ useCase: USE_CASE, toVersion: V2, by: 'bo', reason: 'try', at: AT }))).rejects.toMatchObject({
        type: 'VersionFailedGates',
        nonRetryable: true,
      });
      expect(await state(wh)).toEqual(before);
    });
  });
});

/** Runs one switch as an activity against the given warehouse. */
function run(wh: Warehouse, apply: Switch): Promise<unknown> {
  const activities = createActivities({ warehouse: wh, simulator: createSimulatedMarket(wh, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
  return env.run(() => apply(activities));
}

/** A fresh registry with two scored versions, V1 serving. */
async function withRegistry<T>(body: (wh: DuckDbWarehouse) => Promise<T>): Promise<T> {
  const wh = await DuckDbWarehouse.open(':memory:');
  try {
    await ensureAimoTables(wh);
    for (const [version, offset] of [[V1, 0], [V2, 0.5]] as const) {
      const scores = `${version.replace(/-/g, '_')}_scores`;
      await wh.execute(
        `CREATE TABLE aimo.${scores} AS SELECT 'u' || i AS user_id, (i % 97) / 97.0 * 0.5 + @offset AS score, @version AS version_id FROM range(500) t(i)`,
        { offset, version },
      );
      await upsertAimoRow(wh, 'model_registry', {
        version_id: version,
        use_case: USE_CASE,
        workflow_id: `rollout-${version}`,
        status: 'registered',
        features_json: '[]',
        model_json: 'null',
        metrics_json: '{"auc":0.7}',
        lineage_json: JSON.stringify({ scoresTable: `aimo.${scores}` }),
        registered_at: AT,
      });
    }
    await promote(wh, { useCase: USE_CASE, versionId: V1, by: 'rollout-1', reason: 'first champion', at: AT });
    return await body(wh);
  } finally {
    await wh.close();
  }
}

/** Every aimo table, and who the serving view serves with which score. */
async function state(wh: DuckDbWarehouse) {
  const served = await wh.query<{ version_id: string; users: number; score_sum: number }>(
    `SELECT version_id, COUNT(*) AS users, ROUND(SUM(score), 9) AS score_sum FROM ${wh.dialect.table(servingView(USE_CASE))} GROUP BY 1 ORDER BY 1`,
  );
  return { tables: await tableChecksums(wh, 'aimo'), served };
}

/** The warehouse as a worker sees it that is lost once `k − 1` writes have finished. */
function losingWorkerAt(wh: Warehouse, k: number): Warehouse {
  let writes = 0;
  const guard = () => {
    if (writes === k - 1) throw new Error(`worker lost after write ${k - 1}`);
    writes++;
  };
  const proxy: Warehouse = Object.create(wh);
  proxy.execute = async (...args) => (guard(), wh.execute(...args));
  proxy.merge = async (...args) => (guard(), wh.merge(...args));
  proxy.createOrReplaceTableAs = async (...args) => (guard(), wh.createOrReplaceTableAs(...args));
  return proxy;
}
