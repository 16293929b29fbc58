import { Writable } from 'node:stream';
import { createLogger } from '../platform/logger';

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
});
