import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
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
  /** Where the server keeps its history (temporal.sqlite) */
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
  stop(): Promise<void>;
}

/**
 * Decides whether aimo must start a local Temporal dev server: only for a
 * local address, and (in 'auto') only when nothing is listening there yet, so
 * a user's own `temporal server start-dev` is reused rather than fought.
 */
export async function ensureDevServer(options: DevServerOptions, binary: () => ResolvedBinary): Promise<DevServer> {
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
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: binary().executable,
      ip: host === 'localhost' ? '127.0.0.1' : host,
      port,
      ui: true,
      uiPort: options.uiPort,
      namespace: options.namespace,
      dbFilename: join(options.dataDir, 'temporal.sqlite'),
      searchAttributes: [...AIMO_SEARCH_ATTRIBUTES],
      log: { format: 'json', level: 'warn' },
      ...(options.uiCodecEndpoint ? { extraArgs: ['--ui-codec-endpoint', options.uiCodecEndpoint] } : {}),
    },
  });
  return { address: options.address, uiUrl, startedHere: true, stop: () => env.teardown() };
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
