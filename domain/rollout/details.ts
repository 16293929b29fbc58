import { formatNumber } from './format';
import type { RolloutReadout } from './readout';
import type { RolloutResult } from './result';
import { ROLLOUT_STEPS, type RolloutState, type RolloutStep, type StepOutcome } from './status';

/** What the Temporal UI's "current details" of a rollout are drawn from. */
export interface RolloutDetailsView {
  readonly workflowId: string;
  readonly namespace: string;
  readonly useCase: string;
  readonly goal: string;
  readonly state: RolloutState;
  readonly currentStep: RolloutStep | 'done';
  /** The approval gate the rollout waits at, if any */
  readonly gate?: string;
  readonly steps: readonly StepOutcome[];
  /** The parent rollout of a scaled child */
  readonly parentId?: string;
  readonly children?: RolloutResult['scale'];
  readonly readout?: RolloutReadout;
  readonly reportPath?: string;
  /** The report's page on aimo's HTTP server */
  readonly reportUrl?: string;
}

const STATE_LABEL: Record<RolloutState, string> = {
  running: 'running',
  'waiting-approval': 'waiting for an approval',
  completed: 'completed',
  failed: 'failed',
  rejected: 'rejected',
  cancelled: 'cancelled',
};

const MARK: Record<StepOutcome['status'], string> = { passed: '✅ passed', failed: '❌ failed', skipped: '⏭️ skipped' };

// Table cells: a pipe or newline would break the Markdown table.
const cell = (text: string) => text.replace(/\|/g, '/').replace(/\s*\n\s*/g, ' ');

/** The step's most telling number, by the names the use cases give them. */
const KEY_NUMBERS = ['baseline', 'consentCoverage', 'featureRows', 'auc', 'failed', 'uplift', 'aaFalsePositiveRate', 'live', 'winners', 'schedules', 'targets', 'products'];

export function keyNumber(numbers: StepOutcome['numbers']): string {
  if (typeof numbers['checks'] === 'number' && typeof numbers['failed'] === 'number') return `${numbers['failed']} of ${numbers['checks']} checks failed`;
  const name = KEY_NUMBERS.find((k) => numbers[k] !== undefined && numbers[k] !== null) ?? Object.keys(numbers).find((k) => numbers[k] !== null);
  if (name === undefined) return '—';
  const value = numbers[name];
  return `${name} ${typeof value === 'number' ? formatNumber(value) : String(value)}`;
}

/** Links inside the Temporal UI are relative, so they work on whatever host serves it. */
const workflowLink = (namespace: string, workflowId: string) => `/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
const childrenLink = (namespace: string, workflowId: string) =>
  `/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(`ParentWorkflowId="${workflowId}"`)}`;

/** The exact commands and Update payload that decide a gate; without a gate name, the one waiting. */
export function gateInstructions(workflowId: string, gate?: string): string[] {
  const update = (decision: 'approve' | 'reject') => JSON.stringify({ decision, by: '<you>', reason: '<why>', ...(gate ? { gate } : {}) });
  const flag = gate ? ` --gate ${gate}` : '';
  return [
    gate ? `### ⏸ Waiting for an approval at the \`${gate}\` gate` : '### ⏸ Waiting for an approval',
    '',
    'Approve or reject from a terminal:',
    '',
    '```',
    `npx aimo approve ${workflowId}${flag} --by <you> --reason "<why>"`,
    `npx aimo approve ${workflowId}${flag} --by <you> --reason "<why>" --reject`,
    '```',
    '',
    'or here in the UI: **Send an Update** named `approval` with',
    '',
    '```json',
    update('approve'),
    '```',
    '',
    `(or \`${update('reject')}\`).`,
  ];
}

/** The rollout as Markdown: the eight steps, the gate it waits at, its children and its report. */
export function renderRolloutDetails(v: RolloutDetailsView): string {
  const lines: string[] = [];
  if (v.readout) lines.push(`**${v.readout.headline}**`, '');
  lines.push(`**${v.useCase}** — ${v.goal} — ${STATE_LABEL[v.state]}${v.currentStep !== 'done' && v.state === 'running' ? ` at step \`${v.currentStep}\`` : ''}`);
  if (v.parentId) lines.push('', `Scaled from [${v.parentId}](${workflowLink(v.namespace, v.parentId)}).`);
  if (v.gate) lines.push('', ...gateInstructions(v.workflowId, v.gate));
  lines.push('', '| # | step | outcome | key number | summary |', '|---|---|---|---|---|');
  // A gate sits before its step, which has not begun: the first step not yet done is the one waiting.
  const next = ROLLOUT_STEPS.find((step) => !v.steps.some((s) => s.step === step));
  const active = v.state === 'running' || v.state === 'waiting-approval' ? (v.gate ? next : v.currentStep) : undefined;
  ROLLOUT_STEPS.forEach((step, i) => {
    const done = v.steps.find((s) => s.step === step);
    if (done) {
      lines.push(`| ${i + 1} | ${step} | ${MARK[done.status]} | ${cell(keyNumber(done.numbers))} | ${cell(done.summary)} |`);
    } else {
      lines.push(`| ${i + 1} | ${step} | ${active === step ? (v.gate ? '⏸ waiting' : '⏳ running') : '·'} | | |`);
    }
  });
  if (v.currentStep === 'scale' || v.children) {
    lines.push('', `### Child rollouts`, '');
    if (v.children?.length) {
      lines.push('| rollout | target | state | summary |', '|---|---|---|---|');
      for (const c of v.children) lines.push(`| [${c.workflowId}](${workflowLink(v.namespace, c.workflowId)}) | ${c.channel}/${c.market} | ${c.status} | ${cell(c.summary)} |`);
    } else if (!v.children) {
      lines.push(`Each target runs as its own rollout, with its own gates: [the child rollouts and their state](${childrenLink(v.namespace, v.workflowId)}).`);
    } else {
      lines.push('No targets to scale to.');
    }
  }
  lines.push('', '### Report', '');
  if (v.reportUrl) lines.push(`[The report with its charts](${v.reportUrl}) (also as [Markdown](${v.reportUrl}.md) and [JSON](${v.reportUrl}.json))`, '');
  lines.push(
    v.reportPath
      ? `\`${v.reportPath}\` (Markdown; the JSON beside it), also shown by \`npx aimo status ${v.workflowId}\``
      : `Written when the rollout ends; \`npx aimo status ${v.workflowId}\` shows where.`,
  );
  return lines.join('\n');
}

/** One stage a loop (retrain, drift, rollback) passed through, as its search attributes said. */
export interface LoopStage {
  readonly step: string;
  readonly status: string;
}

/** A loop's details: what it is doing, the stages it went through, and how to decide its gate when it waits. */
export function renderLoopDetails(v: { workflowId: string; summary?: string; stages: readonly LoopStage[] }): string {
  const last = v.stages[v.stages.length - 1];
  const lines: string[] = [];
  if (v.summary) lines.push(`**${cell(v.summary)}**`, '');
  if (last) lines.push(`Now: \`${last.step}\` — ${last.status}`);
  if (last?.status === 'waiting-approval') lines.push('', ...gateInstructions(v.workflowId));
  if (v.stages.length) {
    lines.push('', '| # | stage | status |', '|---|---|---|');
    v.stages.forEach((s, i) => lines.push(`| ${i + 1} | ${s.step} | ${s.status} |`));
  }
  return lines.join('\n');
}
