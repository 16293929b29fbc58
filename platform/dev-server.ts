import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { TypedSearchAttributes } from '@temporalio/common';
import { AIMO_SEARCH_ATTRIBUTES } from '../domain/rollout/definitions';
import type { ResolvedBinary } from './temporal-binaries';

/** How aimo finds or starts a local Temporal dev server. */
export interface DevServerOptions {
  /** host:port of the frontend; only a local one is ever started */
  readonly address: string;
  readonly namespace: string;
  /** auto: start one unless something listens there already; always: start one or fail; never: only connect */
  readonly mode: 'auto' | 'always' | 'never';
  readonly uiPort: number;
  /** Where the server keeps its history (temporal.sqlite) and its log (temporal-dev-server.log) */
  readonly dataDir: string;
  /** The codec server the UI decodes payloads through (--ui-codec-endpoint), when payloads are encrypted */
  readonly uiCodecEndpoint?: string;
}

export interface DevServer {
  /** host:port of the frontend */
  readonly address: string;
  readonly uiUrl: string;
  /** Whether aimo started it (and so must stop it) */
  readonly startedHere: boolean;
  /** Where the server's own output goes (appended), when aimo started it */
  readonly logFile?: string;
  /** The server's process id, when aimo started it as its own child */
  readonly pid?: number;
  stop(): Promise<void>;
}

export const DEV_SERVER_LOG = 'temporal-dev-server.log';

/** How long the server may take to accept connections on a first start (it creates its SQLite schema). */
const READY_LIMIT_MS = 30_000;
/** How long a stop waits for the server to shut down on SIGTERM before it is killed. */
const STOP_LIMIT_MS = 5_000;

/**
 * Decides whether aimo must start a local Temporal dev server: only for a
 * local address, and (in 'auto') only when nothing is listening there yet, so
 * a user's own `temporal server start-dev` is reused rather than fought.
 */
export async function ensureDevServer(options: DevServerOptions, binary: () => ResolvedBinary, signal?: AbortSignal): Promise<DevServer> {
  const [host, portText] = splitAddress(options.address);
  const port = Number(portText);
  const local = host === 'localhost' || host === '127.0.0.1';
  const uiUrl = `http://${host}:${options.uiPort}`;
  const mode = options.mode;
  if (mode === 'never' || !local) {
    return { address: options.address, uiUrl: local ? uiUrl : 'the Temporal UI of your cluster', startedHere: false, stop: async () => undefined };
  }
  if (await isListening(host, port)) {
    if (mode === 'always') {
      throw new Error(`AIMO_DEV_SERVER=always, but ${options.address} is already in use: stop that process or set AIMO_DEV_SERVER=auto to reuse it`);
    }
    return { address: options.address, uiUrl, startedHere: false, stop: async () => undefined };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const ip = host === 'localhost' ? '127.0.0.1' : host;
  const { executable } = binary();
  if (executable.type !== 'existing-path') {
    // Only the SDK knows where it downloads the binary: it runs the server, whose output then shares the terminal.
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable,
        ip,
        port,
        ui: true,
        uiPort: options.uiPort,
        namespace: options.namespace,
        dbFilename: join(options.dataDir, 'temporal.sqlite'),
        searchAttributes: [...AIMO_SEARCH_ATTRIBUTES],
        log: { format: 'json', level: 'error' },
        ...(options.uiCodecEndpoint ? { extraArgs: ['--ui-codec-endpoint', options.uiCodecEndpoint] } : {}),
      },
    });
    return { address: options.address, uiUrl, startedHere: true, stop: () => env.teardown() };
  }
  const logFile = join(options.dataDir, DEV_SERVER_LOG);
  const child = spawnDevServer(executable.path, devServerArgs(options, ip, port), logFile);
  try {
    await untilReady(child, ip, [port, options.uiPort], logFile, signal);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { address: options.address, uiUrl, startedHere: true, logFile, ...(child.pid ? { pid: child.pid } : {}), stop: () => stopProcess(child) };
}

/** The flags the SDK's own dev-server launcher passes, plus aimo's search attributes, history file and UI. */
export function devServerArgs(options: DevServerOptions, ip: string, port: number): string[] {
  return [
    'server', 'start-dev',
    '--ip', ip,
    '--port', String(port),
    '--ui-port', String(options.uiPort),
    '--namespace', options.namespace,
    '--db-filename', join(options.dataDir, 'temporal.sqlite'),
    '--log-format', 'json',
    '--log-level', 'warn',
    // No call home for a version check: the stack runs offline as well.
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    ...AIMO_SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', `${a.name}=${TypedSearchAttributes.toMetadataType(a.type)}`]),
    ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
  ];
}

/** Servers this process started and has not stopped yet: killed when the process exits, however it exits. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killRunningOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * Its output goes to the log file (appended, one header line per start), not
 * the terminal. It runs in its own process group, so Ctrl-C in the terminal
 * reaches aimo only, which stops the server last, after the workers drained.
 */
function spawnDevServer(executable: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    writeSync(fd, `\n--- ${new Date().toISOString()} aimo starts the Temporal dev server: ${executable} ${args.join(' ')}\n`);
    const child = spawn(executable, args, { stdio: ['ignore', fd, fd], detached: true });
    running.add(child);
    killRunningOnExit();
    child.once('exit', () => running.delete(child));
    return child;
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(fd);
  }
}

/** Until the frontend and the UI both accept connections (the summary links to the UI at once). */
async function untilReady(child: ChildProcess, host: string, ports: number[], logFile: string, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + READY_LIMIT_MS;
  let exited: string | undefined;
  child.once('error', (err) => (exited = err.message));
  child.once('exit', (code, sig) => (exited ??= `exited with ${sig ?? `code ${code}`}`));
  for (;;) {
    if (signal?.aborted) throw new Error('interrupted while the Temporal dev server started');
    if (child.exitCode !== null) exited ??= `exited with code ${child.exitCode}`;
    if (exited) throw new Error(`the Temporal dev server ${exited} before it accepted connections; its last lines (${logFile}):\n${tail(logFile, 10)}`);
    if ((await Promise.all(ports.map((port) => isListening(host, port)))).every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`the Temporal dev server did not accept connections on ${host}:${ports.join(' and ')} within ${READY_LIMIT_MS / 1000} s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM (the server closes its SQLite file cleanly), SIGKILL after STOP_LIMIT_MS; resolves once the process is gone. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_LIMIT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), address.slice(i + 1)];
}

function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
