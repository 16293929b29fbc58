import { patched, proxyActivities, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { retentionInputSchema, type RetentionPlan, type RetentionResult, type RetentionRun, type RetentionSettings } from '../domain/retention';
import { STATUS, STEP, USE_CASE } from '../domain/rollout/definitions';
import { parseInput } from './loops/support';

/**
 * Runs recorded before this patch parsed their input (defaults included) in
 * workflow code; later ones have an activity resolve it, so the history holds it.
 */
const RETENTION_SETTINGS_RECORDED = 'retention-settings-recorded';

/** Reads only: the listing, the registry, the audit log and the open workflows. */
const { planRetention, resolveRetentionSettings } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/** One DROP and one audit row per table: a first run on a long backlog takes a while, so it heartbeats each table and resumes there. */
const { retireRunTables } = proxyActivities<Activities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '30 seconds',
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
  // Refused here, before anything runs; the defaults then come from the activity (runs recorded before the patch applied them here).
  const checked = parseInput(retentionInputSchema, input ?? {}, 'retention');
  const settings = patched(RETENTION_SETTINGS_RECORDED) ? await resolveRetentionSettings({ input }) : checked;
  const { workflowId } = workflowInfo();
  const scope = settings.useCase ? { useCase: settings.useCase } : {};
  publish('running', `Retention: ${settings.useCase ? `${settings.useCase}'s` : ''} per-run tables older than ${settings.maxAgeDays} days${settings.dryRun ? ' (dry run)' : ''}`, settings.useCase);
  try {
    // Workflow time (the SDK makes Date deterministic): ages are measured from it, and the audit rows carry it.
    const run = (): RetentionRun => ({ workflowId, maxAgeDays: settings.maxAgeDays, at: new Date().toISOString(), ...scope });
    const plan = await planRetention(run());
    if (settings.dryRun) {
      publish('completed', `Dry run: would drop ${plan.drop.length} of ${plan.runTables} per-run tables`, settings.useCase);
      return result(settings, plan, []);
    }
    const { dropped } = await retireRunTables({ run: run(), plan });
    publish('completed', `Dropped ${dropped.length} of ${plan.runTables} per-run tables`, settings.useCase);
    return result(settings, plan, dropped);
  } catch (err) {
    publish('failed', undefined, settings.useCase);
    throw err;
  }
}

function result(settings: RetentionSettings, plan: RetentionPlan, dropped: string[]): RetentionResult {
  return {
    dryRun: settings.dryRun,
    ...(settings.useCase ? { useCase: settings.useCase } : {}),
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

/** Step and status for the UI's list, and the use case when the run is one use case's. */
function publish(status: string, summary: string | undefined, useCase: string | undefined): void {
  upsertSearchAttributes([
    ...(useCase ? [{ key: USE_CASE, value: useCase }] : []),
    { key: STEP, value: 'retention' },
    { key: STATUS, value: status },
  ]);
  if (summary) upsertMemo({ summary });
}
