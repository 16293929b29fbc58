import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveTemporalBinary } from '../../platform/temporal-binaries';
import { freePort } from './processes';

const ROOT = join(__dirname, '..', '..');
// As `npm start` runs it: tsx's loader inside the one node process, no wrapper process in between.
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface StackRun {
  readonly child: ChildProcess;
  /** Resolves when the process has exited */
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Ports of a stack that starts its own dev server, apart from the suite's Temporal. */
export async function ownServerEnv(): Promise<Record<string, string>> {
  const [temporal, ui, metrics, codec] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const cli = resolveTemporalBinary('cli', { projectRoot: ROOT });
  if (cli.executable.type !== 'existing-path') throw new Error('these tests need the Temporal CLI on disk');
  return {
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    AIMO_UI_PORT: String(ui),
    AIMO_METRICS_PORT: String(metrics),
    AIMO_CODEC_PORT: String(codec),
    AIMO_DEV_SERVER: 'always',
    AIMO_TEMPORAL_CLI: cli.executable.path,
  };
}

/** `npm start` (or `npm run demo` with --demo) as a child process in `dataDir`; `onLine` sees each line of stdout. */
export function spawnStack(dataDir: string, env: Record<string, string>, onLine: (line: string) => void = () => undefined, args: string[] = []): StackRun {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'workers', 'main.ts'), ...args], {
    cwd: dataDir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dataDir, AIMO_DATA_DIR: dataDir, AIMO_SIMULATOR_USERS: '1000', ...env },
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, exited };
}

/** Every process below `pid` now (Linux /proc): children keep their parent's pid as ppid, in their own process group too. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid …; comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone while listing
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of parents.get(queue.shift()!) ?? []) {
      found.push(c);
      queue.push(c);
    }
  }
  return found;
}

/** Whether a process with this pid still exists (a zombie counts as gone: it holds no port or file). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until none of the pids is alive, at most `limitMs`; returns those still alive then. */
export async function untilGone(pids: number[], limitMs: number): Promise<number[]> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once `check` is true, polling every 50 ms. */
export async function until(check: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Escape codes of a coloured terminal line, removed. */
export function plain(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;]*m/g, '');
}
