import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { contentPlanSchema, rolloutPlanSchema } from '../domain/plan';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf)!.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

function rows(schema: JsonSchema, prefix: string, out: string[]): void {
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    const limits = [
      field.pattern ? `pattern \`${field.pattern}\`` : '',
      field.minimum !== undefined ? `≥ ${field.minimum}` : '',
      field.maximum !== undefined ? `≤ ${field.maximum}` : '',
    ].filter(Boolean).join(', ');
    const required = schema.required?.includes(name) && field.default === undefined ? 'yes' : '';
    const def = field.default === undefined || typeof field.default === 'object' ? '' : `\`${JSON.stringify(field.default)}\``;
    out.push(`| \`${path}\` | ${typeOf(field)} | ${required} | ${def} | ${[field.description ?? '', limits].filter(Boolean).join('; ')} |`);
    if (field.type === 'object') rows(field, path, out);
  }
}

/** docs/plan-schema.md, generated from the zod schema the workflow validates with, so the two cannot drift. */
export function renderPlanDocs(): string {
  const schema = z.toJSONSchema(rolloutPlanSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = [
    '# The rollout plan',
    '',
    'One JSON object: what you paste into the Temporal UI\'s start form for the `rollout` workflow, post to',
    '`POST /v1/rollouts` or pass to `npx aimo rollout start`. Generated from `domain/plan.ts` by',
    '`npm run docs`; a test fails when this file and the schema disagree.',
    '',
    '| field | type | required | default | notes |',
    '|---|---|---|---|---|',
  ];
  rows(schema, '', out);
  const content = z.toJSONSchema(contentPlanSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  out.push(
    '',
    '## Content plans (`"kind": "content"`)',
    '',
    'The content factory: grounded creative variants for products, checked by guardrails, kept within token budgets,',
    'competing in a Thompson-sampling bandit. The same `rollout` workflow runs it; a plan without `kind` is a',
    'propensity plan (the table above).',
    '',
    '| field | type | required | default | notes |',
    '|---|---|---|---|---|',
  );
  rows(content, '', out);
  out.push('', 'See `plans/` for complete examples.', '');
  return out.join('\n');
}

export const PLAN_DOCS_PATH = join(__dirname, '..', 'docs', 'plan-schema.md');

if (require.main === module) {
  writeFileSync(PLAN_DOCS_PATH, renderPlanDocs());
  console.log(`wrote ${PLAN_DOCS_PATH}`);
}
