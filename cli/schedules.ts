import { ScheduleNotFoundError } from '@temporalio/client';
import { applySchedulesFromConfig, formatApplyReport, loadSchedulesFile, ScheduleConfigError } from '../config/schedules';
import { backfillSchedule, deleteSchedule, listSchedules, pauseSchedule, ScheduleSpecError, unpauseSchedule } from '../platform/schedules';
import { CliError, EXIT, type CliContext } from './context';

export async function schedulesList(ctx: CliContext, options: { json: boolean; prefix?: string }): Promise<number> {
  const client = await ctx.client();
  const schedules = await listSchedules(client, options.prefix);
  if (options.json) {
    ctx.io.out(JSON.stringify(schedules));
    return EXIT.ok;
  }
  if (schedules.length === 0) {
    ctx.io.out(`no schedules with the prefix ${options.prefix ?? 'aimo-'} (a new one can take a second to be listed)`);
    return EXIT.ok;
  }
  const rows = schedules.map((s) => [
    s.scheduleId,
    s.workflowType ?? '?',
    s.paused ? 'paused' : 'active',
    s.nextActionTimes[0]?.toISOString().replace(/:\d\d\.\d+Z$/, 'Z') ?? '-',
    s.managedBy ?? '-',
    s.note ?? '',
  ]);
  const header = ['SCHEDULE', 'WORKFLOW', 'STATE', 'NEXT RUN', 'OWNER', 'NOTE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) ctx.io.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  return EXIT.ok;
}

export async function schedulesApply(ctx: CliContext, file: string, options: { prune: boolean; json: boolean; prunePrefix?: string }): Promise<number> {
  try {
    // Validate the file before connecting: a typo is reported even when Temporal is down.
    loadSchedulesFile(file);
    const client = await ctx.client();
    const report = await applySchedulesFromConfig(client, file, {
      prune: options.prune,
      taskQueue: ctx.config.taskQueues.main,
      ...(options.prunePrefix ? { prunePrefix: options.prunePrefix } : {}),
    });
    ctx.io.out(options.json ? JSON.stringify(report) : formatApplyReport(report));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ScheduleConfigError) throw new CliError(`${err.file} is not a valid schedules file (nothing was applied):`, EXIT.usage, err.problems);
    if (err instanceof ScheduleSpecError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

async function onSchedule(ctx: CliContext, scheduleId: string, action: () => Promise<void>): Promise<number> {
  try {
    await action();
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new CliError(`no schedule ${scheduleId}`, EXIT.notFound);
    if (err instanceof ScheduleSpecError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

export async function schedulesPause(ctx: CliContext, scheduleId: string, note: string | undefined, pause: boolean, options: { json: boolean } = { json: false }): Promise<number> {
  if (pause && !note) throw new CliError('--note: say why it is paused (shown in the Temporal UI)', EXIT.usage);
  const client = await ctx.client();
  return onSchedule(ctx, scheduleId, async () => {
    if (pause) await pauseSchedule(client, scheduleId, note!);
    else await unpauseSchedule(client, scheduleId, note);
    ctx.io.out(options.json ? JSON.stringify({ scheduleId, paused: pause, ...(note ? { note } : {}) }) : `${pause ? 'paused' : 'resumed'} ${scheduleId}`);
  });
}

export async function schedulesDelete(ctx: CliContext, scheduleId: string, options: { json: boolean } = { json: false }): Promise<number> {
  const client = await ctx.client();
  if (!(await deleteSchedule(client, scheduleId))) throw new CliError(`no schedule ${scheduleId}`, EXIT.notFound);
  ctx.io.out(options.json ? JSON.stringify({ scheduleId, deleted: true }) : `deleted ${scheduleId} (the workflows it started are kept)`);
  return EXIT.ok;
}

export async function schedulesBackfill(
  ctx: CliContext,
  scheduleId: string,
  from: string | undefined,
  to: string | undefined,
  options: { json: boolean } = { json: false },
): Promise<number> {
  const parse = (name: string, value: string | undefined) => {
    const date = value ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw new CliError(`--${name}: give an ISO date or date-time, e.g. 2026-03-01`, EXIT.usage);
    return date;
  };
  const start = parse('from', from);
  const end = parse('to', to);
  const client = await ctx.client();
  return onSchedule(ctx, scheduleId, async () => {
    await backfillSchedule(client, scheduleId, start, end);
    ctx.io.out(
      options.json
        ? JSON.stringify({ scheduleId, backfill: { from: start.toISOString(), to: end.toISOString() }, accepted: true })
        : `backfill of ${scheduleId} from ${start.toISOString()} to ${end.toISOString()} accepted; runs go one after another`,
    );
  });
}
