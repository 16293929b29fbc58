import { log } from '@temporalio/activity';
import { evaluateClassifier } from '../../analytics/evaluation';
import type { CanaryHealth } from '../../domain/loops/results';
import type { RolloutPlan } from '../../domain/plan';
import { sourceTable } from '../../domain/propensity/sources';
import { runTable, type RolloutContext } from '../../domain/rollout/context';
import { inCanary, startCanary } from '../../serving/canary';
import { promote, requireVersion, rollbackTarget, rollbackTo, servedScores, setAlias, setVersionStatus } from '../../serving/registry';
import type { ActivityDependencies } from '../dependencies';

/** Aliases, canary, promotion and rollback: every change of what serves, each one switch. */
export function createServingActivities({ warehouse }: ActivityDependencies) {
  const q = (c: string) => warehouse.dialect.quote(c);
  return {
    async setModelAlias(change: { useCase: string; alias: 'challenger'; versionId: string; by: string; reason: string; at: string }): Promise<void> {
      await requireVersion(warehouse, change.versionId);
      await setAlias(warehouse, change);
    },

    async markModelVersion({ versionId, status }: { versionId: string; status: 'rejected' | 'failed' | 'challenger' }): Promise<void> {
      await setVersionStatus(warehouse, versionId, status);
    },

    async startCanaryServing({ useCase, championVersionId, challengerVersionId, share }: { useCase: string; championVersionId: string; challengerVersionId: string; share: number }): Promise<void> {
      const [champion, challenger] = await Promise.all([requireVersion(warehouse, championVersionId), requireVersion(warehouse, challengerVersionId)]);
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
    }): Promise<CanaryHealth> {
      const [champion, challenger] = await Promise.all([requireVersion(warehouse, input.championVersionId), requireVersion(warehouse, input.challengerVersionId)]);
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
      // An AUC needs both outcomes: a live window the data has not reached yet is no evidence either way.
      const [counts] = await warehouse.query<{ users: unknown; converters: unknown }>(
        `SELECT COUNT(*) AS users, SUM(${q('converted')}) AS converters FROM ${d.table(outcomes)}`,
      );
      const users = Number(counts?.users ?? 0);
      const converters = Number(counts?.converters ?? 0);
      if (converters === 0 || converters === users) {
        const reason = `${users} canary users, ${converters} of them converted between ${input.liveFrom} and ${input.liveTo}: no live outcomes to judge by yet`;
        return { conclusive: false, users, converters, reason };
      }
      const [challengerEval, championEval] = await Promise.all([
        evaluateClassifier(warehouse, { table: outcomes, label: 'converted', score: q('challenger_score') }),
        evaluateClassifier(warehouse, { table: outcomes, label: 'converted', score: q('champion_score') }),
      ]);
      const healthy = Number.isFinite(challengerEval.auc) && challengerEval.auc >= championEval.auc - input.maxAucDrop;
      return { conclusive: true, healthy, challengerAuc: challengerEval.auc, championAuc: championEval.auc, users: challengerEval.rows, converters: challengerEval.positives };
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
