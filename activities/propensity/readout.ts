import { analyseExperiment, measureExperimentArms } from '../../analytics/experiment';
import { analyseGeo, measureRegions, type RegionPair } from '../../analytics/experiment-geo';
import { evaluateGuardrails } from '../../analytics/experiment-guardrails';
import { NonRetryableError } from '../../domain/errors';
import { sequentialEndInterval, sequentialLook } from '../../analytics/experiment-sequential';
import { addDaysIso } from '../../domain/dates';
import {
  experimentSettings,
  type ExperimentAnalysis,
  type ExperimentDesign,
  type GuardrailReadout,
  type PrimaryEffect,
  type SequentialLookRecord,
  type SequentialReadout,
  type ShipDecision,
} from '../../domain/experiment';
import type { RolloutPlan } from '../../domain/plan';
import type { ExperimentAssignment, ExperimentReadout, KpiBaseline } from '../../domain/propensity/results';
import { sourceTable } from '../../domain/propensity/sources';
import type { RolloutContext } from '../../domain/rollout/context';
import { storedTableRef } from '../../domain/table-ref';
import { stableJson, upsertAimoRow } from '../../store/aimo-tables';
import { stepWarehouse } from '../../store/query-context';
import type { ActivityDependencies } from '../dependencies';
import { toNumber } from '../../analytics/sql';

/** An interim look of a sequential test: which days it reads and the looks before it. */
export interface InterimLook {
  readonly days: number;
  readonly fraction: number;
  readonly final: boolean;
  readonly previous: readonly SequentialLookRecord[];
}

export interface ReadExperimentInput {
  readonly ctx: RolloutContext;
  readonly plan: RolloutPlan;
  readonly assignment: ExperimentAssignment;
  /** From this release on: the design the test was started with, and the KPI step's baseline (for the CAC guardrail) */
  readonly design?: ExperimentDesign;
  readonly kpi?: KpiBaseline;
  /** Sequential tests: the look this readout is; without it, the readout at the end of the window */
  readonly look?: InterimLook;
}

const pp = (v: number) => `${(v * 100).toFixed(2)} pp`;

export function createExperimentReadoutActivities({ warehouse }: ActivityDependencies) {
  return {
    /**
     * Step 6b: the readout — effect with its CI (CUPED-adjusted, or the
     * sequential boundary's), SRM, guardrail metrics, cost per incremental
     * result, and the ship rule. A final readout is stored in
     * aimo.experiments by experiment id (a rerun replaces it); an interim
     * look that does not stop the test is only returned.
     */
    async readExperiment({ ctx, plan, assignment, design, kpi, look }: ReadExperimentInput): Promise<ExperimentReadout> {
      const s = experimentSettings(plan);
      const to = look ? addDaysIso(assignment.startDate, look.days) : assignment.endDate;
      const arms = await measureExperimentArms(stepWarehouse(warehouse, ctx, plan), {
        assignmentTable: storedTableRef(assignment.assignmentTable),
        ordersTable: sourceTable(plan, 'orders'),
        timestampColumn: 'order_ts',
        from: assignment.startDate,
        to,
        ...(s.guardrailMetrics.some((m) => m === 'return_rate' || m === 'clv') ? { returnFlagColumn: 'returned' } : {}),
        ...(s.cuped ? { prePeriod: { from: addDaysIso(assignment.startDate, -s.cupedPreDays), to: assignment.startDate } } : {}),
      });
      const confidence = 1 - s.alpha;
      const analysis = analyseExperiment(arms, {
        expectedTreatmentShare: plan.experiment.treatmentShare,
        costPerTreatedUser: plan.experiment.costPerTreatedUser,
        confidence,
      });
      const guardrails = evaluateGuardrails(analysis, guardrailOptions(plan, confidence, kpi));
      let sequential: SequentialReadout | undefined;
      if (s.analysis === 'sequential' && look) {
        const { control, treatment } = analysis.arms;
        const record = sequentialLook(look.previous, {
          days: look.days,
          fraction: look.fraction,
          final: look.final,
          estimate: analysis.effect.absolute,
          standardError: analysis.effect.standardError,
          pooledRate: (control.converters + treatment.converters) / (control.users + treatment.users),
        }, s.alpha);
        const looks = [...look.previous, record];
        const ended = (look.final || record.stop !== null) && record.boundary !== null && record.zScore !== null;
        sequential = {
          method: "group-sequential, O'Brien–Fleming alpha spending",
          looks,
          stoppedEarly: record.stop !== null && !look.final,
          stop: record.stop,
          ...(ended ? { end: { method: 'stage-wise ordering' as const, ...sequentialEndInterval(looks, record.zScore!, analysis.effect.standardError, confidence) } } : {}),
        };
      }
      const decision = decide(plan, analysis, guardrails, sequential, primaryEffect(analysis, sequential, s.cuped, confidence));
      const summary = summarise(decision, analysis, guardrails, sequential);
      const readout: ExperimentReadout = {
        ...analysis,
        experimentId: assignment.experimentId,
        window: { from: assignment.startDate, to },
        ship: decision.ship,
        summary,
        ...(design ? { design } : {}),
        guardrails,
        ...(sequential ? { sequential } : {}),
        decision,
      };
      if (!look || look.final || sequential?.stop) {
        await upsertAimoRow(warehouse, 'experiments', {
          experiment_id: assignment.experimentId,
          use_case: ctx.useCase,
          workflow_id: ctx.workflowId,
          readout_json: stableJson(readout),
          ship: decision.ship,
        });
      }
      return readout;
    },

    /**
     * Step 6b of a geo test: per region the conversion of all its users in
     * the window and in the pre-period, the matched-pairs
     * difference-in-differences with its randomisation interval (the primary
     * effect), the user-level arms for SRM, cost and guardrails, and the
     * ship rule. Stored in aimo.experiments by experiment id.
     */
    async readGeoExperiment({ ctx, plan, assignment, design, kpi }: ReadExperimentInput & { design: ExperimentDesign }): Promise<ExperimentReadout> {
      const s = experimentSettings(plan);
      const geo = assignment.geo;
      if (!geo) throw new NonRetryableError('NotAGeoTest', `experiment ${assignment.experimentId} was not assigned by region: read it with readExperiment`);
      const wh = stepWarehouse(warehouse, ctx, plan);
      const confidence = 1 - s.alpha;
      const window = { from: assignment.startDate, to: assignment.endDate };
      const regions = await measureRegions(wh, {
        regionsTable: { schema: plan.sources.schema, name: s.geo.regionsTable },
        ordersTable: sourceTable(plan, 'orders'),
        market: plan.kpi.market,
        window,
        preWindow: design.baselineWindow,
      });
      const pairRows = await wh.query(
        `SELECT ${wh.dialect.quote('pair')} AS p, ${wh.dialect.quote('region')} AS region, ${wh.dialect.quote('arm')} AS arm FROM ${wh.dialect.table(storedTableRef(geo.regionAssignmentTable))} ORDER BY 1, 3`,
      );
      const pairs: RegionPair[] = [];
      for (const r of pairRows) {
        const pair = toNumber(r['p']);
        const entry = pairs.find((x) => x.pair === pair) ?? (pairs.push({ pair, treatment: '', control: '' }), pairs.at(-1)!);
        Object.assign(entry, { [String(r['arm'])]: String(r['region']) });
      }
      const geoReadout = analyseGeo(regions, pairs, { confidence, permutations: s.geo.permutations, preWindow: design.baselineWindow });
      const arms = await measureExperimentArms(wh, {
        assignmentTable: storedTableRef(assignment.assignmentTable),
        ordersTable: sourceTable(plan, 'orders'),
        timestampColumn: 'order_ts',
        ...window,
        ...(s.guardrailMetrics.some((m) => m === 'return_rate' || m === 'clv') ? { returnFlagColumn: 'returned' } : {}),
      });
      const analysis = analyseExperiment(arms, {
        expectedShares: { control: assignment.control, treatment: assignment.treatment },
        costPerTreatedUser: plan.experiment.costPerTreatedUser,
        confidence,
      });
      const guardrails = evaluateGuardrails(analysis, guardrailOptions(plan, confidence, kpi));
      const e = geoReadout.effect;
      const decision = decide(plan, analysis, guardrails, undefined, { method: 'geo-randomisation', absolute: e.estimate, ciLow: e.ciLow, ciHigh: e.ciHigh, confidence });
      const summary = `${summarise(decision, analysis, guardrails, undefined)} (${geoReadout.regions} regions in ${geoReadout.pairs.length} pairs)`;
      const readout: ExperimentReadout = { ...analysis, experimentId: assignment.experimentId, window, ship: decision.ship, summary, design, guardrails, geo: geoReadout, decision };
      await upsertAimoRow(warehouse, 'experiments', {
        experiment_id: assignment.experimentId,
        use_case: ctx.useCase,
        workflow_id: ctx.workflowId,
        readout_json: stableJson(readout),
        ship: decision.ship,
      });
      return readout;
    },
  };
}

/** How the plan's guardrail metrics are judged, the same for a user-level and a geo test. */
function guardrailOptions(plan: RolloutPlan, confidence: number, kpi: KpiBaseline | undefined) {
  const s = experimentSettings(plan);
  return {
    metrics: s.guardrailMetrics,
    tolerance: s.guardrailTolerance,
    tolerances: s.guardrailTolerances,
    costPerTreatedUser: plan.experiment.costPerTreatedUser,
    confidence,
    baselineCac: kpi ? cacOf(kpi) : null,
  };
}

function cacOf(kpi: KpiBaseline): number | null {
  const spend = kpi.components['spend'];
  const customers = kpi.components['new_customers'];
  return spend !== undefined && customers !== undefined && customers > 0 ? spend / customers : null;
}

/** The interval the decision is taken on: at a sequential test's end its stage-wise one, at its interim looks the repeated one; else CUPED's, else Newcombe's. */
function primaryEffect(analysis: ExperimentAnalysis, sequential: SequentialReadout | undefined, cuped: boolean, confidence: number): PrimaryEffect {
  const last = sequential?.looks.at(-1);
  if (last && last.estimate !== null && sequential?.end) {
    return { method: 'sequential-stagewise', absolute: last.estimate, ciLow: sequential.end.ciLow, ciHigh: sequential.end.ciHigh, confidence };
  }
  if (last && last.boundary !== null && last.estimate !== null && last.ciLow !== null && last.ciHigh !== null) {
    return { method: 'sequential', absolute: last.estimate, ciLow: last.ciLow, ciHigh: last.ciHigh, confidence };
  }
  const adjusted = cuped ? analysis.adjusted?.conversion : undefined;
  if (adjusted && adjusted.standardError > 0) return { method: 'cuped', absolute: adjusted.absolute, ciLow: adjusted.ciLow, ciHigh: adjusted.ciHigh, confidence };
  return { method: 'newcombe', absolute: analysis.effect.absolute, ciLow: analysis.effect.ciLow, ciHigh: analysis.effect.ciHigh, confidence };
}

function decide(plan: RolloutPlan, analysis: ExperimentAnalysis, guardrails: GuardrailReadout[], sequential: SequentialReadout | undefined, primary: PrimaryEffect): ShipDecision {
  const confidence = primary.confidence;
  const byEstimate = plan.experiment.shipRule === 'point_estimate_positive';
  const reasons: string[] = [];
  if (analysis.srm.flagged) reasons.push(`sample ratio mismatch (p = ${analysis.srm.pValue.toPrecision(3)}${analysis.srm.unexpectedArms.length ? `, unexpected arms ${analysis.srm.unexpectedArms.join(', ')}` : ''})`);
  if (sequential?.stop === 'harm') reasons.push('stopped early for harm: the conversion effect crossed the lower boundary');
  else if (byEstimate ? !(primary.absolute > 0) : !(primary.ciLow > 0)) {
    reasons.push(byEstimate ? 'the estimated uplift is not positive' : `the ${Math.round(confidence * 100)} % interval of the uplift does not exclude zero`);
  }
  for (const g of guardrails.filter((x) => x.failed)) reasons.push(`guardrail ${g.metric} failed: ${g.detail}`);
  const rule =
    `${byEstimate ? 'estimated uplift > 0' : `${Math.round(confidence * 100)} % CI of the uplift above 0`} (${primary.method}), no sample ratio mismatch, ` +
    `no guardrail metric significantly worse by more than its tolerance${sequential ? ', no stop for harm' : ''}`;
  return { ship: reasons.length === 0, rule, primary, reasons };
}

function summarise(decision: ShipDecision, analysis: ExperimentAnalysis, guardrails: GuardrailReadout[], sequential: SequentialReadout | undefined): string {
  const p = decision.primary;
  const failed = guardrails.filter((g) => g.failed).map((g) => g.metric);
  const parts = [`uplift ${pp(p.absolute)} (${Math.round(p.confidence * 100)} % CI ${pp(p.ciLow)} to ${pp(p.ciHigh)}, ${p.method})`];
  if (sequential?.stoppedEarly) parts.push(`stopped early for ${sequential.stop} at look ${sequential.looks.length} (day ${sequential.looks.at(-1)!.days})`);
  if (analysis.srm.flagged) parts.push('sample ratio mismatch');
  if (failed.length) parts.push(`guardrail failed: ${failed.join(', ')}`);
  else if (guardrails.length) parts.push(`guardrails within tolerance: ${guardrails.map((g) => g.metric).join(', ')}`);
  return `${parts.join(', ')}: ${decision.ship ? 'ship' : 'no ship'}`;
}
