import { formatChange } from './format';
import type { GoalOutcome, RolloutReadout, RolloutResult } from './result';

export type { GoalOutcome, RolloutReadout } from './result';

/**
 * The KPI's relative change in the experiment, from the conversion lift it
 * measured (the decision's primary effect, CUPED-adjusted where it was): a
 * conversion-rate goal is the lift itself; a CAC goal is CAC at the same
 * spend, 1/(1 + lift) − 1 — the same relation the experiment's design uses to
 * size the test. Other KPIs are not measured per arm.
 */
function observedKpiChange(r: RolloutResult): number | null {
  const e = r.experiment;
  if (!e || !(e.effect.controlRate > 0)) return null;
  // A geo test's effect is per region, not a difference of user conversion rates.
  const primary = e.decision?.primary && e.decision.primary.method !== 'geo-randomisation' ? e.decision.primary : e.effect;
  const lift = primary.absolute / e.effect.controlRate;
  if (r.plan.kpi.metric === 'conversion_rate') return lift;
  if (r.plan.kpi.metric === 'cac' && lift > -1) return 1 / (1 + lift) - 1;
  return null;
}

export function goalOutcome(r: RolloutResult): GoalOutcome {
  const { metric, targetChange } = r.plan.kpi;
  const goal = `${metric} ${formatChange(targetChange)}`;
  const base = { metric, targetChange };
  if (!r.experiment) {
    const why = r.content ? 'the content bandits pick winners; they do not measure the KPI against a control' : `no experiment ran (rollout ${r.status})`;
    return { ...base, verdict: 'not measured', observedChange: null, detail: `${goal}: not measured — ${why}` };
  }
  const observed = observedKpiChange(r);
  if (observed === null) {
    return { ...base, verdict: 'not measured', observedChange: null, detail: `${goal}: not measured — the experiment measures conversion, not ${metric}, per arm (see its guardrail metrics)` };
  }
  // A negative target (CAC −15 %) is met at or below it, a positive one at or above it.
  const met = targetChange < 0 ? observed <= targetChange : observed >= targetChange;
  return { ...base, verdict: met ? 'met' : 'not met', observedChange: observed, detail: `${goal}: ${met ? 'met' : 'not met'}, observed ${formatChange(observed)} in the experiment${metric === 'cac' ? ' (CAC at the same spend, from the conversion lift)' : ''}` };
}

function decisionOf(r: RolloutResult): string {
  if (r.status === 'failed') return 'failed';
  if (r.status === 'rejected') return 'rejected';
  if (r.experiment) return r.experiment.ship ? 'ship' : 'no ship';
  const winners = r.content?.experiments.filter((b) => b.winner).length;
  if (winners !== undefined) return `${winners} of ${r.content?.experiments.length ?? 0} bandits found a winner`;
  return r.status;
}

function keyNumbers(r: RolloutResult): RolloutReadout['numbers'] {
  const n: Record<string, number | string | boolean | null> = {};
  if (r.kpi) {
    n['kpiBaseline'] = r.kpi.baseline;
    n['kpiTarget'] = r.kpi.target;
  }
  if (r.model) n['auc'] = r.model.metrics.auc;
  if (r.guardrails) n['guardrailsPassed'] = r.guardrails.checks.every((c) => c.passed);
  if (r.experiment) {
    n['effect'] = r.experiment.effect.absolute;
    n['effectCiLow'] = r.experiment.effect.ciLow;
    n['effectCiHigh'] = r.experiment.effect.ciHigh;
    n['srmFlagged'] = r.experiment.srm.flagged;
  }
  if (r.content) n['costPerAcceptedAsset'] = r.content.costPerAcceptedAsset;
  if (r.scale) n['childRollouts'] = r.scale.length;
  return n;
}

/** The compact readout of a finished (or stopped) rollout; pure, so the workflow, the report and the CLI agree. */
export function rolloutReadout(r: RolloutResult): RolloutReadout {
  const goal = goalOutcome(r);
  const decision = decisionOf(r);
  const verdict = goal.verdict === 'met' ? 'Goal met' : goal.verdict === 'not met' ? 'Goal not met' : 'Goal not measured';
  const observed = goal.observedChange === null ? '' : ` (observed ${formatChange(goal.observedChange)})`;
  const headline = `${verdict}: ${goal.metric} ${formatChange(goal.targetChange)}${observed}; decision: ${decision}; rollout ${r.status}`;
  return { headline, goal, decision, numbers: keyNumbers(r), ...(r.reportPath ? { report: r.reportPath } : {}), ...(r.reportUrl ? { reportUrl: r.reportUrl } : {}) };
}

