import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_SERVER_LOG } from '../platform/dev-server';
import { descendants, ownServerEnv, plain, spawnStack, until, untilGone } from './support/stack-process';

/** Within this, after Ctrl-C, every process of the stack is gone. */
const STOP_LIMIT_MS = 10_000;

/** aimo's own JSON lines carry "service":"aimo"; anything else that is JSON came from the dev server. */
function isForeignJson(line: string): boolean {
  const text = plain(line).trim();
  if (!text.startsWith('{')) return false;
  try {
    return (JSON.parse(text) as { service?: unknown }).service !== 'aimo';
  } catch {
    return true;
  }
}

describe('stopping `npm start`', () => {
  it('keeps the dev server out of the terminal, also while the UI is browsed and at Ctrl-C, and ends with what stopped', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aimo-stop-'));
    const env = await ownServerEnv();
    let running = false;
    const run = spawnStack(dataDir, { ...env, LOG_FORMAT: 'pretty' }, (line) => {
      if (line.includes('Press Ctrl-C to stop.')) running = true;
    });
    await until(() => running, 240_000, 'the stack to start');
    // Browse the UI as a person would: the workflow list, a demo rollout, and the API calls behind them.
    const ui = `http://127.0.0.1:${env['AIMO_UI_PORT']}`;
    for (const path of ['/namespaces/default/workflows', '/namespaces/default/workflows/rollout-paid-search-cac-demo', '/api/v1/namespaces/default/workflows', '/api/v1/namespaces/default/workflows/rollout-paid-search-cac-demo']) {
      const res = await fetch(`${ui}${path}`);
      expect(res.status).toBeLessThan(500);
      await res.arrayBuffer();
    }
    const pids = [run.child.pid!, ...descendants(run.child.pid!)];
    expect(pids.length).toBeGreaterThan(1);
    run.child.kill('SIGINT');
    const exit = await run.exited;
    expect(await untilGone(pids, STOP_LIMIT_MS)).toEqual([]);
    expect(exit.code).toBe(0);

    const lines = [...exit.stdout.split('\n'), ...exit.stderr.split('\n')].filter((l) => l.trim());
    expect(lines.filter(isForeignJson)).toEqual([]);
    // The dev server's banner goes to its log too.
    expect(exit.stdout).not.toContain('Temporal Server:');
    const logFile = join(dataDir, DEV_SERVER_LOG);
    expect(exit.stdout.split(`its log in ${logFile}`).length - 1).toBe(1);
    expect(existsSync(logFile)).toBe(true);
    expect(readFileSync(logFile, 'utf8')).toMatch(/aimo starts the Temporal dev server: .*start-dev/);
    const stdoutLines = exit.stdout.split('\n').filter((l) => l.trim());
    expect(plain(stdoutLines[stdoutLines.length - 1]!)).toMatch(/aimo stopped \(SIGINT\): .*worker.*temporal dev server/);
  }, 360_000);

  it('stops every process within seconds on Ctrl-C at any point of a first start, and the next start seeds and runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aimo-interrupt-'));
    const env = { ...(await ownServerEnv()), LOG_FORMAT: 'json', AIMO_SIMULATOR_USERS: '20000' };
    const messages = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg);

    /** Starts the stack and sends SIGINT once `moment` says so; returns what it printed once it and its processes are gone. */
    const interruptWhen = async (moment: (line: string, pid: number) => boolean) => {
      let pids: number[] = [];
      const run = spawnStack(dataDir, env, (line) => {
        if (pids.length || !moment(line, run.child.pid!)) return;
        pids = [run.child.pid!, ...descendants(run.child.pid!)];
        run.child.kill('SIGINT');
      });
      const exit = await run.exited;
      expect(pids.length).toBeGreaterThan(0);
      return { exit, left: await untilGone(pids, STOP_LIMIT_MS), pids };
    };

    // While the dev server starts: its process exists, it does not accept connections yet.
    const starting = await interruptWhen((line) => line.includes('Temporal CLI:'));
    // While the worker bundles the workflow code.
    const bundling = await interruptWhen((line) => line.includes('starting the worker'));
    // While the first seed writes the simulated market.
    const seeding = await interruptWhen((line) => line.includes('seeding the simulated market: population written'));
    for (const [moment, run] of Object.entries({ starting, bundling, seeding })) {
      expect({ moment, left: run.left }).toEqual({ moment, left: [] });
      expect({ moment, code: run.exit.code }).toEqual({ moment, code: 130 });
      const msgs = messages(run.exit.stdout);
      expect({ moment, last: msgs[msgs.length - 1] }).toEqual({ moment, last: expect.stringMatching(/^aimo stopped \(interrupted during start-up\): /) });
      expect(run.exit.stderr).not.toMatch(/\n\s+at /);
    }
    expect(seeding.pids.length).toBeGreaterThan(1);
    expect(messages(seeding.exit.stdout).at(-1)).toMatch(/temporal dev server/);

    // The next start seeds (the interrupted attempt's work is redone) and runs; SIGTERM, as `docker stop` sends it, drains it as Ctrl-C does.
    let ready = false;
    const next = spawnStack(dataDir, env, (line) => {
      if (!ready && line.includes('Press Ctrl-C to stop.')) {
        ready = true;
        next.child.kill('SIGTERM');
      }
    });
    const exit = await next.exited;
    expect(ready).toBe(true);
    expect(exit.code).toBe(0);
    expect(messages(exit.stdout)).toContain('simulated dataset seeded into DuckDB');
    expect(messages(exit.stdout).at(-1)).toMatch(/^aimo stopped \(SIGTERM\): .*worker.*temporal dev server/);
  }, 600_000);
});
