import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { deleteSchedule } from '../platform/schedules';
import { createLogger } from '../platform/logger';
import { openWorkflowIds } from '../platform/open-workflows';
import { postSigned, startWebhookServer } from '../webhooks';
import { STATUS, USE_CASE } from '../domain/rollout/definitions';
import { connectToTestServer, uniqueTaskQueue } from './support/temporal';
import { createSimulatedMarket } from '../simulator/market';

const BIN = join(__dirname, '..', 'cli', 'bin.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npx aimo …` as a child process, in an empty directory (no .env), against the given Temporal. */
function aimo(args: string[], env: Record<string, string>): Promise<Run> {
  const cwd = mkdtempSync(join(tmpdir(), 'aimo-cli-'));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { PATH: process.env['PATH'] ?? '', HOME: cwd, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('aimo CLI', () => {
  let env: TestWorkflowEnvironment;
  let temporal: Record<string, string>;
  const taskQueue = uniqueTaskQueue('cli');
  const uc = `cli-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'aimo-cli-files-'));

  beforeAll(async () => {
    env = await connectToTestServer();
    temporal = { TEMPORAL_ADDRESS: process.env['AIMO_TEST_TEMPORAL_ADDRESS']!, AIMO_TASK_QUEUE: taskQueue, AIMO_TEMPORAL_UI_URL: 'http://ui.example' };
  });

  afterAll(async () => {
    await env.client.workflow.getHandle(`rollout-${uc}-cli-1`).terminate('test cleanup').catch(() => undefined);
    await deleteSchedule(env.client, `aimo-${uc}-retrain`);
    await deleteSchedule(env.client, `aimo-${uc}-drift`);
    await env?.teardown();
  });

  it('validates a plan file locally and names every bad field, without touching Temporal', async () => {
    const file = join(dir, 'bad-plan.json');
    writeFileSync(
      file,
      JSON.stringify({ useCase: 'Bad Name', kpi: { metric: 'cpa', channel: 'paid_search', market: 'de', targetChange: 0, deadline: '2026-06-30' }, windows: { asOf: 'yesterday' } }),
    );
    // An address where nothing listens: validation must fail before any connection is tried.
    const res = await aimo(['rollout', 'start', file], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('is not a valid rollout plan; fix these fields (nothing was started)');
    for (const field of ['useCase:', 'kpi.metric:', 'kpi.market:', 'kpi.targetChange:', 'windows.asOf:']) {
      expect(res.stderr).toMatch(new RegExp(`^  - ${field.replace('.', '\\.')}`, 'm'));
    }

    writeFileSync(join(dir, 'not-json.json'), '{ "useCase": ');
    const notJson = await aimo(['rollout', 'start', join(dir, 'not-json.json')], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/not-json\.json is not valid JSON/);

    const missing = await aimo(['rollout', 'start', join(dir, 'nope.json')], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.json: ENOENT/);
  });

  it('starts a rollout, then shows its status; a second start joins it', async () => {
    const file = join(dir, 'plan.json');
    writeFileSync(
      file,
      JSON.stringify({ useCase: uc, kpi: { metric: 'cac', channel: 'paid_search', market: 'DE', targetChange: -0.15, deadline: '2026-06-30' }, windows: { asOf: '2026-03-04' } }),
    );
    const workflowId = `rollout-${uc}-cli-1`;
    const start = await aimo(['rollout', 'start', file, '--id', 'cli-1'], temporal);
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(`Started: ${workflowId}`);
    expect(start.stdout).toContain(`Temporal UI: http://ui.example/namespaces/default/workflows/${workflowId}`);
    const desc = await env.client.workflow.getHandle(workflowId).describe();
    expect(desc.type).toBe('rollout');
    expect(desc.taskQueue).toBe(taskQueue);
    expect(desc.typedSearchAttributes.get(USE_CASE)).toBe(uc);
    expect(desc.typedSearchAttributes.get(STATUS)).toBe('running');

    const again = await aimo(['rollout', 'start', file, '--id', 'cli-1', '--json'], temporal);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(expect.objectContaining({ workflowId, runId: desc.runId, joined: true }));

    // Nobody runs this task queue: status still answers from Temporal and says why the live view is missing.
    const status = await aimo(['status', workflowId], temporal);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${workflowId}  (rollout)`);
    expect(status.stdout).toMatch(/status:\s+RUNNING/);
    expect(status.stdout).toMatch(/summary:\s+Rollout of cli-/);
    expect(status.stdout).toMatch(/live status: no worker answered the status query within 5 s \(is a worker running on task queue cli-/);

    await env.client.workflow.getHandle(workflowId).terminate('done with it');
    const json = await aimo(['status', workflowId, '--json'], temporal);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(expect.objectContaining({ workflowId, type: 'rollout', status: 'TERMINATED', runId: desc.runId }));

    const rerun = await aimo(['rollout', 'start', file, '--id', 'cli-1'], temporal);
    expect(rerun.code).toBe(1);
    expect(rerun.stderr).toMatch(/already ran \(terminated\)/);
  });

  it('exits 3 for an unknown workflow and 4 when Temporal cannot be reached', async () => {
    const unknown = await aimo(['status', `rollout-${uc}-nope`], temporal);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no workflow rollout-cli-.*-nope in namespace default/);

    const down = await aimo(['status', 'x'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1/);
  });

  it('refuses incomplete decisions and bad usage with exit 2', async () => {
    const noReason = await aimo(['approve', 'rollout-x', '--by', 'ana'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason: give a reason of at least 3 characters/);
    const unknownFlag = await aimo(['status', 'x', '--colour'], temporal);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/Unknown option '--colour'/);
    const unknownCommand = await aimo(['deploy'], temporal);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toMatch(/unknown command "deploy"/);
    const rollbackNoReason = await aimo(['rollback', uc], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(rollbackNoReason.code).toBe(2);
    expect(rollbackNoReason.stderr).toMatch(/reason: give a reason/);
  });

  it('applies a schedules file and lists the schedules', async () => {
    const file = join(dir, 'schedules.yaml');
    writeFileSync(file, `schedules:\n  - useCase: ${uc}\n    loop: retrain\n    cron: "0 3 * * 1"\n  - useCase: ${uc}\n    loop: drift\n    every: 12h\n    paused: true\n    note: not yet\n`);
    const apply = await aimo(['schedules', 'apply', file], temporal);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(new RegExp(`created\\s+aimo-${uc}-retrain`));
    expect(apply.stdout).toMatch(new RegExp(`paused\\s+aimo-${uc}-drift`));
    const again = await aimo(['schedules', 'apply', file, '--json'], temporal);
    expect(JSON.parse(again.stdout)).toEqual(expect.objectContaining({ unchanged: [`aimo-${uc}-retrain`, `aimo-${uc}-drift`] }));

    let listed: Array<{ scheduleId: string; paused: boolean }> = [];
    const until = Date.now() + 15_000;
    while (listed.length < 2 && Date.now() < until) {
      const list = await aimo(['schedules', 'list', '--prefix', `aimo-${uc}-`, '--json'], temporal);
      expect(list.code).toBe(0);
      listed = JSON.parse(list.stdout) as typeof listed;
    }
    expect(listed.map((s) => [s.scheduleId, s.paused])).toEqual([
      [`aimo-${uc}-drift`, true],
      [`aimo-${uc}-retrain`, false],
    ]);
    const table = await aimo(['schedules', 'list', '--prefix', `aimo-${uc}-`], temporal);
    expect(table.stdout).toMatch(new RegExp(`aimo-${uc}-drift\\s+driftCheck\\s+paused`));

    // --json on every command: pause, unpause and delete answer in JSON, and so does a failure.
    const paused = await aimo(['schedules', 'pause', `aimo-${uc}-retrain`, '--note', 'holiday freeze', '--json'], temporal);
    expect(paused.code).toBe(0);
    expect(JSON.parse(paused.stdout)).toEqual({ scheduleId: `aimo-${uc}-retrain`, paused: true, note: 'holiday freeze' });
    const described = await env.client.schedule.getHandle(`aimo-${uc}-retrain`).describe();
    expect(described.state.paused).toBe(true);
    const resumed = await aimo(['schedules', 'unpause', `aimo-${uc}-retrain`, '--json'], temporal);
    expect(JSON.parse(resumed.stdout)).toEqual({ scheduleId: `aimo-${uc}-retrain`, paused: false });
    const missing = await aimo(['schedules', 'delete', `aimo-${uc}-nope`, '--json'], temporal);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toEqual({ error: `no schedule aimo-${uc}-nope`, exitCode: 3, problems: [] });
    expect(missing.stderr).toContain(`aimo: no schedule aimo-${uc}-nope`);
    const usage = await aimo(['schedules', 'pause', '--json'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: 'missing <scheduleId>', exitCode: 2, problems: [] });

    writeFileSync(join(dir, 'bad.yaml'), 'schedules:\n  - useCase: x\n    loop: sometimes\n');
    const bad = await aimo(['schedules', 'apply', join(dir, 'bad.yaml')], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/schedules\.0\.loop: expected one of "retrain", "drift", "retention"/);
  });
});

/**
 * `rollout start --wait` following a real rollout run by the product's worker
 * in this test process, and `approve` from a second CLI process letting it go
 * on past its approval gate.
 */
describe('aimo CLI with a running rollout', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse | undefined;
  const taskQueue = uniqueTaskQueue('cli-wait');
  // Fixed: the model's holdout split is keyed by the use case, so a fixed name gives the same numbers every run.
  const uc = 'cli-wait';

  let childEnv: Record<string, string> = {};

  beforeAll(async () => {
    env = await connectToTestServer();
  });

  afterAll(async () => {
    for (const loop of ['retrain', 'drift', 'retention']) await deleteSchedule(env.client, `aimo-${uc}-${loop}`);
    // A drift the checks below may find starts an incident retrain that waits days for its labels.
    for (const id of await openWorkflowIds(env.client, 'retrain')) if (id.startsWith(`retrain-${uc}-incident-`)) await env.client.workflow.getHandle(id).terminate('test cleanup');
    await warehouse?.close();
    await env?.teardown();
  });

  async function newWorker() {
    const { createActivities } = await import('../activities');
    const fixtures = await import('./support/rollout-fixtures');
    const { createTestWorker } = await import('./support/temporal');
    warehouse ??= await fixtures.seededWarehouse(20_000);
    return createTestWorker(env, createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: fixtures.TEST_SALT, dataDir: fixtures.tempDataDir(), temporalClient: env.client }), taskQueue);
  }

  it('follows the rollout step by step, stops at the gate, and finishes after `aimo approve`', async () => {
    const fixtures = await import('./support/rollout-fixtures');
    const worker = await newWorker();
    const dir = mkdtempSync(join(tmpdir(), 'aimo-cli-wait-'));
    const file = join(dir, 'plan.json');
    writeFileSync(
      file,
      JSON.stringify(
        fixtures.testPlan({
          useCase: uc,
          approval: { beforeExperiment: true, timeout: '1 hour', onTimeout: 'reject' },
          // Shipped on the point estimate, so the loops below have a champion to work against.
          experiment: { duration: '2 seconds', checkEvery: '1 second', startDate: '2026-04-01', outcomeSource: 'simulator', shipRule: 'point_estimate_positive' },
          // A canary of seconds, so the loops below finish while the test waits.
          automation: { ...fixtures.testPlan().automation, retrain: { canary: { watch: '2 seconds', checkEvery: '1 second' } } },
        }),
      ),
    );
    childEnv = { PATH: process.env['PATH'] ?? '', HOME: dir, TEMPORAL_ADDRESS: process.env['AIMO_TEST_TEMPORAL_ADDRESS']!, AIMO_TASK_QUEUE: taskQueue };
    const workflowId = `rollout-${uc}-wait-1`;

    const outcome = await worker.runUntil(async () => {
      const child = spawn(process.execPath, [BIN, 'rollout', 'start', file, '--id', 'wait-1', '--wait'], { cwd: dir, env: childEnv });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
      try {
        const until = Date.now() + 120_000;
        while (!stdout.includes('waiting for approval') && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
        expect(stdout).toContain(`npx aimo approve ${workflowId} --by <you>`);
        const approve = await aimo(['approve', workflowId, '--by', 'ana@growth', '--reason', 'looks right'], childEnv);
        expect(approve.stderr).toBe('');
        expect(approve.stdout).toBe(`Approved the experiment gate of ${workflowId} as ana@growth.\n`);
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([exited, new Promise<number>((r) => (timer = setTimeout(() => r(-2), 120_000)))]);
        clearTimeout(timer);
        return { code, stdout, stderr };
      } finally {
        child.kill();
      }
    });
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    const lines = outcome.stdout.split('\n');
    expect(lines[0]).toBe(`Started: ${workflowId} (run ${(await env.client.workflow.getHandle(workflowId).describe()).runId})`);
    for (const step of ['kpi', 'inventory', 'data-path', 'baseline-model', 'guardrails', 'experiment']) {
      expect(lines.some((l) => new RegExp(`^  \\[(ok  |FAIL|skip)\\] ${step} `).test(l))).toBe(true);
    }
    expect(outcome.stdout).toMatch(/^Rollout completed$/m);
  }, 300_000);

  it('says a rollback only started unless it waits, and with --wait exits 1 when the rollback then fails', async () => {
    const worker = await newWorker();
    await worker.runUntil(async () => {
      const env2 = { TEMPORAL_ADDRESS: process.env['AIMO_TEST_TEMPORAL_ADDRESS']!, AIMO_TASK_QUEUE: taskQueue, AIMO_TEMPORAL_UI_URL: 'http://ui.example' };
      // A use case that never served a model has nothing to roll back to: the workflow fails.
      const started = await aimo(['rollback', 'cli-never-served', '--reason', 'test the exit code', '--id', `nowait-${taskQueue}`], env2);
      expect(started.code).toBe(0);
      expect(started.stdout).toContain(`Started (not yet done): rollback-cli-never-served-nowait-${taskQueue}`);
      expect(started.stdout).toContain('--wait');
      const waited = await aimo(['rollback', 'cli-never-served', '--reason', 'test the exit code', '--id', `wait-${taskQueue}`, '--wait'], env2);
      expect(waited.code).toBe(1);
      expect(waited.stderr).toContain(`Rollback failed: rollback-cli-never-served-wait-${taskQueue}: `);
      await env.client.workflow.getHandle(`rollback-cli-never-served-nowait-${taskQueue}`).result().catch(() => undefined);
    });
  });

  it('runs its retrain and drift loops on the data as it is, started from the CLI, a webhook and their schedules, without a date', async () => {
    const worker = await newWorker();
    const secret = randomBytes(16).toString('hex');
    const server = await startWebhookServer({ client: env.client, logger: createLogger({ level: 'silent' }), taskQueue, port: 0, secrets: { monitor: secret }, uiBaseUrl: 'http://ui', namespace: env.namespace ?? 'default' });
    const results: Array<{ via: string; workflowId: string; result: { outcome?: string; window?: { lastDay: string } } }> = [];
    const settle = async (via: string, workflowId: string) => results.push({ via, workflowId, result: await env.client.workflow.getHandle(workflowId).result() });
    const post = (path: string, body: unknown, deliveryId: string) => postSigned(server.url, path, body, { source: 'monitor', secret, deliveryId });
    try {
      await worker.runUntil(async () => {
        for (const loop of ['drift', 'retrain'] as const) {
          const run = await aimo([loop, uc, '--wait', '--id', `${loop}-1`], childEnv);
          expect({ loop, code: run.code, stderr: run.stderr }).toEqual({ loop, code: 0, stderr: '' });
          expect(run.stdout).toMatch(loop === 'drift' ? new RegExp(`^Drift check of ${uc} over \\d{4}-\\d\\d-\\d\\d – \\d{4}-\\d\\d-\\d\\d: `, 'm') : new RegExp(`^Retrain of ${uc}: [a-z-]+`, 'm'));
          await settle('cli', `${loop}-${uc}-cli-${loop}-1`);
        }
        const alert = await post('/v1/events/alert', { useCase: uc, kind: 'drift', severity: 'warning', message: 'feature shift' }, 'alert-1');
        expect(alert.status).toBe(202);
        await settle('webhook', (alert.body as { workflowId: string }).workflowId);
        const landed = await post('/v1/events/data-landed', { useCase: uc, table: 'raw.orders', landedAt: new Date().toISOString() }, 'landed-1');
        expect(landed.status).toBe(202);
        await settle('webhook', (landed.body as { workflowId: string }).workflowId);
        for (const loop of ['drift', 'retrain', 'retention']) {
          const handle = env.client.schedule.getHandle(`aimo-${uc}-${loop}`);
          await handle.trigger();
          let started: string | undefined;
          for (const until = Date.now() + 30_000; !started && Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
            started = (await handle.describe()).info.recentActions.at(-1)?.action.workflow.workflowId;
          }
          await settle('schedule', started!);
        }
      });
    } finally {
      await server.close();
    }
    // Every window ends in the data: the seeded market's newest complete day, not today.
    const [newest] = await warehouse!.query<{ day: string }>(`SELECT strftime(MAX(order_ts)::DATE - 1, '%Y-%m-%d') AS day FROM raw.orders`);
    expect(results.map((r) => r.via)).toEqual(['cli', 'cli', 'webhook', 'webhook', 'schedule', 'schedule', 'schedule']);
    for (const { workflowId, result } of results) {
      if (workflowId.startsWith('retention-')) continue;
      // A retrain defers (and reads no window) only to the retrain of a drift incident one of the checks opened.
      if (!result.window) expect({ workflowId, outcome: result.outcome }).toEqual({ workflowId, outcome: 'deferred' });
      else expect({ workflowId, lastDay: result.window.lastDay }).toEqual({ workflowId, lastDay: newest!.day });
    }
  }, 300_000);
});
