/**
 * The step a workflow is in, so every activity it schedules carries a summary
 * naming that step and the use case (the Temporal UI shows it on the
 * activity's row of the timeline). Kept on globalThis, which the SDK isolates
 * per workflow run, also when workers reuse one V8 context.
 */
interface StepContext {
  useCase: string;
  step: string;
}

const holder = globalThis as { __aimoStepContext?: StepContext };

export function enterStep(useCase: string, step: string): void {
  holder.__aimoStepContext = { useCase, step };
}

/** The summary of an activity scheduled now, e.g. "baseline-model of paid-search-cac: trainBaseline". */
export function activitySummary(activityType: string): string | undefined {
  const context = holder.__aimoStepContext;
  return context ? `${context.step} of ${context.useCase}: ${activityType}` : undefined;
}
