import type { ChampionInfo } from '../../domain/loops/results';
import { log } from '@temporalio/activity';
import { evaluateClassifier } from '../../analytics/evaluation';
import { scoreExpression } from '../../analytics/logistic';
import { type LogisticModel } from '../../domain/stats/logistic';
import { NonRetryableError } from '../../domain/errors';
import type { RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { runTable } from '../../domain/rollout/context';
import { inCanary, startCanary } from '../../serving/canary';
import { getAlias, getVersion, promote, rollbackTarget, rollbackTo, setAlias, servedScores, setVersionStatus, type RegisteredVersion } from '../../serving/registry';
import { storedTableRef, type TableRef } from '../../domain/table-ref';
import type { ActivityDependencies } from '../dependencies';
import type { ModelVersion } from '../../domain/propensity/results';
import { stepQueryContext } from '../../store/query-context';
import { sourceTable } from '../../domain/propensity/sources';


async function mustGetVersion(deps: ActivityDependencies, versionId: string): Promise<RegisteredVersion> {
  const version = await getVersion(deps.warehouse, versionId);
  if (!version) throw new NonRetryableError('UnknownModelVersion', `model version ${versionId} is not in the registry`);
  return version;
}

export function createModelOpsActivities(deps: ActivityDependencies) {
  const { warehouse } = deps;
  const q = (c: string) => warehouse.dialect.quote(c);
  return {
    /** The version serving a use case, with the plan it was rolled out with. */
    async loadChampion({ useCase }: { useCase: string }): Promise<ChampionInfo> {
      const versionId = await getAlias(warehouse, useCase, 'champion');
      if (!versionId) {
        throw new NonRetryableError('NoChampion', `use case ${useCase} has no champion model: run its rollout first`);
      }
      const version = await mustGetVersion(deps, versionId);
      return {
        versionId,
        plan: version.lineage['plan'] as RolloutPlan,
        featuresTable: storedTableRef(version.lineage['featuresTable'] as TableRef | string),
        scoresTable: servedScores(version),
        model: version.model as LogisticModel,
        auc: Number(version.metrics['auc']),
      };
    },

    /** Scores a features table with a registered version into <prefix>_<name> (replaced wholesale). */
    async scoreWithVersion({ ctx, versionId, featuresTable, name }: { ctx: RolloutContext; versionId: string; featuresTable: TableRef; name: string }): Promise<TableRef> {
      const version = await mustGetVersion(deps, versionId);
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
      const champion = await mustGetVersion(deps, championVersionId);
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

    async setModelAlias(change: { useCase: string; alias: 'challenger'; versionId: string; by: string; reason: string; at: string }): Promise<void> {
      await mustGetVersion(deps, change.versionId);
      await setAlias(warehouse, change);
    },

    async markModelVersion({ versionId, status }: { versionId: string; status: 'rejected' | 'failed' | 'challenger' }): Promise<void> {
      await setVersionStatus(warehouse, versionId, status);
    },

    async startCanaryServing({ useCase, championVersionId, challengerVersionId, share }: { useCase: string; championVersionId: string; challengerVersionId: string; share: number }): Promise<void> {
      const [champion, challenger] = await Promise.all([mustGetVersion(deps, championVersionId), mustGetVersion(deps, challengerVersionId)]);
      await startCanary(warehouse, useCase, champion, challenger, share);
      log.info('canary serving started', { useCase, challenger: challengerVersionId, share });
    },

    /**
     * Health of the canary on live outcomes: over the users the challenger
     * serves, how well does its score rank who converted in the live window,
     * compared with the champion's score for the same users.
     */
    async canaryHealth(input: {
      ctx: RolloutContext;
      plan: RolloutPlan;
      championVersionId: string;
      challengerVersionId: string;
      share: number;
      liveFrom: string;
      liveTo: string;
      maxAucDrop: number;
    }) {
      const [champion, challenger] = await Promise.all([mustGetVersion(deps, input.championVersionId), mustGetVersion(deps, input.challengerVersionId)]);
      const outcomes = runTable(input.ctx, 'canary_outcomes');
      const d = warehouse.dialect;
      await warehouse.createOrReplaceTableAs(
        outcomes,
        `SELECT c.${q('user_id')}, c.${q('score')} AS ${q('champion_score')}, n.${q('score')} AS ${q('challenger_score')},
                CASE WHEN o.${q('user_id')} IS NULL THEN 0 ELSE 1 END AS ${q('converted')}
         FROM ${d.table(servedScores(champion))} c
         JOIN ${d.table(servedScores(challenger))} n ON n.${q('user_id')} = c.${q('user_id')}
         LEFT JOIN (SELECT DISTINCT ${q('user_id')} FROM ${d.table(sourceTable(input.plan, 'orders'))}
                    WHERE ${q('order_ts')} >= CAST(@live_from AS TIMESTAMP) AND ${q('order_ts')} < CAST(@live_to AS TIMESTAMP)) o
           ON o.${q('user_id')} = c.${q('user_id')}
         WHERE ${inCanary(warehouse, `c.${q('user_id')}`, input.share)}`,
        { live_from: input.liveFrom, live_to: input.liveTo },
      );
      const [challengerEval, championEval] = await Promise.all([
        evaluateClassifier(warehouse, { table: outcomes, label: 'converted', score: q('challenger_score') }),
        evaluateClassifier(warehouse, { table: outcomes, label: 'converted', score: q('champion_score') }),
      ]);
      const healthy = Number.isFinite(challengerEval.auc) && challengerEval.auc >= championEval.auc - input.maxAucDrop;
      return { healthy, challengerAuc: challengerEval.auc, championAuc: championEval.auc, users: challengerEval.rows, converters: challengerEval.positives };
    },

    async promoteVersion(change: { useCase: string; versionId: string; by: string; reason: string; at: string }) {
      return promote(warehouse, change);
    },

    /** Which version a rollback would serve, checked before anything changes (see rollbackTarget). */
    async resolveRollbackTarget({ useCase, toVersion }: { useCase: string; toVersion?: string }) {
      return rollbackTarget(warehouse, useCase, toVersion);
    },

    /** Rollback: to the previous good version or a named one; refused for unknown or failed versions. */
    async rollbackServing(change: { useCase: string; toVersion?: string; by: string; reason: string; at: string }) {
      return rollbackTo(warehouse, change);
    },
  };
}
