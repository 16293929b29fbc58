import { proxyActivities, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { retentionInputSchema, type RetentionPlan, type RetentionResult, type RetentionSettings } from '../domain/retention';
import { STATUS, STEP } from '../domain/rollout/definitions';
import { parseInput } from './loops/support';

/** Reads only: the listing, the registry, the audit log and a visibility query. */
const { planRetention } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/** One DROP and one audit row per table: a first run on a long backlog takes a while, so it heartbeats each table and resumes there. */
const { retireRunTables } = proxyActivities<Activities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/**
 * Drops aimo's per-run tables older than `maxAgeDays` that nothing refers
 * to: no registered version, no view, no running workflow. The plan is
 * fixed in history before anything is dropped, so a retried drop works
 * through the same tables with the same audit sequence; a second run finds
 * nothing left to drop. `{ "dryRun": true }` reports what would go.
 */
export async function retention(input?: unknown): Promise<RetentionResult> {
  const settings = parseInput(retentionInputSchema, input ?? {}, 'retention');
  const { workflowId } = workflowInfo();
  publish('running', `Retention: per-run tables older than ${settings.maxAgeDays} days${settings.dryRun ? ' (dry run)' : ''}`);
  try {
    // Workflow time (the SDK makes Date deterministic): ages are measured from it, and the audit rows carry it.
    const plan = await planRetention({ workflowId, maxAgeDays: settings.maxAgeDays, at: new Date().toISOString() });
    if (settings.dryRun) {
      publish('completed', `Dry run: would drop ${plan.drop.length} of ${plan.runTables} per-run tables`);
      return result(settings, plan, []);
    }
    const { dropped } = await retireRunTables({ run: { workflowId, maxAgeDays: settings.maxAgeDays, at: new Date().toISOString() }, plan });
    publish('completed', `Dropped ${dropped.length} of ${plan.runTables} per-run tables`);
    return result(settings, plan, dropped);
  } catch (err) {
    publish('failed');
    throw err;
  }
}

function result(settings: RetentionSettings, plan: RetentionPlan, dropped: string[]): RetentionResult {
  return {
    dryRun: settings.dryRun,
    maxAgeDays: settings.maxAgeDays,
    cutoff: plan.cutoff,
    runTablesBefore: plan.runTables,
    runTablesAfter: plan.runTables - dropped.length,
    kept: plan.kept,
    dropped,
    wouldDrop: settings.dryRun ? plan.drop.map((t) => t.table) : [],
    deferred: plan.deferred,
  };
}

/** Step and status for the UI's list; retention belongs to no use case. */
function publish(status: string, summary?: string): void {
  upsertSearchAttributes([
    { key: STEP, value: 'retention' },
    { key: STATUS, value: status },
  ]);
  if (summary) upsertMemo({ summary });
}
