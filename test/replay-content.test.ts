import { Worker } from '@temporalio/worker';
import { committedHistories, CURRENT_RELEASE } from './support/histories';
import './support/temporal';

/**
 * The content use case's recorded histories (a completed content rollout,
 * its generation job and one bandit, a rollout whose variants went to human
 * review, a bandit that publishes each allocation before its round) replay
 * against today's workflow code without non-determinism.
 */
describe('replay of recorded content histories', () => {
  const histories = committedHistories().filter((h) => h.name.startsWith('content-'));

  const namesOf = (release: string) => histories.filter((h) => h.release === release).map((h) => h.name).sort();

  it('keeps the previous release\'s content rollout, its generation job and bandit, and a reviewed rollout', () => {
    expect(namesOf('0.1.0')).toEqual(['content-bandit', 'content-generation', 'content-reviewed', 'content-rollout']);
  });

  it('has this release\'s, with a bandit that publishes each allocation before its round', () => {
    expect(namesOf(CURRENT_RELEASE)).toEqual(['content-bandit', 'content-bandit-published-first', 'content-generation', 'content-reviewed', 'content-rollout']);
  });

  it.each(histories.map((h) => [`${h.release}/${h.name}`, h] as const))('%s replays deterministically', async (_name, { workflowId, history }) => {
    const codePath = process.env['AIMO_TEST_WORKFLOW_BUNDLE'];
    await Worker.runReplayHistory(codePath ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('../workflows') }, history, workflowId);
  });
});
