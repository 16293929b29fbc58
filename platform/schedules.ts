import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleSpec,
  type ScheduleSummary,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { STATUS, STEP, USE_CASE, WORKFLOW_TYPES } from '../domain/rollout/definitions';

/**
 * aimo's recurring work (weekly retrain, nightly drift check) as Temporal
 * Schedules: visible and pausable in the UI, with their run history, and
 * managed idempotently from code and config.
 */

export const SCHEDULE_PREFIX = 'aimo-';

export const OVERLAP_POLICIES = ['SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER', 'ALLOW_ALL'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/**
 * The default overlap policy is SKIP, deliberately: a retrain or drift check
 * works on "the latest data". If last week's retrain is still running (slow
 * warehouse, waiting canary), starting a second one would race it for the same
 * challenger tables and serving alias and double the warehouse bill; queueing
 * one behind it (BUFFER_ONE) would only start a stale run late. A skipped tick
 * is counted on the schedule (numActionsSkippedOverlap, visible in the UI) and
 * the next tick runs on fresher data. Backfills are the exception, see
 * backfillSchedule.
 */
export const DEFAULT_OVERLAP: OverlapPolicy = 'SKIP';

/** Durations as the SDK takes them: milliseconds or "1h", "30m", "7 days". */
export type DurationInput = string | number;

export interface IntervalInput {
  readonly every: DurationInput;
  readonly offset?: DurationInput;
}

export interface ScheduleSpecInput {
  /** e.g. aimo-paid-search-cac-retrain (see scheduleIdFor) */
  readonly scheduleId: string;
  /** Workflow type name, e.g. WORKFLOW_TYPES.retrain */
  readonly workflowType: string;
  /** Id of the started workflows; Temporal appends the scheduled time to it */
  readonly workflowId: string;
  readonly taskQueue: string;
  readonly args: unknown[];
  /** One or more cron expressions ("0 3 * * 1", "@daily"); give cron, intervals or both */
  readonly cron?: string | readonly string[];
  readonly intervals?: readonly IntervalInput[];
  /** IANA zone the cron is read in; default UTC */
  readonly timezone?: string;
  readonly jitter?: DurationInput;
  /** How missed ticks are caught up after an outage; default 1 year (the server's) */
  readonly catchupWindow?: DurationInput;
  /** default SKIP (see DEFAULT_OVERLAP) */
  readonly overlap?: OverlapPolicy;
  /** true/false sets the state; undefined leaves a pause made by a person in the UI alone */
  readonly paused?: boolean;
  /** Shown next to the schedule in the UI, e.g. why it is paused */
  readonly note?: string;
  /** Memo of every started workflow (e.g. { summary }) */
  readonly memo?: Record<string, unknown>;
  /** Search attributes of every started workflow */
  readonly searchAttributes?: readonly SearchAttributePair[];
  /** Who owns the schedule, recorded once at creation: config, rollout, api. Only config-owned schedules are pruned. */
  readonly managedBy?: string;
}

export type UpsertResult = 'created' | 'updated' | 'unchanged';

export interface UpsertDetail {
  readonly result: UpsertResult;
  /** When the paused state was changed by this call */
  readonly pausedChanged?: 'paused' | 'unpaused';
}

export class ScheduleSpecError extends Error {
  constructor(
    readonly scheduleId: string,
    message: string,
  ) {
    super(`schedule ${scheduleId}: ${message}`);
    this.name = 'ScheduleSpecError';
  }
}

/** The key of aimo's fingerprint in the memo of the schedule's action. */
export const FINGERPRINT_MEMO_KEY = 'aimoScheduleFingerprint';
/** The key in the schedule's own memo that says who created it. */
export const MANAGED_BY_MEMO_KEY = 'aimoManagedBy';

/** The recurring loops a use case has a schedule for. */
export const SCHEDULED_LOOPS = ['retrain', 'drift', 'retention', 'jumps'] as const;
export type ScheduledLoop = (typeof SCHEDULED_LOOPS)[number];

const LOOP_WORKFLOW_TYPES: Record<ScheduledLoop, string> = {
  retrain: WORKFLOW_TYPES.retrain,
  drift: WORKFLOW_TYPES.drift,
  retention: WORKFLOW_TYPES.retention,
  jumps: WORKFLOW_TYPES.jumps,
};

export function scheduleIdFor(useCase: string, kind: ScheduledLoop): string {
  return `${SCHEDULE_PREFIX}${useCase}-${kind}`;
}

/**
 * The schedule aimo keeps for a use case's recurring loop: the shape the
 * rollout's automation step and config/schedules.yaml both use, so the two
 * agree on ids, workflow ids, input and search attributes.
 */
export function useCaseScheduleSpec(options: {
  useCase: string;
  kind: ScheduledLoop;
  taskQueue: string;
  cron?: string | readonly string[];
  intervals?: readonly IntervalInput[];
  timezone?: string;
  overlap?: OverlapPolicy;
  paused?: boolean;
  note?: string;
  /** Extra fields of the workflow input, next to useCase and trigger */
  input?: Record<string, unknown>;
  managedBy?: string;
}): ScheduleSpecInput {
  const scheduleId = scheduleIdFor(options.useCase, options.kind);
  const workflowType = LOOP_WORKFLOW_TYPES[options.kind];
  const when = [options.cron ? [options.cron].flat().join(' | ') : undefined, options.intervals?.map((i) => `every ${i.every}`).join(', ')]
    .filter(Boolean)
    .join(' and ');
  return {
    scheduleId,
    workflowType,
    workflowId: `${options.kind}-${options.useCase}`,
    taskQueue: options.taskQueue,
    args: [{ ...options.input, useCase: options.useCase, trigger: { kind: 'schedule', scheduleId } }],
    ...(options.cron !== undefined ? { cron: options.cron } : {}),
    ...(options.intervals !== undefined ? { intervals: options.intervals } : {}),
    ...(options.timezone !== undefined ? { timezone: options.timezone } : {}),
    ...(options.overlap !== undefined ? { overlap: options.overlap } : {}),
    ...(options.paused !== undefined ? { paused: options.paused } : {}),
    ...(options.note !== undefined ? { note: options.note } : {}),
    ...(options.managedBy !== undefined ? { managedBy: options.managedBy } : {}),
    memo: { summary: `scheduled ${workflowType} of ${options.useCase} (${when || 'no times'})` },
    searchAttributes: [
      { key: USE_CASE, value: options.useCase },
      { key: STEP, value: 'start' },
      { key: STATUS, value: 'running' },
    ],
  };
}

function cronList(spec: ScheduleSpecInput): string[] {
  if (spec.cron === undefined) return [];
  return typeof spec.cron === 'string' ? [spec.cron] : [...spec.cron];
}

function checkSpec(spec: ScheduleSpecInput): void {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(spec.scheduleId)) problems.push('scheduleId: use letters, digits, ".", "_" and "-"');
  if (!spec.workflowType) problems.push('workflowType: required');
  if (!spec.workflowId) problems.push('workflowId: required');
  if (!spec.taskQueue) problems.push('taskQueue: required');
  if (!Array.isArray(spec.args)) problems.push('args: must be an array of workflow arguments');
  if (cronList(spec).length === 0 && (spec.intervals ?? []).length === 0) problems.push('give a cron expression or intervals');
  for (const cron of cronList(spec)) {
    const fields = cron.replace(/#.*$/, '').replace(/^(CRON_)?TZ=\S+\s+/, '').trim();
    if (!fields.startsWith('@') && !/^(\S+\s+){4,6}\S+$/.test(fields)) problems.push(`cron "${cron}": expected 5 to 7 fields or @daily/@weekly/@every 1h`);
  }
  if (spec.overlap !== undefined && !OVERLAP_POLICIES.includes(spec.overlap)) problems.push(`overlap: expected one of ${OVERLAP_POLICIES.join(', ')}`);
  if (problems.length) throw new ScheduleSpecError(spec.scheduleId, problems.join('; '));
}

/** Stable JSON: keys sorted, so the same spec always hashes the same. */
function canonical(value: unknown): string {
  if (value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What the schedule should be, minus its paused state (a person may pause a
 * schedule in the UI; that is state, not definition). The server compiles
 * cron strings into calendars, so the described schedule cannot be compared
 * with the input directly: the fingerprint travels in the action's memo.
 */
export function scheduleFingerprint(spec: ScheduleSpecInput): string {
  const definition = {
    workflowType: spec.workflowType,
    workflowId: spec.workflowId,
    taskQueue: spec.taskQueue,
    args: spec.args,
    cron: cronList(spec),
    intervals: spec.intervals ?? [],
    timezone: spec.timezone,
    jitter: spec.jitter,
    catchupWindow: spec.catchupWindow,
    overlap: spec.overlap ?? DEFAULT_OVERLAP,
    note: spec.note,
    memo: spec.memo,
    searchAttributes: (spec.searchAttributes ?? []).map((p) => ({ name: p.key.name, type: p.key.type, value: p.value })),
  };
  return createHash('sha256').update(canonical(definition)).digest('hex').slice(0, 32);
}

function temporalSpec(spec: ScheduleSpecInput): ScheduleSpec {
  return {
    ...(cronList(spec).length ? { cronExpressions: cronList(spec) } : {}),
    ...(spec.intervals?.length
      ? { intervals: spec.intervals.map((i) => ({ every: i.every as never, ...(i.offset !== undefined ? { offset: i.offset as never } : {}) })) }
      : {}),
    ...(spec.timezone ? { timezone: spec.timezone } : {}),
    ...(spec.jitter !== undefined ? { jitter: spec.jitter as never } : {}),
  };
}

function temporalAction(spec: ScheduleSpecInput, fingerprint: string): ScheduleOptions['action'] {
  return {
    type: 'startWorkflow',
    workflowType: spec.workflowType,
    workflowId: spec.workflowId,
    taskQueue: spec.taskQueue,
    args: [...spec.args],
    memo: { ...spec.memo, [FINGERPRINT_MEMO_KEY]: fingerprint },
    ...(spec.searchAttributes?.length ? { typedSearchAttributes: [...spec.searchAttributes] } : {}),
  };
}

function temporalPolicies(spec: ScheduleSpecInput): NonNullable<ScheduleOptions['policies']> {
  return {
    overlap: spec.overlap ?? DEFAULT_OVERLAP,
    ...(spec.catchupWindow !== undefined ? { catchupWindow: spec.catchupWindow as never } : {}),
  };
}

/** Whether the live schedule still matches the spec (by fingerprint, plus the fields a person can change elsewhere). */
function isCurrent(live: ScheduleDescription, spec: ScheduleSpecInput, fingerprint: string): boolean {
  const action = live.action;
  return (
    action.memo?.[FINGERPRINT_MEMO_KEY] === fingerprint &&
    action.workflowType === spec.workflowType &&
    action.taskQueue === spec.taskQueue &&
    action.workflowId === spec.workflowId &&
    live.policies.overlap === (spec.overlap ?? DEFAULT_OVERLAP)
  );
}

function friendly(err: unknown, scheduleId: string): Error {
  if (err instanceof ScheduleSpecError || err instanceof ScheduleNotFoundError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // The client refuses values out of range with a TypeError ("Minute is not in range [0-59]"); the server bad cron strings, time zones and durations with INVALID_ARGUMENT.
  if (err instanceof TypeError || /cron|timezone|time zone|invalid|field|range/i.test(message)) return new ScheduleSpecError(scheduleId, message);
  return err instanceof Error ? err : new Error(message);
}

/**
 * Creates the schedule, or brings an existing one up to date; does nothing
 * when it already matches. Safe to call on every rollout and every config
 * apply, and from two processes at once (the loser of a create race finds
 * the winner's schedule identical and reports 'unchanged').
 */
export async function upsertSchedule(client: Client, spec: ScheduleSpecInput): Promise<UpsertResult> {
  return (await upsertScheduleDetailed(client, spec)).result;
}

export async function upsertScheduleDetailed(client: Client, spec: ScheduleSpecInput): Promise<UpsertDetail> {
  checkSpec(spec);
  const fingerprint = scheduleFingerprint(spec);
  try {
    await client.schedule.create({
      scheduleId: spec.scheduleId,
      spec: temporalSpec(spec),
      action: temporalAction(spec, fingerprint),
      policies: temporalPolicies(spec),
      memo: { [MANAGED_BY_MEMO_KEY]: spec.managedBy ?? 'api' },
      state: { paused: spec.paused ?? false, ...(spec.note ? { note: spec.note } : {}) },
    });
    return { result: 'created', ...(spec.paused ? { pausedChanged: 'paused' as const } : {}) };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw friendly(err, spec.scheduleId);
  }

  const handle = client.schedule.getHandle(spec.scheduleId);
  const live = await handle.describe();
  const definitionCurrent = isCurrent(live, spec, fingerprint);
  const pauseCurrent = spec.paused === undefined || spec.paused === live.state.paused;
  if (definitionCurrent && pauseCurrent) return { result: 'unchanged' };

  const paused = spec.paused ?? live.state.paused;
  // A pause made by a person keeps its note (the reason) unless the spec decides the paused state itself.
  const note = spec.paused === undefined && live.state.paused ? live.state.note : (spec.note ?? live.state.note);
  try {
    await handle.update((previous) => ({
      spec: temporalSpec(spec),
      action: temporalAction(spec, fingerprint),
      policies: { ...previous.policies, ...temporalPolicies(spec) },
      state: { paused, ...(note ? { note } : {}), ...(previous.state.remainingActions !== undefined ? { remainingActions: previous.state.remainingActions } : {}) },
    }));
  } catch (err) {
    throw friendly(err, spec.scheduleId);
  }
  const pausedChanged = paused === live.state.paused ? undefined : paused ? ('paused' as const) : ('unpaused' as const);
  return { result: 'updated', ...(pausedChanged ? { pausedChanged } : {}) };
}

/** Deletes the schedule (not the workflows it started). Returns false when there was none. */
export async function deleteSchedule(client: Client, scheduleId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Stops new ticks; running workflows continue. The note says why, in the UI. */
export async function pauseSchedule(client: Client, scheduleId: string, note: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseSchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

/**
 * Takes the actions the schedule would have taken between from and to, now.
 * Default overlap BUFFER_ALL: a backfill is a deliberate "run each missed
 * period", so the runs go one after another instead of being skipped (SKIP)
 * or racing each other (ALLOW_ALL).
 */
export async function backfillSchedule(
  client: Client,
  scheduleId: string,
  from: Date,
  to: Date,
  overlap: OverlapPolicy = 'BUFFER_ALL',
): Promise<void> {
  if (!(from instanceof Date) || !(to instanceof Date) || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    throw new ScheduleSpecError(scheduleId, 'backfill needs two valid dates');
  }
  if (from.getTime() >= to.getTime()) throw new ScheduleSpecError(scheduleId, `backfill: "from" (${from.toISOString()}) must be before "to" (${to.toISOString()})`);
  await client.schedule.getHandle(scheduleId).backfill({ start: from, end: to, overlap });
}

export interface ScheduleListing {
  readonly scheduleId: string;
  readonly workflowType?: string;
  readonly paused: boolean;
  readonly note?: string;
  readonly managedBy?: string;
  readonly nextActionTimes: Date[];
  readonly recentActions: ScheduleSummary['info']['recentActions'];
}

/**
 * aimo's schedules (by id prefix), sorted by id. Listing is eventually
 * consistent on the server: a schedule created a moment ago may be missing.
 */
export async function listSchedules(client: Client, prefix = SCHEDULE_PREFIX): Promise<ScheduleListing[]> {
  const out: ScheduleListing[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(prefix)) continue;
    const managedBy = s.memo?.[MANAGED_BY_MEMO_KEY];
    out.push({
      scheduleId: s.scheduleId,
      ...(s.action?.workflowType ? { workflowType: s.action.workflowType } : {}),
      paused: s.state.paused,
      ...(s.state.note ? { note: s.state.note } : {}),
      ...(typeof managedBy === 'string' ? { managedBy } : {}),
      nextActionTimes: s.info.nextActionTimes,
      recentActions: s.info.recentActions,
    });
  }
  return out.sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : a.scheduleId > b.scheduleId ? 1 : 0));
}

/** Who created the schedule (from its memo), read directly rather than from the eventually consistent list. */
export async function scheduleOwner(client: Client, scheduleId: string): Promise<string | undefined> {
  try {
    const d = await client.schedule.getHandle(scheduleId).describe();
    const owner = d.memo?.[MANAGED_BY_MEMO_KEY];
    return typeof owner === 'string' ? owner : undefined;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}
