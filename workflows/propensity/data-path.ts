import type { RolloutPlan } from '../../domain/plan';
import type { ModelRun } from '../../domain/propensity/results';
import type { RolloutContext } from '../../domain/rollout/context';
import { PROPENSITY_DATA_PATH_LEVELS } from '../../pipelines/propensity/models';
import { dataActivities } from '../activity-proxies';

/** The data path's DAG, level by level; the models within a level run in parallel. */
export async function runDataPath(ctx: RolloutContext, plan: RolloutPlan): Promise<ModelRun[]> {
  const models: ModelRun[] = [];
  for (const level of PROPENSITY_DATA_PATH_LEVELS) {
    models.push(...(await Promise.all(level.map((model) => dataActivities.runDataModel({ ctx, plan, model })))));
  }
  return models;
}
