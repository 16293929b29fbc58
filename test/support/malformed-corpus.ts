import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { approvalDecisionSchema } from '../../domain/rollout/approval';
import { driftInputSchema, retrainInputSchema, rollbackInputSchema } from '../../domain/loops/inputs';
import { alertSchema, approvalRequestSchema, dataLandedSchema } from '../../webhooks/schemas';
import { testPlan } from './rollout-fixtures';

/**
 * The corpus of malformed input aimo refuses at the door: loop inputs,
 * approval decisions, webhook bodies and plans, each with the problem the
 * refusal must name. refusals.test.ts checks each against its schema;
 * refusals-doors.test.ts sends each through the real doors.
 */
export const uc = 'paid-search-cac';
const landedAt = '2026-11-28T04:10:00Z';
export const decision = { decision: 'approve', by: 'ana@growth', reason: 'model and data look right' };

/** Bodies as they arrive: JSON text, so __proto__ is an own key as a sender can write it. */
const json = (text: string): unknown => JSON.parse(text);

/**
 * Malformed loop inputs, approval decisions and webhook bodies: each one is
 * refused, and the refusal names the field (and for a typo the field meant).
 * The schemas are those the workflows, the webhook server and the CLI parse with.
 */
export const CASES: Array<[string, z.ZodType, unknown, RegExp]> = [
  ['retrain: misspelt knob', retrainInputSchema, { useCase: uc, promotionMarign: 0.01 }, /^promotionMarign: unknown field; did you mean promotionMargin\?$/],
  ['retrain: misspelt canary knob', retrainInputSchema, { useCase: uc, canary: { wach: '3 days' } }, /^canary\.wach: unknown field; did you mean watch\?$/],
  ['retrain: unknown field far from any', retrainInputSchema, { useCase: uc, colour: 'red' }, /^colour: unknown field; known fields here: useCase, asOf, reason/],
  ['retrain: month 13', retrainInputSchema, { useCase: uc, asOf: '2026-13-45' }, /^asOf: not a day of the calendar/],
  ['retrain: 30 February', retrainInputSchema, { useCase: uc, asOf: '2026-02-30' }, /^asOf: not a day of the calendar/],
  ['retrain: not a date', retrainInputSchema, { useCase: uc, asOf: 'yesterday' }, /^asOf: use an ISO date/],
  ['retrain: wait of zero', retrainInputSchema, { useCase: uc, waitForData: '0 seconds' }, /^waitForData: use a duration longer than zero$/],
  ['retrain: endless wait', retrainInputSchema, { useCase: uc, waitForData: '100000000000000000000 days' }, /^waitForData: use a duration of at most 365 days$/],
  ['retrain: wait in fortnights', retrainInputSchema, { useCase: uc, waitForData: '2 fortnights' }, /^waitForData: use a duration such as/],
  ['retrain: a reason too long', retrainInputSchema, { useCase: uc, reason: 'x'.repeat(501) }, /^reason: a reason may have at most 500 characters$/],
  ['retrain: __proto__', retrainInputSchema, json(`{"useCase":"${uc}","__proto__":{"approval":false}}`), /^__proto__: unknown field/],
  ['retrain: constructor', retrainInputSchema, { useCase: uc, constructor: { name: 'x' } }, /^constructor: unknown field/],
  ['retrain: deep nesting in an unknown field', retrainInputSchema, json(`{"useCase":"${uc}","x":${'['.repeat(5000)}${']'.repeat(5000)}}`), /^x: unknown field/],
  ['retrain: upper-case use case', retrainInputSchema, { useCase: 'Paid-Search' }, /^useCase: use the use case name/],
  ['retrain: no use case', retrainInputSchema, {}, /^useCase: /],
  ['retrain: not an object', retrainInputSchema, 'retrain please', /^\(input\): /],
  ['retrain: canary share above half', retrainInputSchema, { useCase: uc, canary: { share: 0.9 } }, /^canary\.share: /],
  ['retrain: approval as text', retrainInputSchema, { useCase: uc, approval: 'yes' }, /^approval: /],
  ['drift: misspelt thresholds', driftInputSchema, { useCase: uc, treshold: { psi: 0.2 } }, /^treshold: unknown field; did you mean thresholds\?$/],
  ['drift: misspelt threshold', driftInputSchema, { useCase: uc, thresholds: { pis: 0.2 } }, /^thresholds\.pis: unknown field; did you mean psi\?$/],
  ['drift: negative PSI', driftInputSchema, { useCase: uc, thresholds: { psi: -1 } }, /^thresholds\.psi: /],
  ['drift: share above 1', driftInputSchema, { useCase: uc, thresholds: { driftedShare: 2 } }, /^thresholds\.driftedShare: /],
  ['drift: bad retrain cut-off', driftInputSchema, { useCase: uc, retrainAsOf: '2026-04-31' }, /^retrainAsOf: not a day of the calendar/],
  ['drift: startRetrain as text', driftInputSchema, { useCase: uc, startRetrain: 'no' }, /^startRetrain: /],
  ['drift: asof in lower case', driftInputSchema, { useCase: uc, asof: '2026-03-01' }, /^asof: unknown field; did you mean asOf\?$/],
  ['rollback: short reason', rollbackInputSchema, { useCase: uc, reason: 'no', by: 'ana' }, /^reason: give a reason of at least 3 characters$/],
  ['rollback: reason of control characters only', rollbackInputSchema, { useCase: uc, reason: '\u0000\u0007\n\t', by: 'ana' }, /^reason: give a reason of at least 3 characters$/],
  ['rollback: nobody', rollbackInputSchema, { useCase: uc, reason: 'CTR dropped', by: '  ' }, /^by: say who asks for the rollback \(by\)$/],
  ['rollback: to for toVersion', rollbackInputSchema, { useCase: uc, reason: 'CTR dropped', by: 'ana', to: 'v1' }, /^to: unknown field; known fields here/],
  ['rollback: version with spaces', rollbackInputSchema, { useCase: uc, reason: 'CTR dropped', by: 'ana', toVersion: 'v 1; drop' }, /^toVersion: use a version id/],
  ['rollback: toversion', rollbackInputSchema, { useCase: uc, reason: 'CTR dropped', by: 'ana', toversion: 'v1' }, /^toversion: unknown field; did you mean toVersion\?$/],
  ['approval: misspelt gate', approvalDecisionSchema, { ...decision, gte: 'experiment' }, /^gte: unknown field; did you mean gate\?$/],
  ['approval: yes for approve', approvalDecisionSchema, { ...decision, decision: 'yes' }, /^decision: decision must be "approve" or "reject"$/],
  ['approval: no reason', approvalDecisionSchema, { decision: 'approve', by: 'ana' }, /^reason: /],
  ['approval: blank reason', approvalDecisionSchema, { ...decision, reason: '   ' }, /^reason: give a reason of at least 3 characters$/],
  ['approval: nobody', approvalDecisionSchema, { ...decision, by: '' }, /^by: /],
  ['approval: reason too long', approvalDecisionSchema, { ...decision, reason: 'x'.repeat(2001) }, /^reason: a reason may have at most 2000 characters$/],
  ['approval: gate with spaces', approvalDecisionSchema, { ...decision, gate: 'the experiment' }, /^gate: /],
  ['approval: __proto__', approvalDecisionSchema, json(`{"decision":"approve","by":"ana","reason":"looks right","__proto__":{"decision":"reject"}}`), /^__proto__: unknown field/],
  ['approval webhook: no workflow', approvalRequestSchema, decision, /^workflowId: /],
  ['approval webhook: workflow id with a slash', approvalRequestSchema, { ...decision, workflowId: 'rollout/../x' }, /^workflowId: give the id of the waiting rollout/],
  ['approval webhook: misspelt workflow id', approvalRequestSchema, { ...decision, workflowID: 'rollout-x' }, /workflowID: unknown field; did you mean workflowId\?/],
  ['data-landed: misspelt table', dataLandedSchema, { useCase: uc, landedAt, tabel: 'raw.orders' }, /^tabel: unknown field; did you mean table\?$/],
  ['data-landed: table with SQL', dataLandedSchema, { useCase: uc, landedAt, table: 'drop table;' }, /^table: use a table name such as raw.orders$/],
  ['data-landed: landed yesterday', dataLandedSchema, { useCase: uc, landedAt: 'yesterday' }, /^landedAt: use an ISO 8601 date-time/],
  ['data-landed: no offset', dataLandedSchema, { useCase: uc, landedAt: '2026-11-28 04:10' }, /^landedAt: /],
  ['data-landed: no use case', dataLandedSchema, { landedAt }, /^useCase: /],
  ['data-landed: array body', dataLandedSchema, [{ useCase: uc, landedAt }], /^\(body\): /],
  ['alert: unknown kind', alertSchema, { useCase: uc, kind: 'cpu', severity: 'warning' }, /^kind: kind must be one of drift, serving-error, kpi-drop, data-quality$/],
  ['alert: unknown severity', alertSchema, { useCase: uc, kind: 'drift', severity: 'panic' }, /^severity: severity must be one of/],
  ['alert: misspelt message', alertSchema, { useCase: uc, kind: 'drift', severity: 'warning', mesage: 'shift' }, /^mesage: unknown field; did you mean message\?$/],
  ['alert: message too long', alertSchema, { useCase: uc, kind: 'drift', severity: 'warning', message: 'x'.repeat(2001) }, /^message: a message may have at most 2000 characters$/],
  ['alert: fired at noon', alertSchema, { useCase: uc, kind: 'drift', severity: 'warning', firedAt: 'noon' }, /^firedAt: /],
  ['alert: constructor', alertSchema, { useCase: uc, kind: 'drift', severity: 'warning', constructor: 1 }, /^constructor: unknown field/],
];

export const plan = testPlan() as Record<string, unknown> & { experiment: object; approval: object; windows: object; kpi: object; automation: object };
const content = JSON.parse(readFileSync(join(__dirname, '..', '..', 'plans', 'demo-search-ad-content.json'), 'utf8')) as Record<string, unknown> & { content: { bandit?: object } };

/** Malformed plans, as the UI's start form, a webhook or the CLI would hand them over. */
export const PLANS: Array<[string, unknown, RegExp]> = [
  ['a misspelt approval gate', { ...plan, approval: { beforeExperimnet: true } }, /^approval\.beforeExperimnet: unknown field; did you mean beforeExperiment\?$/],
  ['guardrail for guardrails', { ...plan, guardrail: { minAuc: 0.9 } }, /^guardrail: unknown field; did you mean guardrails\?$/],
  ['__proto__ at the top', JSON.parse(`{"useCase":"x-uc","__proto__":{"approval":{"beforeExperiment":false}}}`), /^__proto__: unknown field/],
  ['constructor in the experiment', { ...plan, experiment: { ...plan.experiment, constructor: { x: 1 } } }, /^experiment\.constructor: unknown field/],
  ['deep nesting in an unknown field', JSON.parse(`{"useCase":"x-uc","extra":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`), /^extra: unknown field/],
  ['a check every 0 seconds', { ...plan, experiment: { ...plan.experiment, checkEvery: '0 seconds' } }, /^experiment\.checkEvery: use a duration longer than zero$/],
  ['checks rarer than the experiment', { ...plan, experiment: { ...plan.experiment, duration: '2 days', checkEvery: '3 days' } }, /^experiment\.checkEvery: check at most as often as the experiment lasts/],
  ['an endless experiment', { ...plan, experiment: { ...plan.experiment, duration: '100000000000000000000 days' } }, /^experiment\.duration: use a duration of at most 365 days$/],
  ['a two-month approval', { ...plan, approval: { beforeExperiment: true, timeout: '60 days' } }, /^approval\.timeout: use a duration of at most 30 days$/],
  ['month 13', { ...plan, windows: { ...plan.windows, asOf: '2026-13-45' } }, /^windows\.asOf: not a day of the calendar/],
  ['30 February', { ...plan, kpi: { ...plan.kpi, deadline: '2026-02-30' } }, /^kpi\.deadline: not a day of the calendar/],
  ['a garbage cron', { ...plan, automation: { ...plan.automation, retrainEvery: 'every monday' } }, /^automation\.retrainEvery: use a cron expression/],
  ['minute 61', { ...plan, automation: { ...plan.automation, driftEvery: '61 2 * * *' } }, /^automation\.driftEvery: use a cron expression/],
  ['a canary checked rarer than watched', { ...plan, automation: { ...plan.automation, retrain: { canary: { watch: '1 day', checkEvery: '2 days' } } } }, /^automation\.retrain\.canary\.checkEvery: check the canary at most as often as it is watched/],
  ['an empty owner', { ...plan, owner: '\u0000 ' }, /^owner: say an owner$/],
  ['a misspelt bandit cadence', { ...content, content: { ...content.content, bandit: { cadance: '1 day' } } }, /^content\.bandit\.cadance: unknown field; did you mean cadence\?$/],
  ['a content plan with a model section', { ...content, model: {} }, /^model: unknown field/],
];

