/** Identity of one rollout, passed to every activity so names derive from it. */
export interface RolloutContext {
  readonly workflowId: string;
  readonly useCase: string;
  /** Table-name prefix (see rolloutTablePrefix) */
  readonly tablePrefix: string;
}
