import { z } from 'zod';
import { checkPlan, contentPlanSchema, rolloutPlanSchema } from '../../domain/plan';
import { WORKFLOW_TYPES, rolloutWorkflowId } from '../../domain/rollout/definitions';
import { HttpError } from '../errors';
import { startWorkflow, webhookTrigger, type RegisterRoutes } from './shared';

/** POST /v1/rollouts: a plan in, the eight-step rollout started. */
export const registerRolloutRoutes: RegisterRoutes = (app, deps) => {
  deps.signedRoutes.post(app, {
    path: '/v1/rollouts',
    summary: 'Start the eight-step rollout of a use case',
    description: 'Body: one rollout plan, as pasted into the Temporal UI: a propensity plan, or a content plan with "kind": "content". Workflow id: rollout-<useCase>-<delivery id>.',
    // Documents both kinds; the handler parses with the schema the workflow uses.
    body: z.union([rolloutPlanSchema, contentPlanSchema]),
    responses: ['202', '400', '401', '413'],
    handler: async (body, d, _req, reply) => {
      // The check the workflow makes, so the answer names the same fields (and the field meant by a typo).
      const checked = typeof body === 'object' && body !== null ? checkPlan(body) : { ok: false as const, problems: ['(plan): send the plan as one JSON object'] };
      if (!checked.ok) throw new HttpError(400, 'invalid rollout plan', checked.problems.map((p) => p.replace(/^\(plan\)/, '(body)')));
      const plan = checked.plan;
      const k = plan.kpi;
      const summary = `rollout of ${plan.useCase}: ${k.metric} ${k.targetChange > 0 ? '+' : ''}${Math.round(k.targetChange * 1000) / 10} % on ${k.channel}/${k.market} by ${k.deadline} (webhook from ${d.source})`;
      const started = await startWorkflow(deps, WORKFLOW_TYPES.rollout, {
        workflowId: rolloutWorkflowId(plan.useCase, d.deliveryId),
        args: [plan],
        useCase: plan.useCase,
        summary,
        trigger: webhookTrigger('rollouts', d),
      });
      return reply.code(202).send(started);
    },
  });
};
