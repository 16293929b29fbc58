import { Worker } from '@temporalio/worker';
import { committedHistories } from './support/histories';
import './support/temporal';

/**
 * The content use case's recorded histories (a completed content rollout,
 * its generation job and one bandit, a rollout whose variants went to human
 * review, a bandit that publishes each allocation before its round) replay
 * against today's workflow code without non-determinism.
 */
describe('replay of recorded content histories', () => {
  const histories = committedHistories().filter((h) => h.name.startsWith('content-'));

  it('has the content rollout, its generation job, a bandit from before and after allocations were published first, and a reviewed rollout', () => {
    expect(histories.map((h) => h.name).sort()).toEqual(['content-bandit', 'content-bandit-published-first', 'content-generation', 'content-reviewed', 'content-rollout']);
  });

  it.each(histories.map((h) => [h.name, h] as const))('%s replays deterministically', async (_name, { workflowId, history }) => {
    const codePath = process.env['AIMO_TEST_WORKFLOW_BUNDLE'];
    await Worker.runReplayHistory(codePath ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('../workflows') }, history, workflowId);
  });
});
