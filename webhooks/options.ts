import type { Client } from '@temporalio/client';
import { type AlertPolicy, DEFAULT_ALERT_POLICY_TEXT, parseAlertPolicy } from '../config/webhooks';
import type { Logger } from '../platform/logger';
import type { ReportSource } from './report-source';

/** What serves GET /metrics: a prom-client Registry (store/metrics.ts) has this shape. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface WebhookServerOptions {
  readonly client: Client;
  readonly logger: Logger;
  /** Task queue of the started workflows (AIMO_TASK_QUEUE) */
  readonly taskQueue: string;
  /** 0 picks a free port (tests) */
  readonly port: number;
  /** default 127.0.0.1: expose it on purpose (0.0.0.0 in a container) */
  readonly host?: string;
  /** source → HMAC secret; without any, the signed webhook routes are not served (reports and health are) */
  readonly secrets: Readonly<Record<string, string>>;
  /** Where /reports/<workflowId> reads from; without it those routes answer 503 */
  readonly reports?: ReportSource;
  /** Temporal UI base, e.g. http://localhost:8233 */
  readonly uiBaseUrl: string;
  readonly namespace: string;
  /** default 256 KiB; larger bodies get 413 */
  readonly maxBodyBytes?: number;
  /** default: DEFAULT_ALERT_POLICY_TEXT */
  readonly alertPolicy?: AlertPolicy;
  /** Replay window for x-aimo-timestamp, default 300 s */
  readonly toleranceSeconds?: number;
  /** How long an approval may wait for the workflow to accept it, default 30 s */
  readonly approvalTimeoutMs?: number;
  /** Deadline of each call to Temporal (start, describe), default 10 s */
  readonly temporalTimeoutMs?: number;
  /** aimo's Prometheus metrics, served at GET /metrics; without it there is no such route */
  readonly metrics?: MetricsSource;
}

/** The options that shape the app and its routes, with every default filled in. */
export type WebhookSettings = Required<Omit<WebhookServerOptions, 'logger' | 'port' | 'host' | 'metrics' | 'reports'>> & Pick<WebhookServerOptions, 'metrics' | 'reports'>;

export function resolveSettings(options: WebhookServerOptions): WebhookSettings {
  return {
    client: options.client,
    ...(options.reports ? { reports: options.reports } : {}),
    taskQueue: options.taskQueue,
    secrets: options.secrets,
    // Workflow links are built by appending paths to it.
    uiBaseUrl: options.uiBaseUrl.replace(/\/+$/, ''),
    namespace: options.namespace,
    maxBodyBytes: options.maxBodyBytes ?? 256 * 1024,
    alertPolicy: options.alertPolicy ?? parseAlertPolicy(DEFAULT_ALERT_POLICY_TEXT).policy,
    toleranceSeconds: options.toleranceSeconds ?? 300,
    approvalTimeoutMs: options.approvalTimeoutMs ?? 30_000,
    temporalTimeoutMs: options.temporalTimeoutMs ?? 10_000,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
}
