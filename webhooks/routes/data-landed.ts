import { dataLandedSchema, type RetrainInput } from '../schemas';
import { parseBody, startLoop, webhookTrigger, type RegisterRoutes } from './shared';

/** POST /v1/events/data-landed: fresh data starts a retrain. */
export const registerDataLandedRoutes: RegisterRoutes = (app, deps) => {
  deps.signedRoutes.post(app, {
    path: '/v1/events/data-landed',
    summary: 'Fresh data landed: retrain the use case',
    description: 'Starts `retrain` with id retrain-<useCase>-<delivery id>.',
    body: dataLandedSchema,
    responses: ['202', '400', '401', '413'],
    handler: async (body, d, _req, reply) => {
      const event = parseBody(dataLandedSchema, body, 'data-landed event');
      const landed = `${event.table ?? 'data'} landed at ${event.landedAt} (webhook from ${d.source})`;
      const input: RetrainInput = {
        useCase: event.useCase,
        reason: landed.slice(0, 500),
        trigger: { ...webhookTrigger('data-landed', d), kind: 'data-landed', ...(event.table ? { table: event.table } : {}), landedAt: event.landedAt },
      };
      return reply.code(202).send(await startLoop(deps, 'retrain', input, `retrain of ${event.useCase}: ${landed}`, d));
    },
  });
};
