import type { RollbackResult } from '../../domain/loops/results';
import { rollbackInputSchema } from '../../domain/loops/inputs';
import { quickActivities } from '../activity-proxies';
import { auditTrail, loopContext, parseInput, publish } from './support';


/**
 * Moves a use case's serving back to its previous good version (or a named
 * one) in one atomic switch, with who and why in the audit log. Started from
 * the UI, a webhook or another workflow; running it twice changes nothing more.
 */
export async function rollback(input: unknown): Promise<RollbackResult> {
  const request = parseInput(rollbackInputSchema, input, 'rollback');
  const ctx = loopContext(request.useCase);
  const audit = auditTrail(ctx);
  publish(request.useCase, 'rollback', 'running', `Rollback of ${request.useCase}${request.toVersion ? ` to ${request.toVersion}` : ''}: ${request.reason}`);
  try {
    // The target is fixed once, in history: a retried switch then cannot pick a different "previous".
    const target = await quickActivities.resolveRollbackTarget({ useCase: request.useCase, ...(request.toVersion ? { toVersion: request.toVersion } : {}) });
    const switched = await quickActivities.rollbackServing({ ...request, toVersion: target.to, at: new Date().toISOString() });
    await audit('rollback', switched.changed ? 'rolled-back' : 'already-serving', request.reason, request.by, { ...switched });
    publish(request.useCase, 'rollback', 'completed');
    return { useCase: request.useCase, ...switched };
  } catch (err) {
    publish(request.useCase, 'rollback', 'failed');
    await audit('rollback', 'refused', err instanceof Error ? err.message : String(err), request.by);
    throw err;
  }
}
