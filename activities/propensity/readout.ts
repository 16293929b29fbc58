import { analyseExperiment, measureExperimentArms } from '../../analytics/experiment';
import type { RolloutPlan } from '../../domain/plan';
import type { ExperimentAssignment, ExperimentReadout } from '../../domain/propensity/results';
import { sourceTable } from '../../domain/propensity/sources';
import type { RolloutContext } from '../../domain/rollout/context';
import { storedTableRef } from '../../domain/table-ref';
import { stableJson, upsertAimoRow } from '../../store/aimo-tables';
import { stepWarehouse } from '../../store/query-context';
import type { ActivityDependencies } from '../dependencies';

export function createExperimentReadoutActivities({ warehouse }: ActivityDependencies) {
  return {
    /** Step 6b: the readout — effect with its CI, SRM, cost per incremental result, and the ship rule. */
    async readExperiment({ ctx, plan, assignment }: { ctx: RolloutContext; plan: RolloutPlan; assignment: ExperimentAssignment }): Promise<ExperimentReadout> {
      const arms = await measureExperimentArms(stepWarehouse(warehouse, ctx, plan), {
        assignmentTable: storedTableRef(assignment.assignmentTable),
        ordersTable: sourceTable(plan, 'orders'),
        timestampColumn: 'order_ts',
        from: assignment.startDate,
        to: assignment.endDate,
      });
      const analysis = analyseExperiment(arms, {
        expectedTreatmentShare: plan.experiment.treatmentShare,
        costPerTreatedUser: plan.experiment.costPerTreatedUser,
      });
      const ship =
        !analysis.srm.flagged &&
        (plan.experiment.shipRule === 'ci_excludes_zero' ? analysis.effect.ciLow > 0 : analysis.effect.absolute > 0);
      const pctPts = (v: number) => `${(v * 100).toFixed(2)} pp`;
      const summary = `uplift ${pctPts(analysis.effect.absolute)} (95 % CI ${pctPts(analysis.effect.ciLow)} to ${pctPts(analysis.effect.ciHigh)})${analysis.srm.flagged ? ', sample ratio mismatch' : ''}: ${ship ? 'ship' : 'no ship'}`;
      const readout: ExperimentReadout = { ...analysis, experimentId: assignment.experimentId, window: { from: assignment.startDate, to: assignment.endDate }, ship, summary };
      await upsertAimoRow(warehouse, 'experiments', {
        experiment_id: assignment.experimentId,
        use_case: ctx.useCase,
        workflow_id: ctx.workflowId,
        readout_json: stableJson(readout),
        ship,
      });
      return readout;
    },
  };
}
