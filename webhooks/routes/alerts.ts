import { decideAlert } from '../../config/webhooks';
import { alertSchema, type DriftCheckInput, type RollbackInput } from '../schemas';
import { parseBody, startLoop, webhookTrigger, type RegisterRoutes } from './shared';

/** POST /v1/events/alert: the alert policy turns a monitoring alert into a drift check, a rollback or nothing. */
export const registerAlertRoutes: RegisterRoutes = (app, deps) => {
  deps.signedRoutes.post(app, {
    path: '/v1/events/alert',
    summary: 'A monitoring alert: drift check, rollback or nothing, per the alert policy',
    description:
      'The alert policy (AIMO_ALERT_POLICY) maps kind and severity to `driftCheck` (id drift-<useCase>-<delivery id>), `rollback` (id rollback-<useCase>-<delivery id>) or nothing (200 with action "ignore").',
    body: alertSchema,
    responses: ['202', '200', '400', '401', '413'],
    handler: async (body, d, _req, reply) => {
      const alert = parseBody(alertSchema, body, 'alert');
      const { action, rule } = decideAlert(deps.alertPolicy, alert.kind, alert.severity);
      const what = `${alert.severity} ${alert.kind} alert from ${d.source}${alert.message ? `: ${alert.message.slice(0, 200)}` : ''}`;
      if (action === 'ignore') {
        return reply.code(200).send({
          action: 'ignore',
          reason: rule ? `the alert policy ignores ${alert.kind} from ${rule.minSeverity}` : `no alert policy rule for ${alert.kind} at ${alert.severity}`,
        });
      }
      const trigger = { ...webhookTrigger('alert', d), kind: 'alert' as const, alert };
      if (action === 'rollback') {
        const input: RollbackInput = { useCase: alert.useCase, reason: what, by: `alert:${d.source}`, trigger };
        const started = await startLoop(deps, 'rollback', input, `rollback of ${alert.useCase} to the previous good version: ${what}`, d);
        return reply.code(202).send({ action, ...started });
      }
      const input: DriftCheckInput = { useCase: alert.useCase, trigger };
      const started = await startLoop(deps, 'drift', input, `drift check of ${alert.useCase}: ${what}`, d);
      return reply.code(202).send({ action, ...started });
    },
  });
};
