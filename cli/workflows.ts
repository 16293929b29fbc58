import { readFileSync } from 'node:fs';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RolloutResult } from '../domain/rollout/result';
import { reportUrl } from '../domain/rollout/report-url';
import { httpBaseUrl } from '../config/webhooks';
import { approvalDecisionSchema } from '../domain/rollout/approval';
import { shortHash } from '../domain/naming';
import { checkPlan, type AnyRolloutPlan } from '../domain/plan';
import type { RolloutStatus, StepOutcome } from '../domain/rollout/status';
import { rollbackRequestSchema, validate, type RollbackInput } from '../webhooks/schemas';
import { aimoStartOptions } from '../platform/start-options';
import { STATUS, STEP, USE_CASE, WORKFLOW_TYPES, approvalUpdate, rolloutWorkflowId, statusQuery } from '../domain/rollout/definitions';
import { CliError, EXIT, whoAmI, type CliContext } from './context';

const QUERY_TIMEOUT_MS = 5_000;


function today(): string {
  return new Date().toISOString().slice(0, 10);
}

async function describeOrUndefined(client: Client, workflowId: string): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Reads and validates a plan file; every problem by field path. Needs no Temporal. */
export function readPlanFile(file: string): AnyRolloutPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, EXIT.usage);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`, EXIT.usage);
  }
  const checked = checkPlan(json);
  if (!checked.ok) {
    throw new CliError(`${file} is not a valid rollout plan; fix these fields (nothing was started):`, EXIT.usage, checked.problems);
  }
  return checked.plan;
}

export async function rolloutStart(ctx: CliContext, file: string, options: { wait: boolean; id?: string; json: boolean }): Promise<number> {
  const plan = readPlanFile(file);
  if (options.id !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(options.id)) {
    throw new CliError('--id: use letters, digits, ".", "_" and "-" (at most 100)', EXIT.usage);
  }
  // Same plan on the same day → same id: running the command twice joins the first run.
  const suffix = options.id ?? `${today()}-${shortHash(JSON.stringify(plan))}`;
  const workflowId = rolloutWorkflowId(plan.useCase, suffix);
  const client = await ctx.client();
  const before = await describeOrUndefined(client, workflowId);
  if (before && before.status.name !== 'RUNNING') {
    throw new CliError(
      `${workflowId} already ran (${before.status.name.toLowerCase()}); see it with \`aimo status ${workflowId}\`, or start another with --id <suffix>`,
      EXIT.failed,
    );
  }
  const summary = `Rollout of ${plan.useCase}: ${plan.kpi.metric} ${plan.kpi.targetChange > 0 ? '+' : ''}${Math.round(plan.kpi.targetChange * 1000) / 10} % on ${plan.kpi.channel}/${plan.kpi.market} (started from the CLI by ${whoAmI()})`;
  let runId: string;
  try {
    const handle = await client.workflow.start(
      WORKFLOW_TYPES.rollout,
      aimoStartOptions({
        taskQueue: ctx.config.taskQueues.main,
        workflowId,
        args: [plan],
        useCase: plan.useCase,
        summary,
        trigger: { via: 'cli', by: whoAmI(), file },
      }),
    );
    runId = handle.firstExecutionRunId;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(`${workflowId} already ran; start another with --id <suffix>`, EXIT.failed);
    }
    throw err;
  }
  const joined = before !== undefined;
  if (options.json && !options.wait) {
    ctx.io.out(JSON.stringify({ workflowId, runId, joined, uiUrl: ctx.uiUrl(workflowId) }));
    return EXIT.ok;
  }
  ctx.io.out(`${joined ? 'Already running' : 'Started'}: ${workflowId} (run ${runId})`);
  ctx.io.out(`  Temporal UI: ${ctx.uiUrl(workflowId)}`);
  if (!options.wait) {
    ctx.io.out(`  Follow it:   npx aimo status ${workflowId}`);
    return EXIT.ok;
  }
  return waitForRollout(ctx, client, workflowId, options.json);
}

function stepLine(step: StepOutcome): string {
  const mark = step.status === 'passed' ? 'ok  ' : step.status === 'failed' ? 'FAIL' : 'skip';
  return `  [${mark}] ${step.step.padEnd(15)} ${step.summary}`;
}

/** Shows progress by polling the `status` query until the workflow closes. */
async function waitForRollout(ctx: CliContext, client: Client, workflowId: string, json: boolean): Promise<number> {
  const handle = client.workflow.getHandle(workflowId);
  let shownSteps = 0;
  let lastLine = '';
  let warnedNoWorker = false;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      if (interrupted) {
        ctx.io.err(`Stopped waiting; the rollout keeps running. Follow it with: npx aimo status ${workflowId}`);
        return EXIT.interrupted;
      }
      const desc = await handle.describe();
      if (desc.status.name === 'RUNNING') {
        try {
          const status = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(statusQuery));
          for (const step of status.steps.slice(shownSteps)) if (!json) ctx.io.out(stepLine(step));
          shownSteps = status.steps.length;
          const line =
            status.state === 'waiting-approval'
              ? `  ... waiting for ${status.waitingFor ?? 'an approval'}: npx aimo approve ${workflowId} --by <you> --reason "<why>" [--reject]`
              : `  ... ${status.currentStep}`;
          if (line !== lastLine && !json) ctx.io.out(line);
          lastLine = line;
        } catch {
          if (!warnedNoWorker && !json) {
            ctx.io.err(`  (no answer to the status query yet: is a worker running on task queue ${ctx.config.taskQueues.main}? \`npm start\` runs one)`);
          }
          warnedNoWorker = true;
        }
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      return await printOutcome(ctx, client, workflowId, json, shownSteps);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

async function printOutcome(ctx: CliContext, client: Client, workflowId: string, json: boolean, shownSteps: number): Promise<number> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const result = (await handle.result()) as RolloutResult | undefined;
    if (json) {
      ctx.io.out(JSON.stringify({ workflowId, status: result?.status ?? 'completed', result }));
    } else {
      for (const step of result?.steps?.slice(shownSteps) ?? []) ctx.io.out(stepLine(step));
      ctx.io.out(`Rollout ${result?.status ?? 'completed'}${result?.failure ? `: ${result.failure}` : ''}`);
      if (result?.readout) ctx.io.out(`  ${result.readout.headline}`);
      if (result?.reportUrl) ctx.io.out(`  Report: ${result.reportUrl}`);
      if (result?.reportPath) ctx.io.out(`  ${result.reportUrl ? 'Cached:' : 'Report:'} ${result.reportPath}`);
    }
    return result?.status && result.status !== 'completed' ? EXIT.failed : EXIT.ok;
  } catch (err) {
    const cause = err instanceof WorkflowFailedError && err.cause ? err.cause.message : err instanceof Error ? err.message : String(err);
    if (json) ctx.io.out(JSON.stringify({ workflowId, status: 'failed', failure: cause }));
    else ctx.io.err(`Rollout failed: ${cause}`);
    return EXIT.failed;
  }
}

export async function status(ctx: CliContext, workflowId: string, options: { json: boolean }): Promise<number> {
  const client = await ctx.client();
  const desc = await describeOrUndefined(client, workflowId);
  if (!desc) throw new CliError(`no workflow ${workflowId} in namespace ${ctx.config.temporal.namespace}`, EXIT.notFound);
  const handle = client.workflow.getHandle(workflowId);
  const summary = typeof desc.memo?.['summary'] === 'string' ? desc.memo['summary'] : undefined;
  let live: RolloutStatus | undefined;
  let liveProblem: string | undefined;
  let result: unknown;
  let failure: string | undefined;
  if (desc.status.name === 'RUNNING') {
    const asked = Date.now();
    try {
      live = await client.withDeadline(asked + QUERY_TIMEOUT_MS, () => handle.query(statusQuery));
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      const timedOut = Date.now() - asked >= QUERY_TIMEOUT_MS * 0.9 || /deadline/i.test(`${String(err)} ${String(cause)}`);
      liveProblem = timedOut
        ? `no worker answered the status query within ${QUERY_TIMEOUT_MS / 1000} s (is a worker running on task queue ${desc.taskQueue}?)`
        : `the status query failed: ${cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err)}`;
    }
  } else if (desc.status.name === 'COMPLETED') {
    result = await handle.result();
  } else if (desc.status.name === 'FAILED') {
    failure = await handle.result().then(
      () => undefined,
      (err: unknown) => (err instanceof WorkflowFailedError && err.cause ? err.cause.message : String(err)),
    );
  }
  const rollout = result && typeof result === 'object' && 'steps' in result ? (result as RolloutResult) : undefined;
  const steps = live?.steps ?? rollout?.steps ?? [];
  const attrs = desc.typedSearchAttributes;
  if (options.json) {
    ctx.io.out(
      JSON.stringify({
        workflowId,
        runId: desc.runId,
        type: desc.type,
        status: desc.status.name,
        taskQueue: desc.taskQueue,
        startTime: desc.startTime.toISOString(),
        closeTime: desc.closeTime?.toISOString(),
        summary,
        searchAttributes: { useCase: attrs.get(USE_CASE), step: attrs.get(STEP), status: attrs.get(STATUS) },
        live,
        liveProblem,
        result,
        failure,
        uiUrl: ctx.uiUrl(workflowId),
      }),
    );
    return EXIT.ok;
  }
  ctx.io.out(`${workflowId}  (${desc.type})`);
  ctx.io.out(`  status:      ${desc.status.name}${live ? ` (${live.state}${live.waitingFor ? `: ${live.waitingFor}` : ''})` : rollout ? ` (${rollout.status})` : ''}`);
  ctx.io.out(`  started:     ${desc.startTime.toISOString()}${desc.closeTime ? `, closed ${desc.closeTime.toISOString()}` : ''}`);
  ctx.io.out(`  task queue:  ${desc.taskQueue}`);
  if (summary) ctx.io.out(`  summary:     ${summary}`);
  const step = attrs.get(STEP);
  if (step) ctx.io.out(`  step:        ${step} (${attrs.get(STATUS) ?? '?'})`);
  ctx.io.out(`  Temporal UI: ${ctx.uiUrl(workflowId)}`);
  if (liveProblem) ctx.io.out(`  live status: ${liveProblem}`);
  if (steps.length) {
    ctx.io.out('  steps:');
    for (const s of steps) ctx.io.out(`  ${stepLine(s)}`);
  }
  if (live?.state === 'waiting-approval') {
    const gate = /at the (\S+) gate/.exec(live.waitingFor ?? '')?.[1];
    ctx.io.out(`  decide:      npx aimo approve ${workflowId}${gate ? ` --gate ${gate}` : ''} --by <you> --reason "<why>" [--reject]`);
  }
  if (rollout?.readout) ctx.io.out(`  readout:     ${rollout.readout.headline}`);
  if (rollout?.failure) ctx.io.out(`  outcome:     ${rollout.failure}`);
  if (rollout?.reportUrl) ctx.io.out(`  report:      ${rollout.reportUrl} (HTML with charts; .md and .json beside it)`);
  if (rollout?.reportPath) ctx.io.out(`  ${rollout.reportUrl ? 'cached:     ' : 'report:     '} ${rollout.reportPath} (and ${rollout.reportPath.replace(/\.md$/, '.json')})`);
  else if (live) ctx.io.out(`  report:      written when the rollout ends, at ${reportUrl(httpBaseUrl(ctx.config), workflowId)}`);
  if (failure) ctx.io.out(`  failure:     ${failure}`);
  return EXIT.ok;
}

export async function approve(
  ctx: CliContext,
  workflowId: string,
  options: { by?: string; reason?: string; reject: boolean; gate?: string; json: boolean },
): Promise<number> {
  const parsed = approvalDecisionSchema.safeParse({
    decision: options.reject ? 'reject' : 'approve',
    by: options.by ?? '',
    reason: options.reason ?? '',
    ...(options.gate ? { gate: options.gate } : {}),
  });
  if (!parsed.success) {
    throw new CliError('the decision is incomplete (nothing was sent):', EXIT.usage, parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`));
  }
  const client = await ctx.client();
  const handle = client.workflow.getHandle(workflowId);
  try {
    const result = await client.withDeadline(Date.now() + 30_000, () => handle.executeUpdate(approvalUpdate, { args: [parsed.data] }));
    if (options.json) ctx.io.out(JSON.stringify({ workflowId, result }));
    else ctx.io.out(`${parsed.data.decision === 'approve' ? 'Approved' : 'Rejected'} the ${result.gate} gate of ${workflowId} as ${parsed.data.by}.`);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new CliError(`${workflowId} refused the decision: ${err.cause?.message ?? err.message}`, EXIT.failed);
    }
    if (err instanceof WorkflowNotFoundError) {
      const desc = await describeOrUndefined(client, workflowId);
      if (desc) throw new CliError(`${workflowId} is ${desc.status.name.toLowerCase()}; it waits for no decision`, EXIT.failed);
      throw new CliError(`no workflow ${workflowId} in namespace ${ctx.config.temporal.namespace}`, EXIT.notFound);
    }
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new CliError(`${workflowId} did not take the decision within 30 s; is a worker running on task queue ${ctx.config.taskQueues.main}?`, EXIT.failed);
    }
    throw err;
  }
}

/** Waits for a rollback's outcome: exit 0 only when serving was switched back. */
async function waitForRollback(ctx: CliContext, handle: WorkflowHandle, workflowId: string, json: boolean): Promise<number> {
  if (!json) ctx.io.err(`Started ${workflowId}; waiting for its outcome (Ctrl-C stops waiting, not the rollback) ...`);
  try {
    const result: unknown = await handle.result();
    if (json) ctx.io.out(JSON.stringify({ workflowId, status: 'completed', result }));
    else {
      ctx.io.out(`Rolled back: ${workflowId} completed`);
      ctx.io.out(`  Temporal UI: ${ctx.uiUrl(workflowId)}`);
    }
    return EXIT.ok;
  } catch (err) {
    const cause = err instanceof WorkflowFailedError && err.cause ? err.cause.message : err instanceof Error ? err.message : String(err);
    if (json) ctx.io.out(JSON.stringify({ workflowId, status: 'failed', failure: cause }));
    else ctx.io.err(`Rollback failed: ${workflowId}: ${cause}\n  Temporal UI: ${ctx.uiUrl(workflowId)}`);
    return EXIT.failed;
  }
}

export async function rollback(
  ctx: CliContext,
  useCase: string,
  options: { to?: string; reason?: string; by?: string; id?: string; json: boolean; wait?: boolean },
): Promise<number> {
  const checked = validate(rollbackRequestSchema, {
    useCase,
    ...(options.to ? { toVersion: options.to } : {}),
    reason: options.reason ?? '',
    by: options.by ?? whoAmI(),
  });
  if (!checked.ok) throw new CliError('the rollback request is invalid (nothing was started):', EXIT.usage, checked.problems);
  const req = checked.value;
  const suffix = options.id ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(suffix)) throw new CliError('--id: use letters, digits, ".", "_" and "-"', EXIT.usage);
  const workflowId = `rollback-${req.useCase}-${suffix}`;
  const input: RollbackInput = {
    useCase: req.useCase,
    ...(req.toVersion ? { toVersion: req.toVersion } : {}),
    reason: req.reason,
    by: req.by,
    trigger: { via: 'cli', endpoint: 'rollback', source: 'cli', deliveryId: suffix, kind: 'rollback' },
  };
  const summary = `rollback of ${req.useCase} to ${req.toVersion ?? 'the previous good version'} by ${req.by}: ${req.reason.slice(0, 200)}`;
  const client = await ctx.client();
  try {
    const handle = await client.workflow.start(
      WORKFLOW_TYPES.rollback,
      aimoStartOptions({
        taskQueue: ctx.config.taskQueues.main,
        workflowId,
        args: [input],
        useCase: req.useCase,
        summary,
        trigger: { via: 'cli', by: req.by },
      }),
    );
    if (options.wait) return await waitForRollback(ctx, handle, workflowId, options.json);
    if (options.json) ctx.io.out(JSON.stringify({ workflowId, runId: handle.firstExecutionRunId, uiUrl: ctx.uiUrl(workflowId), waited: false }));
    else {
      // Exit 0 means only that it started: say so, and how to learn the outcome.
      ctx.io.out(`Started (not yet done): ${workflowId} (run ${handle.firstExecutionRunId})`);
      ctx.io.out(`  Temporal UI: ${ctx.uiUrl(workflowId)}`);
      ctx.io.out(`  Outcome:     npx aimo status ${workflowId}  (or start it with --wait to wait for it)`);
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`${workflowId} already ran; choose another --id`, EXIT.failed);
    throw err;
  }
}
