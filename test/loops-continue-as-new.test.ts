import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { AuditEntry } from '../activities/rollout/audit';
import type { RetrainResult } from '../domain/loops/results';
import { getAlias } from '../serving/registry';
import { retrain } from '../workflows';
import { recordHistory } from './support/histories';
import { loopPlan, startLoopBench, type LoopBench } from './support/loop-fixtures';

/**
 * A canary watch long enough to continue as new twice. Audit rows are keyed
 * by (workflow id, seq) and every run of the chain has the same workflow id,
 * so a run that restarted its sequence would overwrite its predecessors'
 * rows. The market is test/loops.test.ts's `raw`: new customers buy four
 * times as often from 2026-02-26, so a retrain on later labels beats the
 * champion and its canary stays healthy.
 */
describe('a retrain whose canary watch continues as new', () => {
  let bench: LoopBench;
  const useCase = 'lp-long-watch';
  const workflowId = `retrain-${useCase}-1`;

  beforeAll(async () => {
    bench = await startLoopBench(
      [{ seed: 7, users: 20_000, schema: 'raw_long', drift: { fromDate: '2026-02-26', features: ['session_rate'], strength: 1 }, promotion: { fromDate: '2026-02-26', segment: 'new', hazardFactor: 4 } }],
      [loopPlan(useCase, 'raw_long', { asOf: '2026-02-18' })],
    );
  }, 300_000);

  afterAll(async () => {
    await bench?.teardown();
  });

  it('keeps every audit row, check, comparison and setting of the earlier runs', async () => {
    const { env, warehouse } = bench;
    const handle = await env.client.workflow.start(retrain, {
      taskQueue: bench.loopQueue,
      workflowId,
      // Five daily checks, at most two per run: three runs.
      args: [{ useCase, asOf: '2026-03-11', reason: 'long watch', approval: false, canary: { watch: '5 days', checkEvery: '1 day', share: 0.2 }, continueAsNewAfterChecks: 2 }],
    });
    const result: RetrainResult = await handle.result();
    await recordHistory(env.client, workflowId, 'retrain-continued-as-new');

    const runs = await runHistories(handle.firstExecutionRunId);
    expect(runs).toHaveLength(3);
    expect(result.outcome).toBe('promoted');
    expect(await getAlias(warehouse, useCase, 'champion')).toBe(result.challenger);
    // The final result is the whole watch's: the checks of all three runs, the first run's comparison and window.
    expect(result.canaryChecks).toHaveLength(5);
    expect(result.canaryChecks.every((c) => c.healthy && c.users > 0)).toBe(true);
    expect(result.comparison!.challengerAuc).toBeGreaterThan(result.comparison!.championAuc);
    expect(result.window).toMatchObject({ asOf: '2026-03-11', endFrom: 'input' });
    // The settings the first run resolved travel on: every run checks the same 20 % canary, two checks at most.
    const checksPerRun = runs.map((events) => scheduled(events, 'canaryHealth').map((input) => (input as { share: number }).share));
    expect(checksPerRun).toEqual([[0.2, 0.2], [0.2, 0.2], [0.2]]);

    // Every audit write of every run, in order: seq 1..N, each exactly once, and in the table as it was written.
    const written = runs.flatMap((events) => scheduled(events, 'recordAudit') as AuditEntry[]);
    expect(written.map((w) => w.seq)).toEqual(written.map((_, i) => i + 1));
    expect(written.map((w) => w.decision)).toEqual(['challenger-better', 'started', 'promoted']);
    const rows = await warehouse.query<{ seq: number; decision: string; reason: string; recorded_at: string }>(
      `SELECT seq, decision, reason, recorded_at FROM aimo.audit_log WHERE workflow_id = @workflow_id ORDER BY seq`,
      { workflow_id: workflowId },
    );
    expect(rows.map((r) => ({ ...r, seq: Number(r.seq) }))).toEqual(written.map((w) => ({ seq: w.seq, decision: w.decision, reason: w.reason, recorded_at: w.at })));
  });

  /** The chain of runs from the first, each one's history events, following continue-as-new. */
  async function runHistories(firstRunId: string | undefined): Promise<temporal.api.history.v1.IHistoryEvent[][]> {
    const runs: temporal.api.history.v1.IHistoryEvent[][] = [];
    for (let runId = firstRunId; runId; ) {
      const events = (await bench.env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
      runs.push(events);
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    return runs;
  }
});

/** The inputs of a run's scheduled activities of one type, decoded. */
function scheduled(events: temporal.api.history.v1.IHistoryEvent[], activityType: string): unknown[] {
  return events
    .map((e) => e.activityTaskScheduledEventAttributes)
    .filter((a) => a?.activityType?.name === activityType)
    .map((a) => defaultPayloadConverter.fromPayload(a!.input!.payloads![0]!));
}
