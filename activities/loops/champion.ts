import { evaluateClassifier } from '../../analytics/evaluation';
import { scoreExpression } from '../../analytics/logistic';
import { driftInputSchema, parseOrRefuse, resolveDrift, resolveRetrain, retrainInputSchema, type ResolvedDrift, type ResolvedRetrain } from '../../domain/loops/inputs';
import type { ChampionInfo } from '../../domain/loops/results';
import { NonRetryableError } from '../../domain/errors';
import type { RolloutPlan } from '../../domain/plan';
import type { ModelVersion } from '../../domain/propensity/results';
import { runTable, type RolloutContext } from '../../domain/rollout/context';
import type { LogisticModel } from '../../domain/stats/logistic';
import { storedTableRef, type TableRef } from '../../domain/table-ref';
import { getAlias, requireVersion, servedScores } from '../../serving/registry';
import { stepQueryContext } from '../../store/query-context';
import type { ActivityDependencies } from '../dependencies';

/** The champion a loop works against: who serves, with which plan, and how a version scores fresh features. */
export function createChampionActivities({ warehouse }: ActivityDependencies) {
  const q = (c: string) => warehouse.dialect.quote(c);
  return {
    /** The version serving a use case, with the plan it was rolled out with. */
    async loadChampion({ useCase }: { useCase: string }): Promise<ChampionInfo> {
      const versionId = await getAlias(warehouse, useCase, 'champion');
      if (!versionId) {
        throw new NonRetryableError('NoChampion', `use case ${useCase} has no champion model: run its rollout first`);
      }
      const version = await requireVersion(warehouse, versionId);
      return {
        versionId,
        plan: version.lineage['plan'] as RolloutPlan,
        featuresTable: storedTableRef(version.lineage['featuresTable'] as TableRef | string),
        scoresTable: servedScores(version),
        model: version.model as LogisticModel,
        auc: Number(version.metrics['auc']),
      };
    },

    /**
     * A retrain's settings with every default applied: its input over the
     * champion's plan over the defaults. Resolved here, once, so the run's
     * history holds them and a release with other defaults replays the same.
     */
    async resolveRetrainSettings({ input, plan }: { input: unknown; plan: RolloutPlan }): Promise<ResolvedRetrain> {
      return resolveRetrain(parseOrRefuse(retrainInputSchema, input, 'retrain'), plan.automation.retrain);
    },

    /** A drift check's settings with every default applied (thresholds included), recorded as the retrain's are. */
    async resolveDriftSettings({ input }: { input: unknown }): Promise<ResolvedDrift> {
      return resolveDrift(parseOrRefuse(driftInputSchema, input, 'drift check'));
    },

    /** Scores a features table with a registered version into <prefix>_<name> (replaced wholesale). */
    async scoreWithVersion({ ctx, versionId, featuresTable, name }: { ctx: RolloutContext; versionId: string; featuresTable: TableRef; name: string }): Promise<TableRef> {
      const version = await requireVersion(warehouse, versionId);
      const target = runTable(ctx, name);
      // Held to the byte budget of the plan the version was trained under.
      const plan = version.lineage['plan'] as Partial<RolloutPlan> | undefined;
      await warehouse.createOrReplaceTableAs(
        target,
        `SELECT ${q('user_id')}, ${scoreExpression(warehouse.dialect, version.model as LogisticModel)} AS ${q('score')}, @version_id AS ${q('version_id')}
         FROM ${warehouse.dialect.table(storedTableRef(featuresTable))}`,
        { version_id: versionId },
        stepQueryContext(ctx, plan?.guardrails?.maxBytesScanned),
      );
      return target;
    },

    /** Champion and challenger on the same holdout rows: the challenger's fresh holdout. */
    async compareWithChampion({ challenger, championVersionId }: { challenger: ModelVersion; championVersionId: string }) {
      const champion = await requireVersion(warehouse, championVersionId);
      const features = storedTableRef(challenger.featuresTable);
      const holdout = { column: 'split', value: 'holdout' };
      const [championEval, challengerEval] = await Promise.all([
        evaluateClassifier(warehouse, { table: features, filter: holdout, label: 'label', score: scoreExpression(warehouse.dialect, champion.model as LogisticModel) }),
        evaluateClassifier(warehouse, { table: features, filter: holdout, label: 'label', score: scoreExpression(warehouse.dialect, challenger.model) }),
      ]);
      return {
        championAuc: championEval.auc,
        challengerAuc: challengerEval.auc,
        championBrier: championEval.brier,
        challengerBrier: challengerEval.brier,
        holdoutRows: challengerEval.rows,
      };
    },
  };
}
