import { z } from 'zod';
import type { AimoConfig } from './index';

/**
 * Settings of the webhook server, read from the environment next to the
 * main config (config/env.ts). Secrets are validated but never echoed.
 */

export const ALERT_KINDS = ['drift', 'serving-error', 'kpi-drop', 'data-quality'] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const ALERT_ACTIONS = ['driftCheck', 'rollback', 'ignore'] as const;

export type AlertKind = (typeof ALERT_KINDS)[number];
export type Severity = (typeof SEVERITIES)[number];
export type AlertAction = (typeof ALERT_ACTIONS)[number];

export interface AlertRule {
  readonly kind: AlertKind;
  /** The rule applies from this severity up */
  readonly minSeverity: Severity;
  readonly action: AlertAction;
}
export type AlertPolicy = readonly AlertRule[];

/**
 * Default: drift and data-quality warnings start a drift check (which
 * decides on a retrain); a critical KPI drop or serving error rolls back to
 * the previous good version; info alerts and anything unlisted are ignored.
 */
export const DEFAULT_ALERT_POLICY_TEXT =
  'drift:warning=driftCheck,data-quality:warning=driftCheck,kpi-drop:warning=driftCheck,kpi-drop:critical=rollback,serving-error:critical=rollback';

/** For the alert (kind, severity): the rule of that kind with the highest minSeverity not above the alert's. */
export function decideAlert(policy: AlertPolicy, kind: AlertKind, severity: Severity): { action: AlertAction; rule?: AlertRule } {
  const rank = SEVERITIES.indexOf(severity);
  let best: AlertRule | undefined;
  for (const rule of policy) {
    if (rule.kind !== kind || SEVERITIES.indexOf(rule.minSeverity) > rank) continue;
    if (!best || SEVERITIES.indexOf(rule.minSeverity) >= SEVERITIES.indexOf(best.minSeverity)) best = rule;
  }
  return best ? { action: best.action, rule: best } : { action: 'ignore' };
}

const SOURCE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** "kind[:minSeverity]=action,..." → rules; problems name the rule. */
export function parseAlertPolicy(text: string): { policy: AlertRule[]; problems: string[] } {
  const policy: AlertRule[] = [];
  const problems: string[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z-]+)(?::([a-z]+))?=([A-Za-z]+)$/.exec(raw);
    if (!m) {
      problems.push(`AIMO_ALERT_POLICY: "${raw}" is not kind[:minSeverity]=action, e.g. drift:warning=driftCheck`);
      continue;
    }
    const [, kind, minSeverity = 'info', action] = m;
    if (!ALERT_KINDS.includes(kind as AlertKind)) problems.push(`AIMO_ALERT_POLICY: "${raw}": kind must be one of ${ALERT_KINDS.join(', ')}`);
    else if (!SEVERITIES.includes(minSeverity as Severity)) problems.push(`AIMO_ALERT_POLICY: "${raw}": severity must be one of ${SEVERITIES.join(', ')}`);
    else if (!ALERT_ACTIONS.includes(action as AlertAction)) problems.push(`AIMO_ALERT_POLICY: "${raw}": action must be one of ${ALERT_ACTIONS.join(', ')}`);
    else policy.push({ kind: kind as AlertKind, minSeverity: minSeverity as Severity, action: action as AlertAction });
  }
  return { policy, problems };
}

/** "source:secret,source:secret" → map; a secret may contain ":" but not ",". */
export function parseWebhookSecrets(text: string): { secrets: Record<string, string>; problems: string[] } {
  const secrets: Record<string, string> = {};
  const problems: string[] = [];
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .forEach((pair, i) => {
      const at = pair.indexOf(':');
      const source = at > 0 ? pair.slice(0, at) : '';
      const secret = at > 0 ? pair.slice(at + 1) : '';
      if (!SOURCE.test(source)) {
        problems.push(`AIMO_WEBHOOK_SECRETS: entry ${i + 1} needs "source:secret" with a source of lower-case letters, digits, ".", "_" or "-"`);
      } else if (secret.length < 32) {
        problems.push(`AIMO_WEBHOOK_SECRETS: the secret of "${source}" must have at least 32 characters (e.g. openssl rand -hex 32)`);
      } else if (secrets[source] !== undefined) {
        problems.push(`AIMO_WEBHOOK_SECRETS: source "${source}" is listed twice`);
      } else secrets[source] = secret;
    });
  return { secrets, problems };
}

const webhookEnvSchema = z.object({
  AIMO_WEBHOOK_SECRETS: z.string().optional(),
  AIMO_WEBHOOK_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]+$/, 'expected a host or IP, e.g. 127.0.0.1 or 0.0.0.0')
    .default('127.0.0.1'),
  AIMO_WEBHOOK_MAX_BODY_BYTES: z.coerce
    .number({ message: 'expected a number of bytes' })
    .int()
    .min(1024, 'at least 1024 bytes')
    .max(16 * 1024 * 1024, 'at most 16 MiB')
    .default(256 * 1024),
  AIMO_WEBHOOK_TOLERANCE_SECONDS: z.coerce
    .number({ message: 'expected seconds' })
    .int()
    .min(30, 'at least 30 seconds (clock skew)')
    .max(3600, 'at most 3600 seconds (replay window)')
    .default(300),
  AIMO_TEMPORAL_UI_URL: z.url({ message: 'expected the http(s) URL of the Temporal UI' }).optional(),
  AIMO_ALERT_POLICY: z.string().default(DEFAULT_ALERT_POLICY_TEXT),
});

export interface WebhookConfig {
  readonly host: string;
  readonly port: number;
  readonly secrets: Record<string, string>;
  readonly maxBodyBytes: number;
  readonly toleranceSeconds: number;
  readonly uiBaseUrl: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly alertPolicy: AlertPolicy;
}

/**
 * Where people reach aimo's HTTP server: AIMO_PUBLIC_URL, else the address it
 * listens on (a wildcard host is reached on this machine as 127.0.0.1).
 */
export function httpBaseUrl(config: AimoConfig, source: Record<string, string | undefined> = process.env): string {
  if (config.env.AIMO_PUBLIC_URL) return config.env.AIMO_PUBLIC_URL;
  const host = source['AIMO_WEBHOOK_HOST'] || '127.0.0.1';
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${config.env.AIMO_WEBHOOK_PORT}`;
}

export class WebhookConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`the webhook server cannot start: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'WebhookConfigError';
  }
}

/**
 * The HTTP server's settings. `aimo webhooks serve` refuses to start without
 * AIMO_WEBHOOK_SECRETS (signed webhooks are all it serves); the stack passes
 * `requireSecrets: false` and serves reports and health without them.
 */
export function loadWebhookConfig(config: AimoConfig, source: Record<string, string | undefined> = process.env, options: { requireSecrets?: boolean } = {}): WebhookConfig {
  const known: Record<string, string> = {};
  for (const key of Object.keys(webhookEnvSchema.shape)) {
    const value = source[key];
    if (value !== undefined && value !== '') known[key] = value;
  }
  const result = webhookEnvSchema.safeParse(known);
  const problems = (result.error?.issues ?? []).map((issue) => {
    const key = issue.path.join('.');
    return `${key}: ${issue.message}${key !== 'AIMO_WEBHOOK_SECRETS' && known[key] !== undefined ? ` (got ${JSON.stringify(known[key])})` : ''}`;
  });
  const secrets = parseWebhookSecrets(known['AIMO_WEBHOOK_SECRETS'] ?? '');
  problems.push(...secrets.problems);
  if (!known['AIMO_WEBHOOK_SECRETS'] && options.requireSecrets !== false) {
    problems.push('AIMO_WEBHOOK_SECRETS: required, e.g. AIMO_WEBHOOK_SECRETS=ci:$(openssl rand -hex 32),monitoring:$(openssl rand -hex 32)');
  }
  const alerts = parseAlertPolicy(known['AIMO_ALERT_POLICY'] ?? DEFAULT_ALERT_POLICY_TEXT);
  problems.push(...alerts.problems);
  if (problems.length || !result.success) throw new WebhookConfigError(problems);
  const env = result.data;
  const [host] = config.temporal.address.split(':');
  const uiHost = host === 'localhost' || host === '127.0.0.1' ? host : 'localhost';
  return {
    host: env.AIMO_WEBHOOK_HOST,
    port: config.env.AIMO_WEBHOOK_PORT,
    secrets: secrets.secrets,
    maxBodyBytes: env.AIMO_WEBHOOK_MAX_BODY_BYTES,
    toleranceSeconds: env.AIMO_WEBHOOK_TOLERANCE_SECONDS,
    uiBaseUrl: (env.AIMO_TEMPORAL_UI_URL ?? `http://${uiHost}:${config.temporal.uiPort}`).replace(/\/+$/, ''),
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueues.main,
    alertPolicy: alerts.policy,
  };
}
