import { log } from '@temporalio/workflow';
import { jumpCheckInputSchema } from '../../domain/loops/inputs';
import { jumpIncidentId, type JumpCheckResult, type JumpVerdict } from '../../domain/loops/jumps';
import { quickActivities, dataActivities } from '../activity-proxies';
import { auditTrail, loopContext, parseInput, publish } from './support';

type Jump = Extract<JumpVerdict, { verdict: 'jump' }>;

const percent = (x: number | null) => (x === null ? 'from zero' : `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)} %`);
const sigmas = (x: number | null) => (x === null ? 'off a history that never varied' : `${Math.abs(x).toFixed(1)} robust sigmas`);

/**
 * The daily jump check: the use case's KPI, cost and model series on the
 * newest complete day against the same weekday of the previous weeks. Each
 * jump alerts once through the plan's alert routes, keyed by use case,
 * series and day, so a re-run or retry of the same day never alerts twice.
 */
export async function jumpCheck(input: unknown): Promise<JumpCheckResult> {
  const request = parseInput(jumpCheckInputSchema, input, 'jump check');
  const ctx = loopContext(request.useCase);
  const audit = auditTrail(ctx);
  publish(request.useCase, 'jumps', 'running', `Jump check of ${request.useCase}`);
  const champion = await quickActivities.loadChampion({ useCase: request.useCase });
  const assessment = await dataActivities.assessJumps({
    ctx,
    plan: champion.plan,
    ...(request.day ? { day: request.day } : {}),
    ...(request.settings ? { settings: request.settings } : {}),
  });
  const alerted: string[] = [];
  for (const { series, verdict } of assessment.verdicts) {
    if (verdict.verdict !== 'jump') continue;
    const jump: Jump = verdict;
    const id = jumpIncidentId(request.useCase, series, assessment.day);
    log.warn('jump detected', { series, day: jump.day, value: jump.value, baseline: jump.baseline });
    await quickActivities.sendAlert({
      id,
      useCase: request.useCase,
      kind: 'jump',
      severity: 'warning',
      title: `Jump in ${request.useCase}: ${series} ${jump.direction} ${percent(jump.relativeChange)} on ${jump.day}`,
      details: {
        series,
        day: jump.day,
        value: jump.value,
        baseline: jump.baseline,
        change: percent(jump.relativeChange),
        deviation: sigmas(jump.deviation),
        history: jump.history.join(', '),
      },
      // Deliberate: workflow time, which the SDK makes deterministic, so a replay or retry sends the same timestamp.
      at: new Date().toISOString(),
    });
    await audit('jumps', 'jump-detected', `${series} ${jump.direction} ${percent(jump.relativeChange)} on ${jump.day}, ${sigmas(jump.deviation)}`, 'aimo', { incidentId: id });
    alerted.push(id);
  }
  publish(request.useCase, 'jumps', alerted.length ? 'jump' : 'no-jump');
  return { useCase: request.useCase, day: assessment.day, settings: assessment.settings, verdicts: assessment.verdicts, alerted };
}
