/** What the rollout driver reads from every kind of plan; each use case's schema adds its own fields. */
export interface RolloutPlanBase {
  readonly kind: string;
  readonly useCase: string;
  readonly owner?: string | undefined;
  readonly kpi: { readonly metric: string; readonly targetChange: number; readonly channel: string; readonly market: string; readonly deadline: string };
  readonly approval: { readonly beforeExperiment: boolean; readonly timeout: string; readonly onTimeout: 'approve' | 'reject' };
}

export type PlanCheckOf<P> = { ok: true; plan: P } | { ok: false; problems: string[] };
