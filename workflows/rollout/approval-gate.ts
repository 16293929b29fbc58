import { ApplicationFailure, condition } from '@temporalio/workflow';
import { approvalDecisionSchema, type ApprovalDecision } from '../../domain/rollout/approval';
import { describeIssues } from '../../domain/validation';

function refuse(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * A human approval gate: the workflow waits for the `approval` Update, with a
 * timeout policy. The validator runs before the Update is accepted into
 * history, so a malformed or mistimed decision is refused without a trace.
 */
export class ApprovalGate {
  private waiting: string | undefined;
  private decision: ApprovalDecision | undefined;

  constructor(private readonly onStateChange: (waitingFor: string | undefined) => void) {}

  /** Refuses a decision before it reaches history, as a validation failure no retry can fix. */
  validate(input: unknown): void {
    const parsed = approvalDecisionSchema.safeParse(input);
    if (!parsed.success) refuse('InvalidApproval', `the approval was refused: ${describeIssues(approvalDecisionSchema, parsed.error.issues, '(decision)').join('; ')}`);
    if (!this.waiting) refuse('NotWaiting', 'the approval was refused: this workflow is not waiting for an approval');
    if (parsed.data.gate && parsed.data.gate !== this.waiting) refuse('WrongGate', `the approval was refused: this workflow waits at the "${this.waiting}" gate, not "${parsed.data.gate}"`);
  }

  decide(decision: ApprovalDecision): { accepted: true; gate: string } {
    const gate = this.waiting ?? 'none';
    this.decision = approvalDecisionSchema.parse(decision);
    return { accepted: true, gate };
  }

  async wait(gate: string, timeoutMs: number, onTimeout: 'approve' | 'reject'): Promise<ApprovalDecision> {
    this.waiting = gate;
    this.decision = undefined;
    this.onStateChange(`approval at the ${gate} gate`);
    const decided = await condition(() => this.decision !== undefined, timeoutMs);
    this.waiting = undefined;
    this.onStateChange(undefined);
    if (decided && this.decision) return this.decision;
    return { decision: onTimeout, by: 'aimo (timeout)', reason: `no decision within the approval timeout; policy: ${onTimeout}` };
  }
}
