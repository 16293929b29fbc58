import { Writable } from 'node:stream';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { createLogger, describeError } from '../platform/logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('writes JSON with context and redacts secrets and PII', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', destination });
    logger.info(
      { workflowId: 'rollout-x', password: 'p4ss', user: { email: 'a@b.c', phone: '+49 1' }, config: { apiKey: 'k' } },
      'hello',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line['msg']).toBe('hello');
    expect(line['workflowId']).toBe('rollout-x');
    expect(line['password']).toBe('[redacted]');
    expect(line['user']).toEqual({ email: '[redacted]', phone: '[redacted]' });
    expect(line['config']).toEqual({ apiKey: '[redacted]' });
    expect(JSON.stringify(line)).not.toMatch(/p4ss|a@b\.c/);
  });

  it('prints one line per event for a person, with the ids that say what it is about and without the plumbing', async () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', format: 'pretty', destination });
    logger.info({ workflowId: 'rollout-x', step: 'kpi', runId: 'r-1', taskQueue: 'aimo', namespace: 'default', workflowType: 'rollout', component: 'workflow' }, 'step kpi passed');
    logger.info({ password: 'p4ss' }, 'second');
    await new Promise((r) => setImmediate(r));
    const lines = chunks.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/INFO: step kpi passed \{"workflowId":"rollout-x","step":"kpi"\}$/);
    expect(lines[0]).not.toMatch(/runId|taskQueue|namespace|component/);
    expect(lines[1]).not.toContain('p4ss');
  });

  it('describes a failure by its type and message, the activity\'s own failure rather than its wrapper', () => {
    const inner = ApplicationFailure.create({ type: 'NoPreviousVersion', message: 'x has no previous version', nonRetryable: true });
    const wrapped = new ActivityFailure('activity failed', 'rollbackServing', '5', RetryState.NON_RETRYABLE_FAILURE, 'worker', inner);
    expect(describeError(wrapped)).toEqual({ type: 'NoPreviousVersion', message: 'x has no previous version' });
    expect(describeError(new TypeError('bad'))).toEqual({ type: 'TypeError', message: 'bad' });
    expect(describeError('plain')).toEqual({ type: 'string', message: 'plain' });
  });
});
