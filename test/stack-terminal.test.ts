import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(__dirname, '..');
// As `npm start` runs it: tsx's loader inside the one node process, no wrapper process in between.
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm start` as a child process, in JSON log format so each line can be read; `onLine` may act on what it prints. */
function startStack(env: Record<string, string>, onLine: (line: string, kill: (signal: NodeJS.Signals) => void) => void = () => undefined): Promise<Exit> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aimo-stack-'));
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'workers', 'main.ts')], {
    cwd: dataDir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dataDir, AIMO_DATA_DIR: dataDir, LOG_FORMAT: 'json', AIMO_SIMULATOR_USERS: '1000', ...env },
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line, (signal) => child.kill(signal));
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('the terminal of `npm start`', () => {
  it('names a metrics port already in use with the variable that moves it, and starts nothing', async () => {
    const blocker = createServer();
    const port = await listen(blocker);
    try {
      const run = await startStack({ AIMO_METRICS_PORT: String(port), TEMPORAL_ADDRESS: '127.0.0.1:1' });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`aimo cannot start: port ${port} (the worker's Prometheus metrics) is already in use`);
      expect(run.stderr).toContain('set AIMO_METRICS_PORT to a free port');
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).toBe('');
    } finally {
      blocker.close();
    }
  });

  it('stops what already runs on Ctrl-C during start-up, and says so in its last line', async () => {
    const free = createServer();
    const port = await listen(free);
    await new Promise((r) => free.close(r));
    let interrupted = false;
    // Against the test server: the stack reuses it, so the interrupt lands while the worker is being built.
    const run = await startStack({ AIMO_METRICS_PORT: String(port), TEMPORAL_ADDRESS: process.env['AIMO_TEST_TEMPORAL_ADDRESS']!, AIMO_TASK_QUEUE: `stack-${port}` }, (line, kill) => {
      if (!interrupted && line.includes('starting the worker')) {
        interrupted = true;
        kill('SIGINT');
      }
    });
    expect(interrupted).toBe(true);
    expect(run.code).toBe(130);
    const messages = run.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toContain('interrupted during start-up: stopping what already runs');
    expect(messages[messages.length - 1]).toMatch(/^aimo stopped \(interrupted during start-up\): .*temporal client/);
  });
});
