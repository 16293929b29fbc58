import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { retrainInputSchema, retrainSettings } from '../domain/loops/inputs';
import { scaledUseCase } from '../domain/naming';
import { checkPlan, retrainSettingsSchema } from '../domain/plan';
import { parsedPlan } from './support/rollout-fixtures';
import { PLAN_DOCS_PATH, renderPlanDocs } from '../scripts/plan-docs';

describe('rollout plans', () => {
  it('every example plan in plans/ is valid', () => {
    const dir = join(__dirname, '..', 'plans');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expect([file, checkPlan(readFileSync(join(dir, file), 'utf8'))]).toEqual([file, expect.objectContaining({ ok: true })]);
  });

  it('names every bad field, and a paste that is not JSON', () => {
    const checked = checkPlan({ useCase: 'x', kpi: { metric: 'cpa' }, experiment: { duration: 'soon' } });
    expect(checked.ok).toBe(false);
    const problems = checked.ok ? [] : checked.problems.join('\n');
    for (const field of ['useCase:', 'kpi.metric:', 'kpi.channel:', 'windows:', 'experiment.duration: use a duration']) expect(problems).toContain(field);
    expect(checkPlan('{ not json')).toEqual({ ok: false, problems: ['(plan): is not valid JSON: paste one JSON object'] });
  });

  it('docs/plan-schema.md is generated from the schema (run npm run docs after changing it)', () => {
    expect(readFileSync(PLAN_DOCS_PATH, 'utf8')).toBe(renderPlanDocs());
  });
});

describe('retrain settings', () => {
  const plan = (retrain: unknown) => ({
    useCase: 'paid-search-cac',
    owner: 'ops',
    kpi: { metric: 'cac', channel: 'paid_search', market: 'DE', targetChange: -0.15, deadline: '2026-06-30' },
    windows: { asOf: '2026-03-04' },
    automation: { retrain },
  });

  it('take a retrain input over the plan, and the plan over the defaults, field by field', () => {
    const planned = parsedPlan(plan({ approval: true, canary: { share: 0.3, watch: '5 days' } })).automation.retrain;
    expect(planned).toEqual({ promotionMargin: 0, approval: true, approvalTimeout: '2 days', canary: { share: 0.3, watch: '5 days', checkEvery: '1 day', liveDays: 14, maxAucDrop: 0.02 } });

    const request = retrainInputSchema.parse({ useCase: 'paid-search-cac', approval: false, canary: { watch: '1 day' } });
    expect(retrainSettings(planned, request)).toEqual({ ...planned, approval: false, canary: { ...planned.canary, watch: '1 day' } });
    // A champion registered before plans carried retrain settings runs with the defaults.
    expect(retrainSettings(undefined, retrainInputSchema.parse({ useCase: 'paid-search-cac' }))).toEqual(retrainSettingsSchema.parse({}));
  });

  it('name the field a bad value sits in', () => {
    const checked = checkPlan(plan({ canary: { share: 0.9 }, approvalTimeout: 'soon' }));
    const problems = checked.ok ? '' : checked.problems.join('\n');
    expect(problems).toContain('automation.retrain.canary.share:');
    expect(problems).toContain('automation.retrain.approvalTimeout: use a duration');
  });
});

describe('scaled-out use cases', () => {
  it('are named after the market and channel, and stay valid use case names however long the parent', () => {
    expect(scaledUseCase('paid-search-cac', 'paid_search', 'FR')).toBe('paid-search-cac-paid-search-fr');
    const long = 'a'.repeat(45) + '-cac';
    const [de, fr] = [scaledUseCase(long, 'paid_social', 'DE'), scaledUseCase(long, 'paid_social', 'FR')];
    expect(de).not.toBe(fr);
    for (const name of [de, fr]) {
      const checked = checkPlan({ ...JSON.parse(readFileSync(join(__dirname, '..', 'plans', 'demo-paid-search-cac.json'), 'utf8')), useCase: name });
      expect([name, checked.ok]).toEqual([name, true]);
    }
  });
});
