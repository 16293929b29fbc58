import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { RolloutResult } from '../domain/rollout/result';
import { checkPlan, isPropensityPlan } from '../domain/plan';
import type { Warehouse } from '../warehouse/warehouse';
import { rollout } from '../workflows';
import { rolloutWorkflowId } from '../domain/rollout/definitions';
import { formatTable } from '../domain/table-ref';

export const DEMO_PLAN_PATH = join(__dirname, '..', 'plans', 'demo-paid-search-cac.json');
export const CONTENT_DEMO_PLAN_PATH = join(__dirname, '..', 'plans', 'demo-search-ad-content.json');

export function demoPlan(): unknown {
  return JSON.parse(readFileSync(DEMO_PLAN_PATH, 'utf8')) as unknown;
}

/**
 * Starts the demo rollout once per Temporal history: a second `npm start`
 * on the same data folder finds it and leaves it alone.
 */
export function startDemoRollout(client: Client, taskQueue: string): Promise<{ workflowId: string; started: boolean }> {
  return startPlan(client, taskQueue, demoPlan());
}

/** The content demo: search ads for the simulated products, through the configured endpoint or the local stand-in. */
export function startContentDemoRollout(client: Client, taskQueue: string): Promise<{ workflowId: string; started: boolean }> {
  return startPlan(client, taskQueue, JSON.parse(readFileSync(CONTENT_DEMO_PLAN_PATH, 'utf8')) as unknown);
}

async function startPlan(client: Client, taskQueue: string, plan: unknown): Promise<{ workflowId: string; started: boolean }> {
  const checked = checkPlan(plan);
  if (!checked.ok) throw new Error(`the demo plan is invalid:\n${checked.problems.join('\n')}`);
  const workflowId = rolloutWorkflowId(checked.plan.useCase, 'demo');
  try {
    await client.workflow.start(rollout, {
      taskQueue,
      workflowId,
      args: [plan],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}

export interface DemoSummary {
  readonly lines: string[];
  readonly ok: boolean;
}

/** The demo's outcome next to what the simulator planted. */
export async function summariseDemo(result: RolloutResult, warehouse: Warehouse): Promise<DemoSummary> {
  const schema = isPropensityPlan(result.plan) ? result.plan.sources.schema : 'raw';
  const [planted] = await warehouse.query<{ value: number }>(
    `SELECT value FROM ${warehouse.dialect.table({ schema, name: 'truth_effect' })} WHERE metric = 'conversion_uplift_absolute'`,
  );
  const pp = (v: number | undefined | null) => (v === undefined || v === null ? 'n/a' : `${(v * 100).toFixed(2)} pp`);
  const lines = [`Rollout ${result.workflowId}: ${result.status}${result.failure ? ` — ${result.failure}` : ''}`];
  // Rollouts of earlier releases have no readout in their result.
  if (result.readout) lines.push(`  ${result.readout.headline}`);
  if (result.kpi) lines.push(`  KPI baseline (${result.kpi.metric}, ${result.kpi.window.from} – ${result.kpi.window.to}): ${result.kpi.baseline?.toFixed(2) ?? 'n/a'} → target ${result.kpi.target?.toFixed(2) ?? 'n/a'}`);
  if (result.model) lines.push(`  Baseline model ${result.model.versionId}: holdout AUC ${result.model.metrics.auc.toFixed(3)}`);
  const e = result.experiment;
  if (e) {
    lines.push(`  Experiment uplift: ${pp(e.effect.absolute)} (95 % CI ${pp(e.effect.ciLow)} to ${pp(e.effect.ciHigh)}); planted by the simulator: ${pp(planted?.value)}`);
    lines.push(`  Decision: ${e.ship ? 'ship' : 'no ship'}; cost per incremental conversion ${e.costPerIncrementalConversion?.toFixed(2) ?? 'n/a'}`);
  }
  for (const child of result.scale ?? []) lines.push(`  Scaled to ${child.channel}/${child.market}: ${child.status} (${child.workflowId})`);
  if (result.reportUrl) lines.push(`  Report: ${result.reportUrl}`);
  if (result.reportPath) lines.push(`  ${result.reportUrl ? 'Cached:' : 'Report:'} ${result.reportPath}`);
  return { lines, ok: result.status === 'completed' };
}

/** The content demo's numbers: what was generated, caught, paid for, and what the bandit found. */
export function summariseContentDemo(result: RolloutResult, localStandIn: boolean): DemoSummary {
  const lines = [`Content rollout ${result.workflowId}: ${result.status}${result.failure ? ` — ${result.failure}` : ''}`];
  if (result.readout) lines.push(`  ${result.readout.headline}`);
  if (localStandIn) lines.push('  LLM: the local stand-in (no AIMO_LLM_API_KEY): ads are templated from the product facts, not written by a model');
  const c = result.content;
  if (c) {
    if (c.baseline.baseline !== null) lines.push(`  Incumbent CTR: ${(c.baseline.baseline * 100).toFixed(2)} % over ${c.baseline.impressions} impressions`);
    const g = c.generation;
    if (g) {
      lines.push(`  Generation: ${g.calls} paid call(s), ${g.cachedCalls} cached, ${g.fallbackCalls} by the fallback model; ${g.promptTokens + g.completionTokens} tokens, cost ${g.cost.toFixed(6)}`);
      lines.push(`  Guardrails: ${g.accepted} accepted, ${g.rejected} rejected and regenerated, ${g.review} sent to review; PII fields removed before sending: ${g.piiRemoved}`);
      for (const v of c.variants.filter((x) => x.status === 'rejected')) lines.push(`    rejected ${v.productId}: "${v.description}" — ${v.violations.map((x) => x.detail).join('; ')}`);
    }
    lines.push(`  Cost per accepted asset: ${c.costPerAcceptedAsset === null ? 'n/a' : c.costPerAcceptedAsset.toFixed(6)}`);
    for (const e of c.experiments) {
      const regret = e.regret ? `; regret ${e.regret.bandit.toFixed(1)} clicks vs ${e.regret.evenSplit.toFixed(1)} for an even split; planted best ${e.regret.bestArm}` : '';
      lines.push(`  Bandit ${e.productId}: ${e.winner ? `winner ${e.winner}` : 'no winner'} after ${e.rounds} round(s)${regret}`);
    }
    if (c.published) lines.push(`  Live creatives: ${formatTable(c.published)}`);
  }
  if (result.reportUrl) lines.push(`  Report: ${result.reportUrl}`);
  if (result.reportPath) lines.push(`  ${result.reportUrl ? 'Cached:' : 'Report:'} ${result.reportPath}`);
  return { lines, ok: result.status === 'completed' };
}
