import { z } from 'zod';

/** A person's decision at an approval gate, as sent by the UI, the CLI or a webhook. */
export const approvalDecisionSchema = z.object({
  decision: z.enum(['approve', 'reject'], { message: 'decision must be "approve" or "reject"' }),
  by: z.string().trim().min(1, 'say who decides (by)').max(200),
  reason: z.string().trim().min(3, 'give a reason of at least 3 characters').max(2000),
  gate: z.string().regex(/^[a-z-]{1,40}$/).optional().describe('Which gate; defaults to the one waiting'),
});

export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;
