import type { GuardrailCheck, GuardrailReport } from '../../domain/propensity/results';
import type { RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { runTable } from '../../domain/rollout/context';
import { formatTable, storedTableRef } from '../../domain/table-ref';
import type { Warehouse } from '../../warehouse/warehouse';
import type { ActivityDependencies } from '../dependencies';
import { stepWarehouse } from '../../store/query-context';
import type { ModelRun } from '../../domain/propensity/results';
import type { ModelVersion } from '../../domain/propensity/results';



/** Patterns of raw contact data; hashed values (hex) match neither. */
export const PII_PATTERNS = {
  email: '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}',
  phone: '\\+[0-9][0-9 ()-]{6,}[0-9]',
} as const;

/** Counts values that look like raw PII in every string column of the given tables. */
export async function scanForPii(wh: Warehouse, tables: ModelRun[]): Promise<{ hits: number; where: string[] }> {
  let hits = 0;
  const where: string[] = [];
  for (const run of tables) {
    const ref = storedTableRef(run.table);
    const stringColumns = (await wh.columns(ref)).filter((c) => /^(VARCHAR|STRING|TEXT)/.test(c.type)).map((c) => c.name);
    if (stringColumns.length === 0) continue;
    const sums = stringColumns
      .map((c, i) => `SUM(CASE WHEN ${wh.dialect.regexpContains(wh.dialect.quote(c), 'email')} OR ${wh.dialect.regexpContains(wh.dialect.quote(c), 'phone')} THEN 1 ELSE 0 END) AS c${i}`)
      .join(', ');
    const [row] = await wh.query<Record<string, number | null>>(`SELECT ${sums} FROM ${wh.dialect.table(ref)}`, PII_PATTERNS);
    stringColumns.forEach((c, i) => {
      const n = Number(row?.[`c${i}`] ?? 0);
      if (n > 0) {
        hits += n;
        where.push(`${formatTable(ref)}.${c} (${n})`);
      }
    });
  }
  return { hits, where };
}

export function createGuardrailActivities({ warehouse }: ActivityDependencies) {
  return {
    /** Step 5: every guardrail is a named pass/fail with its numbers; anything unknown fails closed. */
    async evaluateGuardrails({ ctx, plan, dataPath, model }: { ctx: RolloutContext; plan: RolloutPlan; dataPath: ModelRun[]; model: ModelVersion }): Promise<GuardrailReport> {
      const g = plan.guardrails;
      const checks: GuardrailCheck[] = [];
      const check = (name: string, value: number | null, limit: number, ok: (v: number) => boolean, what: string) =>
        checks.push({
          name,
          passed: value !== null && Number.isFinite(value) && ok(value),
          value,
          limit,
          detail: value === null || !Number.isFinite(value) ? `${what}: not measurable (fails closed)` : `${what} ${round(value)} (limit ${round(limit)})`,
        });

      const failed = dataPath.flatMap((m) => m.expectations.filter((e) => !e.success).map((e) => `${m.model}.${e.name}`));
      checks.push({ name: 'data_quality', passed: failed.length === 0, value: failed.length, limit: 0, detail: failed.length ? `failed expectations: ${failed.join(', ')}` : `${dataPath.reduce((n, m) => n + m.expectations.length, 0)} expectations passed` });

      const features = runTable(ctx, 'features');
      const wh = stepWarehouse(warehouse, ctx, plan);
      const q = (c: string) => wh.dialect.quote(c);
      const nullSums = model.features.map((f) => `SUM(CASE WHEN ${q(f)} IS NULL THEN 1 ELSE 0 END)`).join(' + ');
      const [nulls] = await wh.query<{ nulls: number; cells: number }>(
        `SELECT ${nullSums} AS nulls, COUNT(*) * ${model.features.length} AS cells FROM ${wh.dialect.table(features)}`,
      );
      const nullRate = nulls && nulls.cells > 0 ? Number(nulls.nulls) / Number(nulls.cells) : null;
      check('feature_null_rate', nullRate, g.maxNullRate, (v) => v <= g.maxNullRate, 'null rate of feature cells');

      check('model_auc', model.metrics.auc, g.minAuc, (v) => v >= g.minAuc, 'holdout AUC');
      check('model_brier', model.metrics.brier, g.maxBrier, (v) => v <= g.maxBrier, 'holdout Brier score');
      check('fairness_gap', model.fairness.maxAucGap, g.maxFairnessGap, (v) => v <= g.maxFairnessGap, `largest AUC gap across ${model.fairness.segment} groups`);

      const pii = await scanForPii(wh, dataPath);
      checks.push({ name: 'pii_scan', passed: pii.hits === 0, value: pii.hits, limit: 0, detail: pii.hits ? `raw PII found in ${pii.where.join(', ')}` : `no raw e-mail or phone values in ${dataPath.length} tables` });

      const rowsWritten = dataPath.reduce((n, m) => n + m.rows, 0);
      check('cost_rows_scanned', rowsWritten, g.maxRowsScanned, (v) => v <= g.maxRowsScanned, 'rows processed by the data path');
      const slowest = Math.max(0, ...dataPath.map((m) => m.seconds));
      check('latency_seconds', slowest, g.maxStepSeconds, (v) => v <= g.maxStepSeconds, 'slowest data model (s)');

      return { passed: checks.every((c) => c.passed), checks };
    },
  };
}

function round(v: number): number {
  return Number(v.toPrecision(4));
}
