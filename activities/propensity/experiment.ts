import type { ExperimentAssignment, ModelVersion } from '../../domain/propensity/results';
import { log } from '@temporalio/activity';
import { addDaysIso } from '../../domain/dates';
import type { RolloutPlan } from '../../domain/plan';
import { runTable, type RolloutContext } from '../../domain/rollout/context';
import { srmTest } from '../../domain/stats';
import type { Warehouse } from '../../warehouse/warehouse';
import type { ActivityDependencies } from '../dependencies';
import { requireSimulator } from '../simulated-market';
import { stepWarehouse } from '../../store/query-context';
import { storedTableRef, type TableRef } from '../../domain/table-ref';

export function createExperimentActivities({ warehouse, simulator }: ActivityDependencies) {
  const q = (c: string) => warehouse.dialect.quote(c);
  const countArms = async (wh: Warehouse, assignmentTable: TableRef) => {
    const rows = await wh.query<{ arm: string; n: number }>(
      `SELECT ${q('arm')} AS arm, COUNT(*) AS n FROM ${wh.dialect.table(assignmentTable)} GROUP BY ${q('arm')}`,
    );
    const n = (arm: string) => Number(rows.find((r) => r.arm === arm)?.n ?? 0);
    return { control: n('control'), treatment: n('treatment') };
  };

  return {
    /**
     * Step 6a: deterministic hash assignment of every eligible (consented,
     * in-market) user, and the treatment's activation list with hashed contact
     * keys and scores. Both tables are replaced wholesale: same input, same rows.
     */
    async assignExperiment({ ctx, plan, model, startDate }: { ctx: RolloutContext; plan: RolloutPlan; model: ModelVersion; startDate: string }): Promise<ExperimentAssignment> {
      const experimentId = `${ctx.tablePrefix}_exp`;
      const assignment = runTable(ctx, 'assignment');
      const activation = runTable(ctx, 'activation');
      const wh = stepWarehouse(warehouse, ctx, plan);
      const d = wh.dialect;
      await wh.createOrReplaceTableAs(
        assignment,
        `SELECT f.${q('user_id')},
                CASE WHEN ${d.unitHash(`@experiment_id || ':' || f.${q('user_id')}`)} < @treatment_share THEN 'treatment' ELSE 'control' END AS ${q('arm')},
                @experiment_id AS ${q('experiment_id')}
         FROM ${d.table(runTable(ctx, 'features'))} f`,
        { experiment_id: experimentId, treatment_share: plan.experiment.treatmentShare },
      );
      await wh.createOrReplaceTableAs(
        activation,
        `SELECT a.${q('user_id')}, u.${q('email_hash')}, u.${q('phone_hash')}, s.${q('score')}, @version_id AS ${q('model_version')}
         FROM ${d.table(assignment)} a
         JOIN ${d.table(runTable(ctx, 'stg_users'))} u ON u.${q('user_id')} = a.${q('user_id')}
         JOIN ${d.table(runTable(ctx, 'scores'))} s ON s.${q('user_id')} = a.${q('user_id')}
         WHERE a.${q('arm')} = 'treatment'`,
        { version_id: model.versionId },
      );
      const arms = await countArms(wh, assignment);
      log.info('experiment assigned', { experimentId, ...arms });
      return {
        experimentId,
        assignmentTable: assignment,
        activationTable: activation,
        startDate,
        endDate: addDaysIso(startDate, plan.experiment.measureDays),
        ...arms,
      };
    },

    /** Only with outcomeSource "simulator": the built-in market answers the activation, idempotently. */
    async simulateExperimentOutcomes({ plan, assignment }: { ctx: RolloutContext; plan: RolloutPlan; assignment: ExperimentAssignment }): Promise<void> {
      await requireSimulator(simulator).answerExperiment({
        // An experiment started by the previous release carries its tables as schema.name text.
        assignmentTable: storedTableRef(assignment.assignmentTable),
        experimentId: assignment.experimentId,
        startDate: assignment.startDate,
        days: plan.experiment.measureDays,
        schema: plan.sources.schema,
      });
    },

    /** Interim health: a sample-ratio mismatch means assignment or logging is broken. */
    async checkExperimentHealth({ ctx, plan, assignment }: { ctx: RolloutContext; plan: RolloutPlan; assignment: ExperimentAssignment }): Promise<{ srmFlagged: boolean; pValue: number }> {
      const arms = await countArms(stepWarehouse(warehouse, ctx, plan), storedTableRef(assignment.assignmentTable));
      const srm = srmTest([arms.control, arms.treatment], [1 - plan.experiment.treatmentShare, plan.experiment.treatmentShare]);
      return { srmFlagged: srm.pValue < 0.001, pValue: srm.pValue };
    },
  };
}
