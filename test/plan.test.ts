import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPlan } from '../domain/plan';
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
