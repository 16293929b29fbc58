import { Worker } from '@temporalio/worker';
import { committedHistories } from './support/histories';
import './support/temporal';

/**
 * Workflow code must stay deterministic: every recorded history in
 * test/histories replays against today's workflow code without a
 * non-determinism error.
 */
describe('replay of recorded histories', () => {
  const histories = committedHistories();

  it('has recorded rollouts (completed, approved by Update, rejected) and the three loops, on the windows-from-data path too', () => {
    expect(histories.map((h) => h.name)).toEqual(
      expect.arrayContaining([
        'rollout-full',
        'rollout-approved',
        'rollout-rejected',
        'drift-check-drifted',
        'retrain-promoted',
        'retrain-rolled-back',
        'retrain-rejected-at-approval',
        'rollback-previous',
        'drift-check-fresh-window',
        'retrain-fresh-window',
        'retrain-continued-as-new',
      ]),
    );
  });

  it.each(histories.map((h) => [h.name, h] as const))('%s replays deterministically', async (_name, { workflowId, history }) => {
    const codePath = process.env['AIMO_TEST_WORKFLOW_BUNDLE'];
    await Worker.runReplayHistory(codePath ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('../workflows') }, history, workflowId);
  });
});
