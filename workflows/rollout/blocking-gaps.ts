import type { StepReport, StepRun } from '../../domain/rollout/contract';

/**
 * The inventory's verdict when it found blocking gaps: the step, the audit
 * log and the report say which, and the workflow then fails non-retryably,
 * because running it again cannot help until the sources are fixed.
 */
export async function stopOnBlockingGaps(run: Pick<StepRun<unknown>, 'audit'>, inventory: { blocking: string[]; warnings: string[] }): Promise<StepReport> {
  const list = inventory.blocking.map((gap) => `  - ${gap}`).join('\n');
  await run.audit('inventory', 'blocked', inventory.blocking.join('; '));
  return {
    status: 'failed',
    summary: `${inventory.blocking.length} blocking gap(s)`,
    numbers: { blocking: inventory.blocking.length, warnings: inventory.warnings.length },
    end: {
      state: 'failed',
      failure: `Blocking data gaps:\n${list}`,
      error: { type: 'BlockingDataGap', message: `Data inventory found blocking gaps; fix the sources and start again:\n${list}`, details: inventory },
    },
  };
}
