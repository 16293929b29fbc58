import type { ExperimentAssignment, ModelVersion } from '../../domain/propensity/results';
import { log } from '@temporalio/activity';
import { runAaSplits } from '../../analytics/experiment-aa';
import { designFromBaseline, liftForKpiTarget, measureDesignBaseline } from '../../analytics/experiment-design';
import { measureRegions, pairRegions } from '../../analytics/experiment-geo';
import { NonRetryableError } from '../../domain/errors';
import { addDaysIso } from '../../domain/dates';
import { durationToMs } from '../../domain/duration';
import { experimentSettings, type AaCheck, type ExperimentDesign } from '../../domain/experiment';
import { sourceTable } from '../../domain/propensity/sources';
import type { RolloutPlan } from '../../domain/plan';
import { runTable, type RolloutContext } from '../../domain/rollout/context';
import { srmTest } from '../../domain/stats';
import type { Warehouse } from '../../warehouse/warehouse';
import type { ActivityDependencies } from '../dependencies';
import { requireSimulator } from '../simulated-market';
import { stepWarehouse } from '../../store/query-context';
import { storedTableRef, type TableRef } from '../../domain/table-ref';

/** How much the simulated market's regions differ in a geo test beyond their users: a 10 % log-sd factor per region. */
const SIMULATED_REGION_NOISE_SD = 0.1;

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
     * Step 6, before anything is assigned: the baseline conversion of the
     * eligible users measured over the days before the start, and from it
     * power at the MDE, the MDE at the target power, the users and days the
     * target needs. Reads only; the same data gives the same design.
     */
    async designExperiment({ ctx, plan, startDate }: { ctx: RolloutContext; plan: RolloutPlan; startDate: string }): Promise<ExperimentDesign> {
      const s = experimentSettings(plan);
      const wh = stepWarehouse(warehouse, ctx, plan);
      const baseline = await measureDesignBaseline(wh, {
        usersTable: runTable(ctx, 'features'),
        ordersTable: sourceTable(plan, 'orders'),
        startDate,
        measureDays: plan.experiment.measureDays,
      });
      const looks = Math.max(1, Math.ceil(durationToMs(plan.experiment.duration) / Math.max(1, durationToMs(plan.experiment.checkEvery))));
      const design = designFromBaseline(baseline, {
        design: s.design,
        analysis: s.analysis,
        alpha: s.alpha,
        power: s.power,
        treatmentShare: plan.experiment.treatmentShare,
        measureDays: plan.experiment.measureDays,
        mdeRelative: s.minimumDetectableEffect ?? liftForKpiTarget(plan.kpi.metric, plan.kpi.targetChange),
        mdeSource: s.minimumDetectableEffect === undefined ? 'kpi-target' : 'plan',
        looks,
        cuped: s.cuped,
      });
      log.info('experiment designed', { power: design.power, mde: design.mdeRelative, underpowered: design.underpowered });
      return design;
    },

    /** The optional A/A check over the pre-period, before the real assignment: reads only. */
    async runAaCheck({ ctx, plan, startDate, from }: { ctx: RolloutContext; plan: RolloutPlan; startDate: string; from?: string }): Promise<AaCheck> {
      const s = experimentSettings(plan);
      const days = plan.experiment.measureDays;
      return runAaSplits(stepWarehouse(warehouse, ctx, plan), {
        usersTable: runTable(ctx, 'features'),
        ordersTable: sourceTable(plan, 'orders'),
        experimentId: `${ctx.tablePrefix}_exp`,
        treatmentShare: plan.experiment.treatmentShare,
        from: from ?? addDaysIso(startDate, -days),
        days,
        alpha: s.alpha,
        splits: 200,
      });
    },

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

    /**
     * Step 6a of a geo test: the market's regions paired by their conversion
     * over the design's baseline window, one of each pair treated; every user
     * living in a paired region is assigned its region's arm (the outcome is
     * measured over all of them), and the activation list holds the scored,
     * consented users of the treated regions. All three tables are replaced
     * wholesale: same input, same rows.
     */
    async assignGeoExperiment({ ctx, plan, model, startDate, design }: { ctx: RolloutContext; plan: RolloutPlan; model: ModelVersion; startDate: string; design: ExperimentDesign }): Promise<ExperimentAssignment> {
      const s = experimentSettings(plan);
      const experimentId = `${ctx.tablePrefix}_exp`;
      const wh = stepWarehouse(warehouse, ctx, plan);
      const d = wh.dialect;
      const regionsTable = { schema: plan.sources.schema, name: s.geo.regionsTable };
      if (!(await wh.tableExists(regionsTable))) {
        throw new NonRetryableError('MissingRegions', `experiment.geo.regionsTable: ${regionsTable.schema}.${regionsTable.name} does not exist; a geo test needs a table of user_id, region and market`);
      }
      const regions = await measureRegions(wh, {
        regionsTable,
        ordersTable: sourceTable(plan, 'orders'),
        market: plan.kpi.market,
        window: design.baselineWindow,
        preWindow: { from: addDaysIso(design.baselineWindow.from, -plan.experiment.measureDays), to: design.baselineWindow.from },
      });
      const { pairs } = pairRegions(regions, experimentId, s.geo.minRegions);
      const regionAssignment = runTable(ctx, 'geo_assignment');
      const params: Record<string, string | number> = {};
      const rows = pairs.flatMap((p, i) => {
        Object.assign(params, { [`t${i}`]: p.treatment, [`c${i}`]: p.control, [`p${i}`]: p.pair });
        const row = (region: string, arm: string) => `SELECT ${d.cast(`@${region}`, 'string')} AS ${q('region')}, ${d.cast(`'${arm}'`, 'string')} AS ${q('arm')}, ${d.cast(`@p${i}`, 'int')} AS ${q('pair')}`;
        return [row(`t${i}`, 'treatment'), row(`c${i}`, 'control')];
      });
      await wh.createOrReplaceTableAs(regionAssignment, rows.join(' UNION ALL '), params);
      const assignment = runTable(ctx, 'assignment');
      const activation = runTable(ctx, 'activation');
      await wh.createOrReplaceTableAs(
        assignment,
        `SELECT DISTINCT r.${q('user_id')}, g.${q('arm')}, @experiment_id AS ${q('experiment_id')}, g.${q('region')}
         FROM ${d.table(regionsTable)} r JOIN ${d.table(regionAssignment)} g ON g.${q('region')} = r.${q('region')}
         WHERE r.${q('market')} = @market`,
        { experiment_id: experimentId, market: plan.kpi.market },
      );
      await wh.createOrReplaceTableAs(
        activation,
        `SELECT a.${q('user_id')}, u.${q('email_hash')}, u.${q('phone_hash')}, s.${q('score')}, @version_id AS ${q('model_version')}, a.${q('region')}
         FROM ${d.table(assignment)} a
         JOIN ${d.table(runTable(ctx, 'stg_users'))} u ON u.${q('user_id')} = a.${q('user_id')}
         JOIN ${d.table(runTable(ctx, 'scores'))} s ON s.${q('user_id')} = a.${q('user_id')}
         WHERE a.${q('arm')} = 'treatment'`,
        { version_id: model.versionId },
      );
      const arms = await countArms(wh, assignment);
      log.info('geo experiment assigned', { experimentId, pairs: pairs.length, ...arms });
      return {
        experimentId,
        assignmentTable: assignment,
        activationTable: activation,
        startDate,
        endDate: addDaysIso(startDate, plan.experiment.measureDays),
        ...arms,
        geo: { regionAssignmentTable: regionAssignment, regions: pairs.length * 2, pairs: pairs.length },
      };
    },

    /** Only with outcomeSource "simulator": the built-in market answers the activation, idempotently (a geo test's regions with region-level noise). */
    async simulateExperimentOutcomes({ plan, assignment }: { ctx: RolloutContext; plan: RolloutPlan; assignment: ExperimentAssignment }): Promise<void> {
      const regionsTable = { schema: plan.sources.schema, name: experimentSettings(plan).geo.regionsTable };
      await requireSimulator(simulator).answerExperiment({
        // An experiment started by the previous release carries its tables as schema.name text.
        assignmentTable: storedTableRef(assignment.assignmentTable),
        experimentId: assignment.experimentId,
        startDate: assignment.startDate,
        days: plan.experiment.measureDays,
        schema: plan.sources.schema,
        ...(assignment.geo ? { regionNoise: { table: regionsTable, sd: SIMULATED_REGION_NOISE_SD } } : {}),
      });
    },

    /** Interim health: a sample-ratio mismatch means assignment or logging is broken. A geo test's split is its regions', not the plan's share. */
    async checkExperimentHealth({ ctx, plan, assignment }: { ctx: RolloutContext; plan: RolloutPlan; assignment: ExperimentAssignment }): Promise<{ srmFlagged: boolean; pValue: number }> {
      const arms = await countArms(stepWarehouse(warehouse, ctx, plan), storedTableRef(assignment.assignmentTable));
      const shares = assignment.geo ? [assignment.control, assignment.treatment] : [1 - plan.experiment.treatmentShare, plan.experiment.treatmentShare];
      const srm = srmTest([arms.control, arms.treatment], shares);
      return { srmFlagged: srm.pValue < 0.001, pValue: srm.pValue };
    },
  };
}
