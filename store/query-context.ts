import type { RolloutPlan } from '../domain/plan';
import type { RolloutContext } from '../domain/rollout/context';
import { withQueryContext } from '../warehouse/scoped';
import type { QueryContext, Warehouse } from '../warehouse/warehouse';

/** Who runs a step's statements and what each may cost: the plan's byte budget (BigQuery) travels with them. */
export function stepQueryContext(ctx: RolloutContext, maxBytesScanned: number | undefined): QueryContext {
  return { useCase: ctx.useCase, workflowId: ctx.workflowId, ...(maxBytesScanned === undefined ? {} : { maxBytesScanned }) };
}

/** The warehouse as a step of this rollout uses it: labelled with the rollout and held to the plan's byte budget. */
export function stepWarehouse(warehouse: Warehouse, ctx: RolloutContext, plan: Pick<RolloutPlan, 'guardrails'>): Warehouse {
  return withQueryContext(warehouse, stepQueryContext(ctx, plan.guardrails.maxBytesScanned));
}
