import { Worker } from '@temporalio/worker';
import { committedHistories, CURRENT_RELEASE } from './support/histories';
import './support/temporal';

/**
 * Workflow code must stay deterministic, and a release must not change what
 * a running workflow does: the histories recorded by every release
 * (test/histories/<release>/) replay against today's workflow code without
 * a non-determinism error.
 */
describe('replay of recorded histories', () => {
  const histories = committedHistories();
  const namesOf = (release: string) => histories.filter((h) => h.release === release).map((h) => h.name);
  const LOOPS_AND_ROLLOUTS = ['rollout-full', 'rollout-approved', 'rollout-rejected', 'drift-check-drifted', 'retrain-promoted', 'retrain-rolled-back', 'retrain-rejected-at-approval', 'rollback-previous'];

  it('keeps the previous release\'s rollouts (completed, approved by Update, rejected) and the three loops', () => {
    expect(namesOf('0.1.0')).toEqual(expect.arrayContaining(LOOPS_AND_ROLLOUTS));
  });

  it('has this release\'s rollouts and loops, on the windows-from-data, continue-as-new, wait-for-data and deferral paths too', () => {
    expect(namesOf(CURRENT_RELEASE)).toEqual(
      expect.arrayContaining([...LOOPS_AND_ROLLOUTS, 'drift-check-fresh-window', 'retrain-fresh-window', 'retrain-continued-as-new', 'retrain-waited-for-data', 'retrain-deferred']),
    );
  });

  it('has this release\'s designed experiments: a guardrail no-ship, a geo test, an underpowered plan stopped and gated, a sequential early stop', () => {
    expect(namesOf(CURRENT_RELEASE)).toEqual(
      expect.arrayContaining(['rollout-guardrail-no-ship', 'rollout-geo', 'rollout-underpowered-stopped', 'rollout-underpowered-gated', 'rollout-sequential-early-stop']),
    );
  });

  it.each(histories.map((h) => [`${h.release}/${h.name}`, h] as const))('%s replays deterministically', async (_name, { workflowId, history }) => {
    const codePath = process.env['AIMO_TEST_WORKFLOW_BUNDLE'];
    await Worker.runReplayHistory(codePath ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('../workflows') }, history, workflowId);
  });
});
