import { MockActivityEnvironment } from '@temporalio/testing';
import { withProgress } from '../activities/simulated-market';

function capturingEnv() {
  const lines: string[] = [];
  const heartbeats: unknown[] = [];
  const logger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: (message: string) => void lines.push(message), warn: () => undefined, error: () => undefined };
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 30_000 }, { logger });
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  return { env, lines, heartbeats };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('progress of a long simulation', () => {
  it('logs and heartbeats each step, and says it is still working when a step takes longer than the quiet limit', async () => {
    const { env, lines, heartbeats } = capturingEnv();
    const result = await env.run(() =>
      withProgress(
        'seeding the simulated market',
        { users: 1000 },
        async (onProgress) => {
          onProgress({ stage: 'population', daysDone: 0, days: 60, rows: 0 });
          // A step much longer than the limit: the ticker fills the silence.
          await pause(700);
          onProgress({ stage: 'days', daysDone: 30, days: 60, rows: 5000, newestDay: '2026-01-30' });
          onProgress({ stage: 'days', daysDone: 60, days: 60, rows: 10000, newestDay: '2026-03-01' });
          return 'seeded';
        },
        200,
      ),
    );
    expect(result).toBe('seeded');
    expect(lines[0]).toBe('seeding the simulated market: population written');
    const still = lines.filter((l) => l.includes('still working'));
    expect(still.length).toBeGreaterThanOrEqual(1);
    expect(still[0]).toMatch(/^seeding the simulated market: still working \(\d+ s in; last step: population written\)$/);
    // No "still working" between the two quick steps, and nothing after the end.
    expect(lines.slice(-2)).toEqual(['seeding the simulated market: 30/60 days', 'seeding the simulated market: 60/60 days']);
    expect(heartbeats).toHaveLength(3);
    const count = lines.length;
    await pause(500);
    expect(lines.length).toBe(count);
  });
});
