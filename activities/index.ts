import { createBanditActivities } from './content/bandit';
import { createContentBaselineActivities } from './content/baseline';
import { createCreativeActivities } from './content/creatives';
import { createProductFactsActivities } from './content/facts';
import { createContentGenerationActivities } from './content/generate';
import type { ActivityDependencies } from './dependencies';
import { withFailureMapping } from './failures';
import { createAlertActivities } from './loops/alerts';
import { createDriftActivities } from './loops/drift';
import { createJumpActivities } from './loops/jumps';
import { createRetrainTriggerActivities } from './loops/retrain-trigger';
import { createChampionActivities } from './loops/champion';
import { createFreshnessActivities } from './loops/freshness';
import { createServingActivities } from './loops/serving';
import { createAuditActivities } from './rollout/audit';
import { createPlanRecordActivities } from './rollout/plan-record';
import { createAutomationActivities } from './propensity/automation';
import { createDataPathActivities } from './propensity/data-path';
import { createExperimentActivities } from './propensity/experiment';
import { createExperimentReadoutActivities } from './propensity/readout';
import { createGuardrailActivities } from './propensity/guardrails';
import { createInventoryActivities } from './propensity/inventory';
import { createKpiActivities } from './propensity/kpi';
import { createModelActivities } from './propensity/model';
import { createReportActivities } from './rollout/report';
import { createRetentionActivities } from './retention';
import { createSeedActivities } from './seed';
import { createMarketActivities } from './market';

export type { ActivityDependencies, LlmEndpoint } from './dependencies';

/** Every activity aimo registers, built from its dependencies: real clients in the worker and in tests. */
export function createActivities(deps: ActivityDependencies) {
  return withFailureMapping({
    ...createSeedActivities(deps),
    ...createMarketActivities(deps),
    ...createAuditActivities(deps),
    ...createPlanRecordActivities(),
    ...createKpiActivities(deps),
    ...createInventoryActivities(deps),
    ...createDataPathActivities(deps),
    ...createModelActivities(deps),
    ...createGuardrailActivities(deps),
    ...createExperimentActivities(deps),
    ...createExperimentReadoutActivities(deps),
    ...createAutomationActivities(deps),
    ...createReportActivities(deps),
    ...createChampionActivities(deps),
    ...createFreshnessActivities(deps),
    ...createServingActivities(deps),
    ...createDriftActivities(deps),
    ...createJumpActivities(deps),
    ...createRetrainTriggerActivities(deps),
    ...createAlertActivities(deps),
    ...createContentBaselineActivities(deps),
    ...createProductFactsActivities(deps),
    ...createCreativeActivities(deps),
    ...createBanditActivities(deps),
    ...createContentGenerationActivities(deps),
    ...createRetentionActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
