import type { RolloutContext } from '../../domain/rollout/context';
import type { ActivityDependencies } from '../dependencies';
import { upsertAimoRow } from '../../store/aimo-tables';

export interface AuditEntry {
  readonly ctx: RolloutContext;
  /** Position in this workflow's decisions; with the workflow id it is the row's key */
  readonly seq: number;
  readonly step: string;
  readonly decision: string;
  readonly actor: string;
  readonly reason: string;
  readonly details: Record<string, unknown>;
  readonly at: string;
}

export function createAuditActivities({ warehouse }: ActivityDependencies) {
  return {
    /** One row per decision; keyed by (workflow id, seq) so a retried write is not a second row. */
    async recordAudit(entry: AuditEntry): Promise<void> {
      await upsertAimoRow(warehouse, 'audit_log', {
        workflow_id: entry.ctx.workflowId,
        seq: entry.seq,
        use_case: entry.ctx.useCase,
        step: entry.step,
        decision: entry.decision,
        actor: entry.actor,
        reason: entry.reason,
        details_json: JSON.stringify(entry.details),
        recorded_at: entry.at,
      });
    },
  };
}
