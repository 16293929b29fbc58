import { readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { createActivities } from '../activities';
import { approvalUpdate } from '../domain/rollout/definitions';
import { gateInstructions, keyNumber, renderLoopDetails, renderRolloutDetails } from '../domain/rollout/details';
import { goalOutcome, rolloutReadout } from '../domain/rollout/readout';
import type { RolloutResult } from '../domain/rollout/result';
import { aimoStartOptions, startDetails } from '../platform/start-options';
import { renderRolloutMarkdown } from '../activities/rollout/report';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { createAimoWorker } from '../workers/create-worker';
import { createReachActivities } from './fixtures/reach-use-case/activities/reach';
import { seededWarehouse, TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { connectToTestServer, uniqueTaskQueue } from './support/temporal';

const basePlan = { useCase: 'paid-search-cac', kpi: { metric: 'cac', targetChange: -0.15, channel: 'paid_search', market: 'DE', deadline: '2027-01-01' } };

function result(over: Partial<RolloutResult>): RolloutResult {
  return { useCase: 'paid-search-cac', workflowId: 'rollout-x', plan: basePlan as unknown as RolloutResult['plan'], status: 'completed', steps: [], ...over };
}

function experiment(controlRate: number, absolute: number, ship: boolean): RolloutResult['experiment'] {
  return {
    ship,
    effect: { controlRate, treatmentRate: controlRate + absolute, absolute, ciLow: absolute - 0.008, ciHigh: absolute + 0.008 },
    srm: { flagged: false },
  } as unknown as RolloutResult['experiment'];
}

describe('what the Temporal UI shows of a rollout', () => {
  it('says whether a CAC goal was met: CAC at the same spend from the conversion lift, in the direction of the target', () => {
    // +25 % conversions at the same spend is CAC −20 %; +10 % is CAC −9.1 %, short of −15 %.
    const met = goalOutcome(result({ experiment: experiment(0.05, 0.0125, true) }));
    expect(met).toMatchObject({ verdict: 'met' });
    expect(met.observedChange).toBeCloseTo(-0.2, 10);
    const short = goalOutcome(result({ experiment: experiment(0.05, 0.005, true) }));
    expect(short).toMatchObject({ verdict: 'not met' });
    expect(short.observedChange).toBeCloseTo(1 / 1.1 - 1, 10);
    expect(goalOutcome(result({ status: 'failed' }))).toMatchObject({ verdict: 'not measured', observedChange: null });
    const roas = result({ experiment: experiment(0.05, 0.01, true) });
    expect(goalOutcome({ ...roas, plan: { ...roas.plan, kpi: { ...roas.plan.kpi, metric: 'roas' } } }).verdict).toBe('not measured');
  });

  it('opens the readout with the answer, the decision and the report', () => {
    const r = rolloutReadout(result({ experiment: experiment(0.05, 0.0125, true), reportPath: 'data/reports/rollout-x.md' }));
    expect(r.headline).toBe('Goal met: cac -15 % (observed -20 %); decision: ship; rollout completed');
    expect(r.report).toBe('data/reports/rollout-x.md');
    expect(r.numbers).toMatchObject({ effect: 0.0125, srmFlagged: false });
  });

  it('opens the report with whether the goal was met', () => {
    const md = renderRolloutMarkdown(result({ experiment: undefined, status: 'rejected', failure: 'Rejected before the experiment by ana: not yet' }));
    const [title, blank, headline, , goal] = md.split('\n');
    expect([title, blank]).toEqual(['# Rollout paid-search-cac', '']);
    expect(headline).toBe('**Goal not measured: cac -15 %; decision: rejected; rollout rejected**');
    expect(goal).toBe('- cac -15 %: not measured — no experiment ran (rollout rejected)');
  });

  it('lists all eight steps, the running one marked, with each finished step\'s key number', () => {
    const md = renderRolloutDetails({
      workflowId: 'rollout-x',
      namespace: 'default',
      useCase: 'paid-search-cac',
      goal: 'cac -15 % in paid_search/DE',
      state: 'running',
      currentStep: 'baseline-model',
      steps: [
        { step: 'kpi', status: 'passed', summary: 'baseline 41.2 | target 35', numbers: { baseline: 41.23456, target: 35 }, finishedAt: '' },
        { step: 'inventory', status: 'passed', summary: 'ok', numbers: { consentCoverage: 0.9 }, finishedAt: '' },
        { step: 'data-path', status: 'skipped', summary: 'n/a', numbers: {}, finishedAt: '' },
      ],
    });
    expect(md).toContain('running at step `baseline-model`');
    expect(md).toContain('| 1 | kpi | ✅ passed | baseline 41.23 | baseline 41.2 / target 35 |');
    expect(md).toContain('| 3 | data-path | ⏭️ skipped | — | n/a |');
    expect(md).toContain('| 4 | baseline-model | ⏳ running | | |');
    expect(md).toContain('| 8 | scale | · | | |');
    expect(md).toContain('Written when the rollout ends');
  });

  it('names the exact approve and reject commands and the Update JSON of the gate it waits at', () => {
    const lines = gateInstructions('rollout-x', 'experiment').join('\n');
    expect(lines).toContain('npx aimo approve rollout-x --gate experiment --by <you> --reason "<why>"');
    expect(lines).toContain('--reason "<why>" --reject');
    expect(lines).toContain('{"decision":"approve","by":"<you>","reason":"<why>","gate":"experiment"}');
  });

  it('shows child rollouts with their state and links, and the parent of a child', () => {
    const md = renderRolloutDetails({
      workflowId: 'rollout-x',
      namespace: 'default',
      useCase: 'x',
      goal: 'g',
      state: 'completed',
      currentStep: 'done',
      steps: [],
      parentId: 'rollout-parent',
      children: [{ channel: 'paid_search', market: 'FR', workflowId: 'rollout-x-scale-paid_search-fr', status: 'waiting-approval', summary: '' }],
    });
    expect(md).toContain('Scaled from [rollout-parent](/namespaces/default/workflows/rollout-parent)');
    expect(md).toContain('| [rollout-x-scale-paid_search-fr](/namespaces/default/workflows/rollout-x-scale-paid_search-fr) | paid_search/FR | waiting-approval |');
    const running = renderRolloutDetails({ workflowId: 'rollout-x', namespace: 'default', useCase: 'x', goal: 'g', state: 'running', currentStep: 'scale', steps: [] });
    expect(running).toContain(`query=${encodeURIComponent('ParentWorkflowId="rollout-x"')}`);
  });

  it('gives a guardrail step\'s failures out of its checks, and a loop its stages and gate', () => {
    expect(keyNumber({ checks: 6, failed: 1 })).toBe('1 of 6 checks failed');
    const md = renderLoopDetails({ workflowId: 'retrain-x', summary: 'Retrain of x', stages: [{ step: 'train', status: 'running' }, { step: 'retrain', status: 'waiting-approval' }] });
    expect(md).toContain('**Retrain of x**');
    expect(md).toContain('npx aimo approve retrain-x --by <you>');
    expect(md).toContain('| 2 | retrain | waiting-approval |');
  });

  it('starts every workflow with a summary and fixed details saying who started it', () => {
    const options = aimoStartOptions({ taskQueue: 'q', workflowId: 'rollout-x', args: [], useCase: 'x', summary: 'Rollout of x', trigger: { via: 'cli', by: 'ana' } });
    expect(options.staticSummary).toBe('Rollout of x');
    expect(options.staticDetails).toBe(startDetails('rollout-x', { via: 'cli', by: 'ana' }));
    expect(options.staticDetails).toContain('via: `cli`, by: `ana`');
  });
});

/**
 * The details are set by the workflow itself, so a rollout started without
 * aimo's start options (the UI's form, a schedule, a parent) shows them too.
 */
describe('a rollout\'s current details on a real server', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let code: string;

  beforeAll(async () => {
    [env, warehouse, { code }] = await Promise.all([
      connectToTestServer(),
      seededWarehouse(3000, 11),
      bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/reach-use-case/workflows') }),
    ]);
  });

  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  it('tells the gate it waits at, then the readout and the report, and its Result opens with the readout', async () => {
    const taskQueue = uniqueTaskQueue('details');
    const deps = { warehouse, hashSalt: TEST_SALT, dataDir: tempDataDir() };
    const worker = await createAimoWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: { ...createActivities(deps), ...createReachActivities(deps) },
      workflowBundle: { code },
    });
    const plan = {
      kind: 'reach',
      useCase: 'details-reach',
      kpi: { metric: 'reach', channel: 'email', market: 'DE', targetChange: 0.1, deadline: '2027-06-30' },
      sources: { schema: 'raw', consent: 'consent', users: 'users' },
      approval: { beforeExperiment: true, timeout: '1 day', onTimeout: 'reject' },
    };
    const workflowId = `rollout-details-reach-${taskQueue}`;
    await worker.runUntil(async () => {
      // Started like the UI's form does it: no summary, no details.
      const handle = await env.client.workflow.start<(input: unknown) => Promise<RolloutResult>>('rollout', { taskQueue, workflowId, args: [plan] });
      let details = '';
      for (let i = 0; i < 200 && !details.includes('Waiting for an approval'); i++) {
        details = (await handle.query(workflowMetadataQuery)).currentDetails ?? '';
        if (!details.includes('Waiting for an approval')) await new Promise((r) => setTimeout(r, 100));
      }
      expect(details).toContain('**details-reach** — reach +10 % in email/DE — waiting for an approval');
      expect(details).toContain(`npx aimo approve ${workflowId} --gate experiment --by <you> --reason "<why>"`);
      expect(details).toMatch(/\| 1 \| kpi \| ✅ passed \| /);
      expect(details).toContain('| 6 | experiment | ⏸ waiting | | |');

      await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'ana', reason: 'looks right' }] });
      const result = await handle.result();
      expect(Object.keys(result)[0]).toBe('readout');
      expect(result.readout?.headline).toMatch(/^Goal not measured: reach \+10 %; decision: completed; rollout completed$/);
      expect(result.readout?.report).toBe(result.reportPath);
      expect(result.plan.useCase).toBe('details-reach');

      const json = JSON.parse(readFileSync(result.reportPath!.replace(/\.md$/, '.json'), 'utf8')) as RolloutResult;
      expect(Object.keys(json)[0]).toBe('readout');
      expect(json.readout?.report).toBe(result.reportPath);
      expect(readFileSync(result.reportPath!, 'utf8')).toContain(`**${result.readout!.headline}**`);

      const final = (await handle.query(workflowMetadataQuery)).currentDetails ?? '';
      expect(final.split('\n')[0]).toBe(`**${result.readout!.headline}**`);
      expect(final).toContain(`\`${result.reportPath}\``);
      expect(final).not.toContain('Waiting for an approval');

      // Each activity on the timeline names the step and the use case it serves.
      const history = await handle.fetchHistory();
      const summaries = (history.events ?? [])
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => {
          const data = e.userMetadata?.summary?.data;
          return `${e.activityTaskScheduledEventAttributes!.activityType!.name}=${data ? (JSON.parse(Buffer.from(data).toString()) as string) : ''}`;
        });
      expect(summaries).toContain('recordAudit=kpi of details-reach: recordAudit');
      expect(summaries).toContain('recordAudit=experiment gate of details-reach: recordAudit');
      expect(summaries).toContain('writeRolloutReport=report of details-reach: writeRolloutReport');
    });
  });
});
