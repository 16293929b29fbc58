import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process in its own process group, so stopping it stops everything it started. */
export interface EmulatorProcess {
  readonly name: string;
  readonly pid: number;
  /** The last lines it printed, for failure messages */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions<T> {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Looks at each output line (stdout and stderr); a value means "ready" */
  readonly ready: (line: string) => T | undefined;
  readonly timeoutMs?: number;
}

const OUTPUT_LINES = 60;
const STOP_GRACE_MS = 5000;
const live = new Set<ChildProcess>();

// If the test process exits without teardown, take the process groups with it.
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

/** Starts the process and resolves once `ready` recognises a line; kills it if that does not happen in time. */
export function startEmulatorProcess<T>(options: StartOptions<T>): Promise<{ process: EmulatorProcess; ready: T }> {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));

  const handle: EmulatorProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    output: () => lines.join('\n'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child, 'SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_GRACE_MS).unref());
      if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
        killGroup(child, 'SIGKILL');
        await exited;
      }
    },
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void handle.stop().finally(() => reject(new Error(`${options.name} did not start: ${why}\n--- its last output ---\n${handle.output()}`)));
    };
    const timer = setTimeout(() => fail(`not ready after ${options.timeoutMs ?? 60_000} ms`), options.timeoutMs ?? 60_000);
    const onLine = (line: string) => {
      lines.push(line);
      if (lines.length > OUTPUT_LINES) lines.shift();
      if (settled) return;
      const value = options.ready(line);
      if (value !== undefined) {
        settled = true;
        clearTimeout(timer);
        resolve({ process: handle, ready: value });
      }
    };
    // Keep reading after "ready": a full pipe would block the emulator.
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited early (${signal ?? `code ${code}`})`));
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Parses a line as JSON, or undefined when it is not a JSON object. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  const start = line.indexOf('{');
  if (start === -1) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(start));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What the first (slow) run installs is worth a line on stderr; "reusing the cache" is not. */
export function reportProvisioning(line: string): void {
  if (!line.includes(': reusing ')) process.stderr.write(`[aimo test] ${line}\n`);
}
