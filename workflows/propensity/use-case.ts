import { log, patched, sleep } from '@temporalio/workflow';
import { durationToMs } from '../../domain/duration';
import { experimentSettings, type GuardrailReadout, type SequentialLookRecord } from '../../domain/experiment';
import { checkPlan, isPropensityPlan, type RolloutPlan } from '../../domain/plan';
import type { ExperimentAssignment, ExperimentReadout, ModelRun, ModelVersion } from '../../domain/propensity/results';
import { registerUseCase, type StepReport, type StepRun } from '../../domain/rollout/contract';
import { formatNumber as fmt } from '../../domain/rollout/format';
import { dataActivities, quickActivities } from '../activity-proxies';
import { stopOnBlockingGaps } from '../rollout/blocking-gaps';
import { runDataPath } from './data-path';
import { scaleOut } from './scale';
import { formatTable } from '../../domain/table-ref';

/** What the steps of one propensity rollout hand on to the next. */
interface PropensityState {
  models: ModelRun[];
  model?: ModelVersion;
}

type Run = StepRun<RolloutPlan>;

function trained(state: PropensityState): ModelVersion {
  if (!state.model) throw new Error('the baseline model step has not run');
  return state.model;
}

/** 1 KPI definition — the baseline is measured from data, never typed in. */
async function kpi(run: Run): Promise<StepReport> {
  const kpi = await dataActivities.measureKpiBaseline({ ctx: run.ctx, plan: run.plan });
  run.result.kpi = kpi;
  return {
    status: kpi.baseline === null ? 'failed' : 'passed',
    summary: `${run.plan.kpi.metric} baseline ${fmt(kpi.baseline)} → target ${fmt(kpi.target)}`,
    numbers: { baseline: kpi.baseline, target: kpi.target },
  };
}

/** 2 Data inventory — blocking gaps end the rollout with a readable report. */
async function inventory(run: Run): Promise<StepReport> {
  const inventory = await dataActivities.inventorySources({ ctx: run.ctx, plan: run.plan });
  run.result.inventory = inventory;
  if (inventory.blocking.length > 0) return stopOnBlockingGaps(run, inventory);
  return {
    status: 'passed',
    summary: `${inventory.sources.length} sources, ${inventory.warnings.length} warning(s)`,
    numbers: { consentCoverage: inventory.consentCoverage, identityMatchRate: inventory.identityMatchRate, warnings: inventory.warnings.length },
  };
}

/** 3 Data path — the DAG of SQL models, level by level. */
async function dataPath(run: Run, state: PropensityState): Promise<StepReport> {
  state.models = await runDataPath(run.ctx, run.plan);
  const failedExpectations = state.models.flatMap((m) => m.expectations.filter((e) => !e.success).map((e) => `${m.model}: ${e.name}`));
  run.result.dataPath = { models: state.models, failedExpectations };
  return {
    status: failedExpectations.length ? 'failed' : 'passed',
    summary: `${state.models.length} models, ${failedExpectations.length} failed expectation(s)`,
    numbers: { models: state.models.length, featureRows: state.models.find((m) => m.model === 'features')?.rows ?? 0, failedExpectations: failedExpectations.length },
  };
}

/** 4 Baseline model — trained where the data lives, registered with lineage. */
async function baselineModel(run: Run, state: PropensityState): Promise<StepReport> {
  const model = await dataActivities.trainBaselineModel({ ctx: run.ctx, plan: run.plan, registeredAt: new Date().toISOString() });
  state.model = model;
  run.result.model = model;
  return {
    status: 'passed',
    summary: `model ${model.versionId}: AUC ${fmt(model.metrics.auc)}`,
    numbers: { version: model.versionId, auc: model.metrics.auc, logLoss: model.metrics.logLoss, brier: model.metrics.brier },
  };
}

/** 5 Guardrails — fail closed; stop or ask a person, as the plan says. */
async function guardrails(run: Run, state: PropensityState): Promise<StepReport> {
  const report = await dataActivities.evaluateGuardrails({ ctx: run.ctx, plan: run.plan, dataPath: state.models, model: trained(state) });
  run.result.guardrails = report;
  const failed = report.checks.filter((c) => !c.passed);
  const outcome: StepReport = {
    status: report.passed ? 'passed' : 'failed',
    summary: report.passed ? `${report.checks.length} checks passed` : `failed: ${failed.map((c) => c.name).join(', ')}`,
    numbers: { checks: report.checks.length, failed: failed.length },
  };
  await run.audit('guardrails', report.passed ? 'passed' : 'failed', failed.map((c) => `${c.name}: ${c.detail}`).join('; ') || 'all checks passed');
  if (report.passed) return outcome;
  if (run.plan.guardrails.onFailure === 'stop') {
    return { ...outcome, end: { state: 'failed', failure: `Guardrails failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}` } };
  }
  const decision = await run.approval('guardrails');
  await run.audit('guardrails', decision.decision, decision.reason, decision.by);
  if (decision.decision === 'reject') return { ...outcome, end: { state: 'rejected', failure: `Rejected at the guardrail gate by ${decision.by}: ${decision.reason}` } };
  return outcome;
}

/** Patch id of the designed experiment: power first, A/A, sequential looks, geo (see docs/versioning.md). */
const EXPERIMENT_DESIGNED = 'experiment-designed-sequential-geo';

/** Rollouts automated before this patch created no daily jump check schedule; they replay without it. */
const AUTOMATION_JUMP_CHECK = 'automation-jump-check';

/**
 * 6 Experiment — designed before it runs (power, MDE), optionally A/A
 * checked, assigned by user or by region, a durable wait with interim
 * checks (and sequential looks that may stop it), then the readout with its
 * guardrail metrics and the ship decision.
 */
async function experiment(run: Run, state: PropensityState): Promise<StepReport> {
  if (!patched(EXPERIMENT_DESIGNED)) return legacyExperiment(run, state);
  const { ctx, plan } = run;
  const s = experimentSettings(plan);
  const startDate = plan.experiment.startDate ?? new Date().toISOString().slice(0, 10);
  const design = await dataActivities.designExperiment({ ctx, plan, startDate });
  const designNumbers = { power: design.power, mde: design.mdeRelative, detectable: design.detectableRelative, requiredUsers: design.requiredUsers, requiredDays: design.requiredDays };
  if (design.underpowered && s.onUnderpowered === 'stop') {
    await run.audit('experiment', 'underpowered', design.summary);
    return { status: 'failed', summary: `underpowered: ${design.summary}`, numbers: designNumbers, end: { state: 'failed', failure: `The experiment cannot reach ${Math.round(s.power * 100)} % power: ${design.summary}` } };
  }
  if (design.underpowered && s.onUnderpowered === 'approval') {
    const decision = await run.approval('experiment-power');
    await run.audit('experiment', decision.decision, `power gate (${design.summary}): ${decision.reason}`, decision.by);
    if (decision.decision === 'reject') {
      return { status: 'failed', summary: `underpowered: ${design.summary}`, numbers: designNumbers, end: { state: 'rejected', failure: `Rejected at the power gate by ${decision.by}: ${decision.reason} (${design.summary})` } };
    }
  }
  if (s.aaCheck) {
    const aa = await dataActivities.runAaCheck({ ctx, plan, startDate, from: design.baselineWindow.from });
    await run.audit('experiment', aa.passed ? 'aa-passed' : 'aa-failed', aa.summary);
    if (!aa.passed) return { status: 'failed', summary: aa.summary, numbers: { aaFalsePositiveRate: aa.falsePositiveRate, aaLimit: aa.limit }, end: { state: 'failed', failure: `The A/A check failed: ${aa.summary}` } };
  }
  const geo = s.design === 'geo';
  const assignment = geo
    ? await dataActivities.assignGeoExperiment({ ctx, plan, model: trained(state), startDate, design })
    : await dataActivities.assignExperiment({ ctx, plan, model: trained(state), startDate });
  // The design is part of the start's record: an underpowered test that goes on says so here.
  await run.audit('experiment', 'started', `${design.summary}; ${assignment.treatment} treated, ${assignment.control} control${assignment.geo ? ` in ${assignment.geo.regions} regions (${assignment.geo.pairs} pairs)` : ''}; activation list ${formatTable(assignment.activationTable)}`);
  if (plan.experiment.outcomeSource === 'simulator') await dataActivities.simulateExperimentOutcomes({ ctx, plan, assignment });
  const kpi = run.result.kpi;
  const readout =
    (await waitWithLooks(plan, s.analysis === 'sequential' && !geo, assignment, {
      health: () => dataActivities.checkExperimentHealth({ ctx, plan, assignment }),
      look: (look) => dataActivities.readExperiment({ ctx, plan, assignment, design, ...(kpi ? { kpi } : {}), look }),
    })) ??
    (geo
      ? await dataActivities.readGeoExperiment({ ctx, plan, assignment, design, ...(kpi ? { kpi } : {}) })
      : await dataActivities.readExperiment({ ctx, plan, assignment, design, ...(kpi ? { kpi } : {}) }));
  run.result.experiment = readout;
  await run.audit('experiment', readout.ship ? 'ship' : 'no-ship', readout.decision?.reasons.length ? `${readout.summary} — ${readout.decision.reasons.join('; ')}` : readout.summary);
  const primary = readout.decision?.primary ?? readout.effect;
  return {
    status: readout.ship ? 'passed' : 'failed',
    summary: readout.summary,
    numbers: {
      uplift: primary.absolute,
      ciLow: primary.ciLow,
      ciHigh: primary.ciHigh,
      srmPValue: readout.srm.pValue,
      ship: readout.ship,
      power: design.power,
      guardrailsFailed: (readout.guardrails ?? []).filter((g: GuardrailReadout) => g.failed).length,
      ...(readout.sequential ? { looks: readout.sequential.looks.length, stoppedEarly: readout.sequential.stoppedEarly } : {}),
    },
    ...(readout.ship ? {} : { end: { state: 'completed' } }),
  };
}

/**
 * The designed experiment's durable wait: sleeps on the plan's cadence with
 * an SRM check each time; a sequential test also takes a look then, over the
 * outcome days that share of the wait stands for, and ends the wait when a
 * boundary is crossed or the last look is in (that look is the readout).
 */
async function waitWithLooks(
  plan: RolloutPlan,
  sequential: boolean,
  assignment: ExperimentAssignment,
  activities: {
    health: () => Promise<{ srmFlagged: boolean }>;
    look: (look: { days: number; fraction: number; final: boolean; previous: SequentialLookRecord[] }) => Promise<ExperimentReadout>;
  },
): Promise<ExperimentReadout | undefined> {
  const total = durationToMs(plan.experiment.duration);
  const every = Math.min(durationToMs(plan.experiment.checkEvery), total);
  const days = plan.experiment.measureDays;
  let looks: SequentialLookRecord[] = [];
  let lastDays = 0;
  for (let waited = 0; waited < total; ) {
    const step = Math.min(every, total - waited);
    await sleep(step);
    waited += step;
    const health = await activities.health();
    if (health.srmFlagged) log.warn('sample ratio mismatch at an interim check', { waitedMs: waited, experimentId: assignment.experimentId });
    if (!sequential) continue;
    const final = waited >= total;
    const lookDays = final ? days : Math.max(1, Math.floor((days * waited) / total));
    // Two checks inside one outcome day would read the same data twice: only a new day is a look.
    if (!final && lookDays <= lastDays) continue;
    lastDays = lookDays;
    const readout = await activities.look({ days: lookDays, fraction: lookDays / days, final, previous: looks });
    looks = readout.sequential?.looks ?? looks;
    if (final || readout.sequential?.stop) return readout;
  }
  return undefined;
}

/** 6 Experiment as rollouts started before 0.3 run it: one fixed-horizon readout, SRM-only interim checks. */
async function legacyExperiment(run: Run, state: PropensityState): Promise<StepReport> {
  const { ctx, plan } = run;
  const startDate = plan.experiment.startDate ?? new Date().toISOString().slice(0, 10);
  const assignment = await dataActivities.assignExperiment({ ctx, plan, model: trained(state), startDate });
  await run.audit('experiment', 'started', `${assignment.treatment} treated, ${assignment.control} control; activation list ${formatTable(assignment.activationTable)}`);
  if (plan.experiment.outcomeSource === 'simulator') await dataActivities.simulateExperimentOutcomes({ ctx, plan, assignment });
  await waitForOutcomes(plan, () => dataActivities.checkExperimentHealth({ ctx, plan, assignment }));
  const readout = await dataActivities.readExperiment({ ctx, plan, assignment });
  run.result.experiment = readout;
  await run.audit('experiment', readout.ship ? 'ship' : 'no-ship', readout.summary);
  return {
    status: readout.ship ? 'passed' : 'failed',
    summary: readout.summary,
    numbers: { uplift: readout.effect.absolute, ciLow: readout.effect.ciLow, ciHigh: readout.effect.ciHigh, srmPValue: readout.srm.pValue, ship: readout.ship },
    // A test that does not ship ends the rollout as completed: the answer is in.
    ...(readout.ship ? {} : { end: { state: 'completed' } }),
  };
}

/** The experiment's durable wait: sleeps on the plan's cadence, checking health each time. */
async function waitForOutcomes(plan: RolloutPlan, check: () => Promise<{ srmFlagged: boolean }>): Promise<void> {
  const total = durationToMs(plan.experiment.duration);
  const every = Math.min(durationToMs(plan.experiment.checkEvery), total);
  for (let waited = 0; waited < total; ) {
    const step = Math.min(every, total - waited);
    await sleep(step);
    waited += step;
    const health = await check();
    if (health.srmFlagged) log.warn('sample ratio mismatch at an interim check', { waitedMs: waited });
  }
}

/** 7 Automation — the model becomes champion; retrain, drift, retention and jump check schedules, alert routes. */
async function automation(run: Run, state: PropensityState): Promise<StepReport> {
  const model = trained(state);
  const automation = await quickActivities.applyAutomation({
    ctx: run.ctx,
    plan: run.plan,
    model,
    at: new Date().toISOString(),
    ...(patched(AUTOMATION_JUMP_CHECK) ? { jumpCheck: true } : {}),
  });
  run.result.automation = automation;
  await run.audit('automation', 'promoted', `model ${model.versionId} is champion; schedules applied`);
  return {
    status: 'passed',
    summary: `schedules: ${automation.schedules.map((s) => `${s.scheduleId} ${s.outcome}`).join(', ')}`,
    numbers: { schedules: automation.schedules.length, alertRoutes: automation.alertRoutes },
  };
}

/** 8 Scale — one child rollout per target, bounded concurrency. */
async function scale(run: Run): Promise<StepReport> {
  const children = await scaleOut(run.plan, run.ctx.workflowId);
  run.result.scale = children;
  const completed = children.filter((c) => c.status === 'completed').length;
  return {
    status: run.plan.scale.targets.length === 0 ? 'skipped' : 'passed',
    summary: `${completed}/${children.length} child rollouts completed`,
    numbers: { targets: children.length, completed },
  };
}

/** The propensity use case: a conversion-propensity model, tested in an A/B experiment, then automated and scaled. */
export const propensityUseCase = registerUseCase<RolloutPlan, PropensityState>({
  kind: 'propensity',
  checkPlan(input) {
    const checked = checkPlan(input);
    if (!checked.ok) return checked;
    return isPropensityPlan(checked.plan) ? { ok: true, plan: checked.plan } : { ok: false, problems: ['kind: this is not a propensity plan'] };
  },
  initialState: () => ({ models: [] }),
  steps: { kpi, inventory, 'data-path': dataPath, 'baseline-model': baselineModel, guardrails, experiment, automation, scale },
});
