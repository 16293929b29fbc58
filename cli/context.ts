import { userInfo } from 'node:os';
import type { Client, Connection } from '@temporalio/client';
import type { AimoConfig } from '../config';

/** Exit codes of `aimo`, documented in docs/triggers.md. */
export const EXIT = {
  ok: 0,
  /** The command ran and the outcome is negative: workflow failed or rejected, decision refused */
  failed: 1,
  /** Bad arguments or invalid input (plan, decision, schedules file); nothing was done */
  usage: 2,
  /** No such workflow or schedule */
  notFound: 3,
  /** The environment is wrong or Temporal is not reachable */
  environment: 4,
  interrupted: 130,
} as const;

/** An error the CLI reports as its message and exit code, without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const stdio: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Config and a Temporal client, made on first use so that local validation needs neither. */
export class CliContext {
  private configValue: AimoConfig | undefined;
  private connected: Promise<{ client: Client; connection: Connection }> | undefined;

  constructor(readonly io: Output = stdio) {}

  get config(): AimoConfig {
    if (!this.configValue) {
      // Loaded on first use: the config's schema (zod, Temporal's protobufs) is a quarter second that `--help` does not need.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ConfigError, loadConfig } = require('../config') as typeof import('../config');
      try {
        this.configValue = loadConfig();
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message, EXIT.environment);
        throw err;
      }
    }
    return this.configValue;
  }

  async client(): Promise<Client> {
    return (await this.connect()).client;
  }

  async connection(): Promise<Connection> {
    return (await this.connect()).connection;
  }

  private connect(): Promise<{ client: Client; connection: Connection }> {
    const config = this.config;
    // Loaded here, not at the top: commands that need no Temporal (help, a plan refused locally) skip its half-second import.
    this.connected ??= import('../platform/temporal-connection').then(({ connectClient }) => connectClient(config.temporal)).catch((err: unknown) => {
      throw new CliError(
        `cannot reach Temporal at ${config.temporal.address} (namespace ${config.temporal.namespace}): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n` +
          'Start aimo with `npm start` (it starts a local Temporal), or set TEMPORAL_ADDRESS to your cluster.',
        EXIT.environment,
      );
    });
    return this.connected;
  }

  /** The Temporal UI link of a workflow. */
  uiUrl(workflowId: string): string {
    const base = (process.env['AIMO_TEMPORAL_UI_URL'] ?? `http://localhost:${this.config.temporal.uiPort}`).replace(/\/+$/, '');
    return `${base}/namespaces/${encodeURIComponent(this.config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    try {
      await (await this.connected).connection.close();
    } catch {
      // never connected: nothing to close
    }
  }
}

/** Who runs the command, for the audit trail: the OS user, or "cli". */
export function whoAmI(): string {
  try {
    return userInfo().username || 'cli';
  } catch {
    return 'cli';
  }
}
