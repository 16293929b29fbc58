import { rollbackRequestSchema, type RollbackInput } from '../schemas';
import { parseBody, startLoop, webhookTrigger, type RegisterRoutes } from './shared';

/** POST /v1/rollbacks: a person or system moves serving back to a previous model version. */
export const registerRollbackRoutes: RegisterRoutes = (app, deps) => {
  deps.signedRoutes.post(app, {
    path: '/v1/rollbacks',
    summary: 'Roll a use case back to a previous model version',
    description: 'Starts `rollback` with id rollback-<useCase>-<delivery id>.',
    body: rollbackRequestSchema,
    responses: ['202', '400', '401', '413'],
    handler: async (body, d, _req, reply) => {
      const req = parseBody(rollbackRequestSchema, body, 'rollback');
      const input: RollbackInput = {
        useCase: req.useCase,
        ...(req.toVersion ? { toVersion: req.toVersion } : {}),
        reason: req.reason,
        by: req.by,
        trigger: { ...webhookTrigger('rollbacks', d), kind: 'rollback' },
      };
      const summary = `rollback of ${req.useCase} to ${req.toVersion ?? 'the previous good version'} by ${req.by}: ${req.reason.slice(0, 200)}`;
      return reply.code(202).send(await startLoop(deps, 'rollback', input, summary, d));
    },
  });
};
