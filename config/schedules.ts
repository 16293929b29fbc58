import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import {
  OVERLAP_POLICIES,
  SCHEDULE_PREFIX,
  deleteSchedule,
  listSchedules,
  SCHEDULED_LOOPS,
  scheduleIdFor,
  scheduleOwner,
  upsertScheduleDetailed,
  useCaseScheduleSpec,
  type ScheduleSpecInput,
} from '../platform/schedules';

/**
 * Recurring loops declared in a file (YAML or JSON, see
 * config/schedules.example.yaml) and applied with `aimo schedules apply`.
 * The file is the source of truth for the schedules it created: applying it
 * twice changes nothing, and with --prune a schedule removed from the file is
 * deleted.
 */

const slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,48}[a-z0-9]$/, 'use lower-case letters, digits and hyphens, 3–50 characters, starting with a letter');
const duration = z
  .string()
  .regex(/^\d+\s*(s|m|h|d|seconds?|minutes?|hours?|days?)$/, 'use a duration such as "6h", "30m" or "1 day"');
const cron = z
  .string()
  .trim()
  .refine(
    (v) => /^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every\s+\S+)$/.test(v) || /^(?:(CRON_)?TZ=\S+\s+)?(\S+\s+){4,6}\S+(\s*#.*)?$/.test(v),
    'use a cron expression with 5 fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * 1", or @daily/@weekly',
  );
const overlap = z.enum(OVERLAP_POLICIES, { message: `expected one of ${OVERLAP_POLICIES.join(', ')}` });

const entrySchema = z
  .object({
    useCase: slug.describe('The use case the loop keeps alive'),
    loop: z.enum(SCHEDULED_LOOPS, { message: `expected one of ${SCHEDULED_LOOPS.map((l) => `"${l}"`).join(', ')}` }),
    id: z
      .string()
      .regex(new RegExp(`^${SCHEDULE_PREFIX}[a-z0-9][a-z0-9-]{0,150}$`), `an id must start with "${SCHEDULE_PREFIX}" and use lower-case letters, digits and hyphens`)
      .optional()
      .describe('Defaults to aimo-<useCase>-<loop>'),
    cron: z.union([cron, z.array(cron).min(1)]).optional(),
    every: duration.optional().describe('An interval instead of (or next to) cron'),
    timezone: z.string().min(1).optional(),
    overlap: overlap.optional(),
    paused: z.boolean().optional().describe('true pauses, false resumes; leave out to keep a pause made in the UI'),
    note: z.string().max(500).optional(),
    input: z.record(z.string(), z.unknown()).optional().describe('Extra workflow input next to useCase and trigger'),
  })
  .strict()
  .refine((e) => e.cron !== undefined || e.every !== undefined, { message: 'give cron or every', path: ['cron'] });

export const schedulesFileSchema = z
  .object({
    version: z.literal(1, { message: 'expected version: 1' }).default(1),
    defaults: z
      .object({
        taskQueue: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected a task queue name').optional(),
        timezone: z.string().min(1).optional(),
        overlap: overlap.optional(),
      })
      .strict()
      .default({}),
    schedules: z.array(entrySchema).default([]),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.schedules.forEach((entry, i) => {
      const id = entry.id ?? scheduleIdFor(entry.useCase, entry.loop);
      const first = seen.get(id);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['schedules', i, 'id'], message: `schedule id ${id} is already declared by schedules.${first}` });
      } else seen.set(id, i);
    });
  });

export type SchedulesFile = z.infer<typeof schedulesFileSchema>;

export class ScheduleConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ScheduleConfigError';
  }
}

/** Parses YAML or JSON text; every problem by field path, e.g. "schedules.1.cron: ...". */
export function parseSchedulesFile(text: string, file = 'schedules file'): SchedulesFile {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ScheduleConfigError(file, doc.errors.map((e) => `(syntax): ${e.message.split('\n')[0]!.replace(/:\s*$/, '')}`));
  }
  const result = schedulesFileSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    throw new ScheduleConfigError(
      file,
      result.error.issues.map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(file)'}: ${issue.message}`),
    );
  }
  return result.data;
}

export function loadSchedulesFile(file: string): SchedulesFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScheduleConfigError(file, [`(file): cannot read it: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseSchedulesFile(text, file);
}

/** The schedule specs a file declares, in file order. */
export function specsFromFile(file: SchedulesFile, taskQueue: string): ScheduleSpecInput[] {
  return file.schedules.map((entry) => {
    const base = useCaseScheduleSpec({
      useCase: entry.useCase,
      kind: entry.loop,
      taskQueue: file.defaults.taskQueue ?? taskQueue,
      ...(entry.cron !== undefined ? { cron: entry.cron } : {}),
      ...(entry.every !== undefined ? { intervals: [{ every: entry.every }] } : {}),
      ...((entry.timezone ?? file.defaults.timezone) ? { timezone: (entry.timezone ?? file.defaults.timezone)! } : {}),
      ...((entry.overlap ?? file.defaults.overlap) ? { overlap: (entry.overlap ?? file.defaults.overlap)! } : {}),
      ...(entry.paused !== undefined ? { paused: entry.paused } : {}),
      ...(entry.note !== undefined ? { note: entry.note } : {}),
      ...(entry.input !== undefined ? { input: entry.input } : {}),
      managedBy: 'config',
    });
    if (!entry.id) return base;
    const args = [{ ...(base.args[0] as Record<string, unknown>), trigger: { kind: 'schedule', scheduleId: entry.id } }];
    return { ...base, scheduleId: entry.id, args };
  });
}

export interface ApplyReport {
  readonly created: string[];
  readonly updated: string[];
  readonly unchanged: string[];
  readonly paused: string[];
  readonly unpaused: string[];
  readonly deleted: string[];
  /** Undeclared aimo- schedules kept because the file did not create them (e.g. a rollout's automation step did) */
  readonly kept: Array<{ scheduleId: string; managedBy: string }>;
}

export interface ApplyOptions {
  /** Delete aimo- schedules the file created earlier but no longer declares */
  readonly prune?: boolean;
  /** Task queue when the file has no defaults.taskQueue (the CLI passes AIMO_TASK_QUEUE) */
  readonly taskQueue?: string;
  /** Prune only below this id prefix (default aimo-), e.g. aimo-paid-search- when a team's file owns only its use cases */
  readonly prunePrefix?: string;
}

/**
 * Creates or updates every declared schedule, pauses/resumes those with
 * `paused`, and with prune deletes the config-created aimo- schedules no
 * longer declared. Schedules created by something else (a rollout's
 * automation step, the API) are never pruned, only reported as kept.
 * Idempotent: a second apply reports everything unchanged.
 */
export async function applySchedulesFromConfig(client: Client, file: string, options: ApplyOptions = {}): Promise<ApplyReport> {
  const parsed = loadSchedulesFile(file);
  const specs = specsFromFile(parsed, options.taskQueue ?? 'aimo');
  const report: ApplyReport = { created: [], updated: [], unchanged: [], paused: [], unpaused: [], deleted: [], kept: [] };
  for (const spec of specs) {
    const { result, pausedChanged } = await upsertScheduleDetailed(client, spec);
    report[result].push(spec.scheduleId);
    if (pausedChanged) report[pausedChanged].push(spec.scheduleId);
  }
  if (options.prune) {
    const declared = new Set(specs.map((s) => s.scheduleId));
    const prefix = options.prunePrefix ?? SCHEDULE_PREFIX;
    if (!prefix.startsWith(SCHEDULE_PREFIX)) throw new ScheduleConfigError(file, [`(prune): the prefix must start with ${SCHEDULE_PREFIX}`]);
    for (const live of await listSchedules(client, prefix)) {
      if (declared.has(live.scheduleId)) continue;
      const owner = live.managedBy ?? (await scheduleOwner(client, live.scheduleId)) ?? 'unknown';
      if (owner !== 'config') {
        report.kept.push({ scheduleId: live.scheduleId, managedBy: owner });
        continue;
      }
      if (await deleteSchedule(client, live.scheduleId)) report.deleted.push(live.scheduleId);
    }
  }
  return report;
}

/** The report as lines for people. */
export function formatApplyReport(report: ApplyReport): string {
  const lines: string[] = [];
  const add = (label: string, ids: string[]) => {
    for (const id of ids) lines.push(`${label.padEnd(9)} ${id}`);
  };
  add('created', report.created);
  add('updated', report.updated);
  add('unchanged', report.unchanged);
  add('paused', report.paused);
  add('resumed', report.unpaused);
  add('deleted', report.deleted);
  for (const k of report.kept) lines.push(`${'kept'.padEnd(9)} ${k.scheduleId} (not declared; created by ${k.managedBy}, so prune leaves it)`);
  return lines.length ? lines.join('\n') : 'no schedules declared';
}
