import { z } from 'zod';
import { freeText } from '../validation';

/** A person's decision at an approval gate, as sent by the UI, the CLI or a webhook. */
export const approvalDecisionSchema = z.strictObject({
  decision: z.enum(['approve', 'reject'], { message: 'decision must be "approve" or "reject"' }),
  by: freeText({ min: 1, max: 200, what: 'who decides (by)' }),
  reason: freeText({ min: 3, max: 2000, what: 'a reason' }),
  gate: z.string().regex(/^[a-z-]{1,40}$/).optional().describe('Which gate; defaults to the one waiting'),
});

export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;
