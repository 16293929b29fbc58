import { log } from '@temporalio/activity';
import type { ActivityDependencies } from '../dependencies';
import { aimoTable, ensureAimoTables, upsertAimoRow } from '../../store/aimo-tables';

export interface Incident {
  /** Stable id: the same incident reported again is the same id */
  readonly id: string;
  readonly useCase: string;
  readonly kind: 'drift' | 'canary-failed' | 'rollback' | 'jump';
  readonly severity: 'info' | 'warning' | 'critical';
  readonly title: string;
  readonly details: Record<string, unknown>;
}

type AlertRoute = { kind: 'log' } | { kind: 'webhook'; url: string };

/** Slack-compatible message: `text` for any webhook, `blocks` for Slack. */
export function slackPayload(incident: Incident): Record<string, unknown> {
  const facts = Object.entries(incident.details)
    .map(([k, v]) => `• *${k}*: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('\n');
  return {
    text: `[aimo ${incident.severity}] ${incident.title}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: incident.title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: `*use case*: ${incident.useCase}\n*incident*: ${incident.id}\n${facts}`.slice(0, 3000) } },
    ],
    aimo: incident,
  };
}

export function createAlertActivities({ warehouse }: ActivityDependencies) {
  return {
    /**
     * Sends an incident to every route of its use case (the log when none is
     * configured). A route that already got this incident is skipped, so a
     * retried activity never alerts twice; webhook receivers also get the
     * incident id as an idempotency key.
     */
    async sendAlert(incident: Incident & { at: string }): Promise<{ sent: string[]; skipped: string[] }> {
      await ensureAimoTables(warehouse);
      const q = (c: string) => warehouse.dialect.quote(c);
      const routeRows = await warehouse.query<{ route: string; route_json: string }>(
        `SELECT ${q('route')} AS route, ${q('route_json')} AS route_json FROM ${warehouse.dialect.table(aimoTable('alert_routes'))} WHERE ${q('use_case')} = @use_case ORDER BY ${q('route')}`,
        { use_case: incident.useCase },
      );
      const routes = routeRows.length ? routeRows.map((r) => ({ key: r.route, route: JSON.parse(r.route_json) as AlertRoute })) : [{ key: 'default-log', route: { kind: 'log' } as AlertRoute }];
      const already = new Set(
        (
          await warehouse.query<{ route: string }>(
            `SELECT ${q('route')} AS route FROM ${warehouse.dialect.table(aimoTable('alerts_sent'))} WHERE ${q('incident_id')} = @incident_id`,
            { incident_id: incident.id },
          )
        ).map((r) => r.route),
      );
      const sent: string[] = [];
      const skipped: string[] = [];
      const payload = slackPayload(incident);
      for (const { key, route } of routes) {
        if (already.has(key)) {
          skipped.push(key);
          continue;
        }
        if (route.kind === 'webhook') {
          const response = await fetch(route.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-aimo-idempotency-key': `${incident.id}:${key}` },
            body: JSON.stringify(payload),
            signal: AbortSignal.timeout(10_000),
          });
          // A failed delivery throws, so Temporal retries it with backoff.
          if (!response.ok) throw new Error(`alert webhook answered ${response.status}`);
        } else {
          log.warn(`ALERT ${incident.title}`, { incidentId: incident.id, useCase: incident.useCase, severity: incident.severity, details: incident.details });
        }
        await upsertAimoRow(warehouse, 'alerts_sent', { incident_id: incident.id, route: key, use_case: incident.useCase, sent_at: incident.at, payload_json: JSON.stringify(payload) });
        sent.push(key);
      }
      return { sent, skipped };
    },
  };
}
