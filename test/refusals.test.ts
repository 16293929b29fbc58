import { approvalDecisionSchema } from '../domain/rollout/approval';
import { parseOrProblems, rollbackInputSchema } from '../domain/loops/inputs';
import { closest } from '../domain/validation';
import { dataLandedSchema, validate } from '../webhooks/schemas';
import { checkPlan } from '../domain/plan';
import { CASES, decision, plan, PLANS, uc } from './support/malformed-corpus';

describe('refused at the door: plans', () => {
  it.each(PLANS)('%s', (_name, input, problem) => {
    const checked = checkPlan(input);
    expect(checked.ok).toBe(false);
    expect(checked.ok ? [] : checked.problems).toContainEqual(expect.stringMatching(problem));
  });

  it('cleans an owner of control characters and markup stays text', () => {
    const checked = checkPlan({ ...plan, owner: 'growth\u0007 team\n<script>x</script>' });
    expect(checked.ok && checked.plan.owner).toBe('growth team <script>x</script>');
  });
});

describe('refused at the door: loop inputs, approvals and webhook bodies', () => {
  it(`holds, with the plans, a corpus of ${CASES.length + PLANS.length} malformed inputs`, () => {
    expect(CASES.length + PLANS.length).toBeGreaterThanOrEqual(60);
  });

  it.each(CASES)('%s', (_name, schema, input, problem) => {
    const checked = parseOrProblems(schema, input);
    expect(checked.ok).toBe(false);
    const problems = checked.ok ? [] : checked.problems.map((p) => p.replace(/^\(input\)/, schema === dataLandedSchema ? '(body)' : '(input)'));
    expect(problems).toContainEqual(expect.stringMatching(problem));
  });

  it('refuses webhook bodies with the body as the root of the path', () => {
    expect(validate(dataLandedSchema, 'x')).toEqual({ ok: false, problems: [expect.stringMatching(/^\(body\): /)] });
  });

  it('keeps free text readable: control characters become spaces, nothing else changes', () => {
    const parsed = approvalDecisionSchema.parse({ ...decision, reason: 'looks\u0000 right\n<script>alert(1)</script>\u2028ok' });
    expect(parsed.reason).toBe('looks right <script>alert(1)</script> ok');
    expect(rollbackInputSchema.parse({ useCase: uc, reason: '  CTR\tdropped  ', by: 'ana' }).reason).toBe('CTR dropped');
  });

  it('suggests only a near miss', () => {
    expect(closest('beforeExperimnet', ['beforeExperiment', 'timeout', 'onTimeout'])).toBe('beforeExperiment');
    expect(closest('guardrail', ['guardrails', 'kpi'])).toBe('guardrails');
    expect(closest('colour', ['useCase', 'asOf', 'reason'])).toBeUndefined();
  });
});
