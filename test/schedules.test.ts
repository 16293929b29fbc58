import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { TypedSearchAttributes } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { applySchedulesFromConfig, formatApplyReport, parseSchedulesFile, ScheduleConfigError, specsFromFile } from '../config/schedules';
import {
  backfillSchedule,
  deleteSchedule,
  listSchedules,
  pauseSchedule,
  ScheduleSpecError,
  unpauseSchedule,
  upsertSchedule,
  useCaseScheduleSpec,
  type ScheduleSpecInput,
} from '../platform/schedules';
import { USE_CASE } from '../domain/rollout/definitions';
import { connectToTestServer, uniqueTaskQueue } from './support/temporal';

/** Schedules on the shared dev server; every id carries this run's prefix, and everything is deleted afterwards. */
describe('schedules', () => {
  let env: TestWorkflowEnvironment;
  const run = randomBytes(3).toString('hex');
  const taskQueue = uniqueTaskQueue('schedules');
  const uc = (name: string) => `sch-${run}-${name}`;

  beforeAll(async () => {
    env = await connectToTestServer();
  });

  afterAll(async () => {
    for (const s of await listSchedules(env.client, `aimo-sch-${run}-`)) {
      for (const a of s.recentActions) {
        await env.client.workflow.getHandle(a.action.workflow.workflowId).terminate('test cleanup').catch(() => undefined);
      }
      await deleteSchedule(env.client, s.scheduleId);
    }
    await env?.teardown();
  });

  const describeSchedule = (id: string) => env.client.schedule.getHandle(id).describe();

  async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (ok(value) || Date.now() > until) return value;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('upserts idempotently: created, unchanged, updated on change, unchanged again', async () => {
    const spec = useCaseScheduleSpec({ useCase: uc('idem'), kind: 'retrain', taskQueue, cron: '0 3 * * 1' });
    expect(spec.scheduleId).toBe(`aimo-${uc('idem')}-retrain`);
    expect(await upsertSchedule(env.client, spec)).toBe('created');
    expect(await upsertSchedule(env.client, spec)).toBe('unchanged');

    const first = await describeSchedule(spec.scheduleId);
    expect(first.policies.overlap).toBe('SKIP');
    expect(first.action.workflowType).toBe('retrain');
    expect(first.action.workflowId).toBe(`retrain-${uc('idem')}`);
    expect(first.action.args).toEqual([{ useCase: uc('idem'), trigger: { kind: 'schedule', scheduleId: spec.scheduleId } }]);
    expect((first.action.typedSearchAttributes as TypedSearchAttributes | undefined)?.get(USE_CASE)).toBe(uc('idem'));
    expect(first.spec.calendars?.[0]?.hour).toEqual([{ start: 3, end: 3, step: 1 }]);

    const changed: ScheduleSpecInput = { ...spec, cron: '30 4 * * 1' };
    expect(await upsertSchedule(env.client, changed)).toBe('updated');
    expect(await upsertSchedule(env.client, changed)).toBe('unchanged');
    const second = await describeSchedule(spec.scheduleId);
    expect(second.spec.calendars?.[0]?.hour).toEqual([{ start: 4, end: 4, step: 1 }]);
    expect(second.spec.calendars?.[0]?.minute).toEqual([{ start: 30, end: 30, step: 1 }]);

    expect(await upsertSchedule(env.client, { ...changed, overlap: 'BUFFER_ONE' })).toBe('updated');
    expect((await describeSchedule(spec.scheduleId)).policies.overlap).toBe('BUFFER_ONE');
    expect(await upsertSchedule(env.client, { ...changed, args: [{ useCase: uc('idem'), window: 28 }] })).toBe('updated');
  });

  it('creates once when many upsert the same schedule at the same time', async () => {
    const spec = useCaseScheduleSpec({ useCase: uc('race'), kind: 'drift', taskQueue, intervals: [{ every: '6h' }] });
    const results = await Promise.all(Array.from({ length: 8 }, () => upsertSchedule(env.client, spec)));
    expect(results.filter((r) => r === 'created')).toHaveLength(1);
    expect(results.filter((r) => r === 'unchanged')).toHaveLength(7);
    expect((await describeSchedule(spec.scheduleId)).spec.intervals).toEqual([expect.objectContaining({ every: 6 * 3600 * 1000 })]);
  });

  it('pauses with a note, keeps a pause made by a person across upserts, and resumes', async () => {
    const spec = useCaseScheduleSpec({ useCase: uc('pause'), kind: 'drift', taskQueue, cron: '0 2 * * *' });
    await upsertSchedule(env.client, spec);
    await pauseSchedule(env.client, spec.scheduleId, 'incident 42: tracking broken');
    expect((await describeSchedule(spec.scheduleId)).state).toEqual(expect.objectContaining({ paused: true, note: 'incident 42: tracking broken' }));

    // The same definition again (paused not set) leaves the person's pause and note alone.
    expect(await upsertSchedule(env.client, spec)).toBe('unchanged');
    expect(await upsertSchedule(env.client, { ...spec, cron: '0 1 * * *' })).toBe('updated');
    expect((await describeSchedule(spec.scheduleId)).state).toEqual(expect.objectContaining({ paused: true, note: 'incident 42: tracking broken' }));

    await unpauseSchedule(env.client, spec.scheduleId, 'tracking fixed');
    expect((await describeSchedule(spec.scheduleId)).state.paused).toBe(false);

    // A spec that says paused: true decides the state itself.
    expect(await upsertSchedule(env.client, { ...spec, cron: '0 1 * * *', paused: true, note: 'on hold' })).toBe('updated');
    expect((await describeSchedule(spec.scheduleId)).state).toEqual(expect.objectContaining({ paused: true, note: 'on hold' }));
  });

  it('accepts a backfill and takes the missed actions', async () => {
    const spec = useCaseScheduleSpec({ useCase: uc('backfill'), kind: 'retrain', taskQueue, cron: '0 3 * * *', paused: true });
    await upsertSchedule(env.client, spec);
    await backfillSchedule(env.client, spec.scheduleId, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-03T12:00:00Z'));
    const described = await eventually(
      () => describeSchedule(spec.scheduleId),
      (d) => d.info.numActionsTaken >= 1,
    );
    expect(described.info.numActionsTaken).toBeGreaterThanOrEqual(1);
    const firstRun = described.info.recentActions[0]!.action.workflow.workflowId;
    expect(firstRun).toMatch(new RegExp(`^retrain-${uc('backfill')}-2026-01-01T03:00:00Z$`));
    await expect(backfillSchedule(env.client, spec.scheduleId, new Date('2026-02-01'), new Date('2026-01-01'))).rejects.toThrow(ScheduleSpecError);
  });

  it('deletes idempotently', async () => {
    const spec = useCaseScheduleSpec({ useCase: uc('delete'), kind: 'retrain', taskQueue, cron: '@weekly' });
    await upsertSchedule(env.client, spec);
    expect(await deleteSchedule(env.client, spec.scheduleId)).toBe(true);
    expect(await deleteSchedule(env.client, spec.scheduleId)).toBe(false);
    await expect(describeSchedule(spec.scheduleId)).rejects.toThrow(ScheduleNotFoundError);
  });

  it('refuses an unusable spec with the schedule id and the reason', async () => {
    const base = useCaseScheduleSpec({ useCase: uc('bad'), kind: 'retrain', taskQueue, cron: '0 3 * * 1' });
    await expect(upsertSchedule(env.client, { ...base, cron: undefined })).rejects.toThrow(/give a cron expression or intervals/);
    await expect(upsertSchedule(env.client, { ...base, cron: 'every monday' })).rejects.toThrow(/expected 5 to 7 fields/);
    await expect(upsertSchedule(env.client, { ...base, timezone: 'Mars/Olympus_Mons' })).rejects.toThrow(
      new RegExp(`schedule aimo-${uc('bad')}-retrain: .*time zone`),
    );
  });

  describe('from a config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aimo-schedules-'));
    const file = join(dir, 'schedules.yaml');

    it('applies, re-applies as unchanged, pauses, and prunes only what the file created', async () => {
      writeFileSync(
        file,
        `version: 1
defaults:
  timezone: Europe/Berlin
schedules:
  - useCase: ${uc('cfg-a')}
    loop: retrain
    cron: "0 3 * * 1"
  - useCase: ${uc('cfg-a')}
    loop: drift
    cron: "0 2 * * *"
  - useCase: ${uc('cfg-b')}
    loop: drift
    every: 6h
`,
      );
      const ids = [`aimo-${uc('cfg-a')}-retrain`, `aimo-${uc('cfg-a')}-drift`, `aimo-${uc('cfg-b')}-drift`];
      const prunePrefix = `aimo-sch-${run}-cfg-`;
      const first = await applySchedulesFromConfig(env.client, file, { prune: true, taskQueue, prunePrefix });
      expect(first.created).toEqual(ids);
      expect((await describeSchedule(ids[0]!)).spec.timezone).toBe('Europe/Berlin');
      expect((await describeSchedule(ids[0]!)).action.taskQueue).toBe(taskQueue);

      const again = await applySchedulesFromConfig(env.client, file, { prune: true, taskQueue, prunePrefix });
      expect(again).toEqual(expect.objectContaining({ created: [], updated: [], unchanged: ids, deleted: [] }));

      // A schedule made by a rollout's automation step under the same prefix must survive a prune.
      const fromRollout = { ...useCaseScheduleSpec({ useCase: uc('cfg-c'), kind: 'retrain', taskQueue, cron: '0 5 * * 1' }), managedBy: 'rollout' };
      await upsertSchedule(env.client, fromRollout);

      writeFileSync(
        file,
        `schedules:
  - useCase: ${uc('cfg-a')}
    loop: retrain
    cron: "0 3 * * 1"
    timezone: Europe/Berlin
  - useCase: ${uc('cfg-b')}
    loop: drift
    every: 6h
    timezone: Europe/Berlin
    paused: true
    note: waiting for the consent feed
`,
      );
      // Listing is eventually consistent: make sure the schedules to prune are listed before applying.
      await eventually(
        () => listSchedules(env.client, prunePrefix),
        (l) => [ids[1]!, fromRollout.scheduleId].every((id) => l.some((s) => s.scheduleId === id)),
      );
      const pruned = await applySchedulesFromConfig(env.client, file, { prune: true, taskQueue, prunePrefix });
      expect(pruned.unchanged).toEqual([ids[0]]);
      expect(pruned.updated).toEqual([ids[2]]);
      expect(pruned.paused).toEqual([ids[2]]);
      expect(pruned.deleted).toEqual([ids[1]]);
      expect(pruned.kept).toEqual([{ scheduleId: fromRollout.scheduleId, managedBy: 'rollout' }]);
      expect((await describeSchedule(ids[2]!)).state).toEqual(expect.objectContaining({ paused: true, note: 'waiting for the consent feed' }));
      await expect(describeSchedule(ids[1]!)).rejects.toThrow(ScheduleNotFoundError);
      expect(formatApplyReport(pruned)).toMatch(/deleted\s+aimo-.*-cfg-a-drift/);
      expect(formatApplyReport(pruned)).toMatch(/kept\s+aimo-.*-cfg-c-retrain \(not declared; created by rollout/);
    });

    it('names every problem of a bad file by field path, and applies nothing', async () => {
      writeFileSync(
        file,
        `schedules:
  - useCase: ${uc('cfg-x')}
    loop: retrain
  - useCase: Not A Slug
    loop: weekly
    cron: "every day"
    overlap: SOMETIMES
  - useCase: ${uc('cfg-x')}
    loop: retrain
    crn: "0 3 * * 1"
    cron: "0 3 * * 1"
`,
      );
      let error: unknown;
      try {
        await applySchedulesFromConfig(env.client, file, { taskQueue });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ScheduleConfigError);
      const problems = (error as ScheduleConfigError).problems;
      expect(problems).toEqual(
        expect.arrayContaining([
          'schedules.0.cron: give cron or every',
          expect.stringMatching(/^schedules\.1\.useCase: use lower-case letters/),
          'schedules.1.loop: expected one of "retrain", "drift", "retention", "jumps"',
          expect.stringMatching(/^schedules\.1\.cron: use a cron expression with 5 fields/),
          expect.stringMatching(/^schedules\.1\.overlap: expected one of SKIP/),
          expect.stringMatching(/^schedules\.2: .*crn/),
        ]),
      );
      expect(await listSchedules(env.client, `aimo-${uc('cfg-x')}`)).toEqual([]);
      expect(() => parseSchedulesFile('schedules: [\n  - useCase: a\n', 'broken.yaml')).toThrow(/broken.yaml has \d problem.*\n.*\(syntax\): .* at line 2, column 3$/m);
    });

    it('ships an example that validates', () => {
      const example = parseSchedulesFile(readFileSync(join(__dirname, '..', 'config', 'schedules.example.yaml'), 'utf8'));
      const specs = specsFromFile(example, 'aimo');
      expect(specs.map((s) => s.scheduleId)).toEqual([
        'aimo-paid-search-cac-retrain',
        'aimo-paid-search-cac-drift',
        'aimo-email-clv-drift',
        'aimo-email-clv-retrain',
        'aimo-email-clv-retention',
      ]);
      expect(specs[4]).toEqual(expect.objectContaining({ workflowType: 'retention', workflowId: 'retention-email-clv', args: [expect.objectContaining({ useCase: 'email-clv', maxAgeDays: 30 })] }));
      expect(specs[2]).toEqual(expect.objectContaining({ paused: true, intervals: [{ every: '6h' }] }));
    });
  });
});
