import { WorkflowFailedError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { z } from 'zod';
import { driftInputSchema, parseOrProblems, retrainInputSchema } from '../domain/loops/inputs';
import type { DriftResult, RetrainResult } from '../domain/loops/results';
import { WORKFLOW_TYPES } from '../domain/rollout/definitions';
import { aimoStartOptions } from '../platform/start-options';
import { CliError, EXIT, whoAmI, type CliContext } from './context';

export type LoopCommand = 'retrain' | 'drift';

export interface LoopOptions {
  readonly asOf?: string;
  readonly reason?: string;
  readonly id?: string;
  readonly wait: boolean;
  readonly json: boolean;
}

const LOOPS: Record<LoopCommand, { type: string; schema: z.ZodType; what: string }> = {
  retrain: { type: WORKFLOW_TYPES.retrain, schema: retrainInputSchema, what: 'retrain' },
  drift: { type: WORKFLOW_TYPES.drift, schema: driftInputSchema, what: 'drift check' },
};

/**
 * `aimo retrain <useCase>` and `aimo drift <useCase>`: the loop on the data
 * as it is (no date needed: the window ends on the newest complete day),
 * validated here first so a bad field starts nothing. With --wait it follows
 * the run to its end and exits 1 unless it completed.
 */
export async function loopStart(ctx: CliContext, loop: LoopCommand, useCase: string, options: LoopOptions): Promise<number> {
  const { type, schema, what } = LOOPS[loop];
  const by = whoAmI();
  const input = {
    useCase,
    ...(options.asOf ? { asOf: options.asOf } : {}),
    ...(loop === 'retrain' ? { reason: options.reason ?? `started from the CLI by ${by}` } : {}),
  };
  const checked = parseOrProblems(schema, input);
  if (!checked.ok) throw new CliError(`the ${what} input is invalid (nothing was started):`, EXIT.usage, checked.problems);
  const suffix = options.id ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(suffix)) throw new CliError('--id: use letters, digits, ".", "_" and "-"', EXIT.usage);
  const workflowId = `${loop}-${useCase}-cli-${suffix}`;
  const trigger = { via: 'cli', by };
  const client = await ctx.client();
  let runId: string;
  try {
    const handle = await client.workflow.start(type, aimoStartOptions({ taskQueue: ctx.config.taskQueues.main, workflowId, args: [{ ...input, trigger }], useCase, summary: `${what} of ${useCase} from the CLI (${by})`, trigger }));
    runId = handle.firstExecutionRunId;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`${workflowId} already ran; choose another --id`, EXIT.failed);
    throw err;
  }
  if (!options.wait) {
    if (options.json) ctx.io.out(JSON.stringify({ workflowId, runId, uiUrl: ctx.uiUrl(workflowId) }));
    else ctx.io.out(`Started: ${workflowId} (run ${runId})\n  Temporal UI: ${ctx.uiUrl(workflowId)}\n  follow it: aimo status ${workflowId}`);
    return EXIT.ok;
  }
  if (!options.json) ctx.io.out(`Started: ${workflowId} (run ${runId}); waiting for it to finish…`);
  try {
    const result = (await client.workflow.getHandle(workflowId).result()) as RetrainResult | DriftResult;
    if (options.json) ctx.io.out(JSON.stringify({ workflowId, runId, result }));
    else ctx.io.out(loop === 'retrain' ? retrainLine(result as RetrainResult) : driftLine(result as DriftResult));
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause instanceof Error && err.cause.cause instanceof Error ? err.cause.cause : err.cause;
    throw new CliError(`${workflowId} failed: ${cause?.message ?? err.message}`, EXIT.failed);
  }
}

function retrainLine(r: RetrainResult): string {
  const window = r.window ? `, trained on ${r.window.from} – ${r.window.lastDay}` : '';
  const auc = r.comparison ? ` (challenger AUC ${r.comparison.challengerAuc.toFixed(4)} vs champion ${r.comparison.championAuc.toFixed(4)})` : '';
  return `Retrain of ${r.useCase}: ${r.outcome}${auc}${window}. ${r.reason}. Champion: ${r.champion}`;
}

function driftLine(r: DriftResult): string {
  const found = r.datasetDrift || r.predictionDrift;
  const what = found ? `drift in ${r.driftedFeatures.join(', ') || 'the predictions'}` : 'no drift';
  const retrain = r.retrain ? `; retrain ${r.retrain.workflowId} ${r.retrain.started ? 'started' : 'already started'}` : '';
  return `Drift check of ${r.useCase} over ${r.window.from} – ${r.window.to}: ${what}${retrain}`;
}
