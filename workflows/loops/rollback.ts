import type { RollbackResult } from '../../domain/loops/results';
import { rollbackInputSchema } from '../../domain/loops/inputs';
import { CancellationScope, isCancellation, log, patched } from '@temporalio/workflow';
import { quickActivities } from '../activity-proxies';
import { auditTrail, loopContext, parseInput, publish } from './support';

/** Rollbacks recorded before this patch wrote their refusal in the cancelled scope. */
const CLEANUP_SURVIVES_CANCELLATION = 'cleanup-survives-cancellation';

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
    if (!patched(CLEANUP_SURVIVES_CANCELLATION)) {
      publish(request.useCase, 'rollback', 'failed');
      await audit('rollback', 'refused', err instanceof Error ? err.message : String(err), request.by);
      throw err;
    }
    const cancelled = isCancellation(err);
    publish(request.useCase, 'rollback', cancelled ? 'cancelled' : 'failed');
    // Shielded from the cancellation; a failing audit write never hides the first error.
    await CancellationScope.nonCancellable(() => audit('rollback', cancelled ? 'cancelled' : 'refused', cancelled ? 'cancelled before the switch was confirmed' : err instanceof Error ? err.message : String(err), request.by)).catch(
      (cleanup: unknown) => log.error('rollback audit not written', { error: cleanup instanceof Error ? cleanup.message : String(cleanup) }),
    );
    throw err;
  }
}
