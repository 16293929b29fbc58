import type { DriftFeatureRow, UseCaseDrift } from '../../domain/loops/results';
import { log } from '@temporalio/activity';
import { computeDrift } from '../../analytics/drift';
import type { DriftThresholds } from '../../domain/drift';
import { PROPENSITY_FEATURES } from '../../domain/propensity/features';
import type { RolloutContext } from '../../domain/rollout/context';
import { NonRetryableError } from '../../domain/errors';
import { formatTable, storedTableRef, type TableRef } from '../../domain/table-ref';
import type { QueryContext, Warehouse } from '../../warehouse/warehouse';
import { withQueryContext } from '../../warehouse/scoped';
import type { ActivityDependencies } from '../dependencies';
import { stableJson, upsertAimoRow } from '../../store/aimo-tables';
import { stepQueryContext } from '../../store/query-context';
import { renderDriftMarkdown, type DriftPageData } from '../../reports/drift-page';
import { escapeMarkdown, markdownCode } from '../../reports/escape';
import { storeReports } from '../rollout/report';



type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const CATEGORICAL_FEATURES = ['segment', 'device'] as const;

export function createDriftActivities(deps: ActivityDependencies) {
  const { warehouse } = deps;
  return {
    /**
     * Drift of the current window against the champion's training reference,
     * all in SQL: per-feature PSI / KS / Jensen–Shannon, prediction drift on
     * the champion's scores, and the dataset verdict. Recorded per workflow.
     */
    async computeUseCaseDrift(input: {
      ctx: RolloutContext;
      championVersionId: string;
      referenceFeatures: TableRef;
      currentFeatures: TableRef;
      referenceScores: TableRef;
      currentScores: TableRef;
      thresholds: Partial<DriftThresholds>;
      /** The current window, for people reading why it is empty (absent from checks scheduled before it was passed) */
      window?: { from: string; to: string };
      /** The champion plan's byte budget per query (BigQuery) */
      maxBytesScanned?: number;
    }): Promise<UseCaseDrift> {
      const queryContext = stepQueryContext(input.ctx, input.maxBytesScanned);
      await requireRows(warehouse, input, queryContext);
      const features = await computeDrift(warehouse, {
        reference: { table: storedTableRef(input.referenceFeatures) },
        current: { table: storedTableRef(input.currentFeatures) },
        numericFeatures: [...PROPENSITY_FEATURES],
        categoricalFeatures: [...CATEGORICAL_FEATURES],
        thresholds: input.thresholds,
      }, queryContext);
      const prediction = await computeDrift(warehouse, {
        reference: { table: storedTableRef(input.referenceScores) },
        current: { table: storedTableRef(input.currentScores) },
        prediction: 'score',
        thresholds: input.thresholds,
      }, queryContext);
      const rows: DriftFeatureRow[] = [...features.features, ...prediction.features].map((f) => ({
        feature: f.feature,
        kind: f.kind,
        psi: f.psi ?? null,
        ks: 'ks' in f ? (f.ks ?? null) : null,
        jsDistance: f.jsDistance ?? null,
        drifted: f.drifted,
        reason: f.reason,
      }));
      const predictionDrift = prediction.features.some((f) => f.drifted);
      const result: Mutable<UseCaseDrift> = {
        datasetDrift: features.datasetDrift,
        predictionDrift,
        driftedShare: features.driftedShare,
        driftedFeatures: features.features.filter((f) => f.drifted).map((f) => f.feature),
        features: rows,
        referenceRows: features.referenceRows,
        currentRows: features.currentRows,
      };
      await upsertAimoRow(warehouse, 'drift_reports', {
        workflow_id: input.ctx.workflowId,
        use_case: input.ctx.useCase,
        champion_version: input.championVersionId,
        dataset_drift: result.datasetDrift,
        drifted_share: result.driftedShare,
        // The window goes with the stored report, so the latest check of a champion can be told (store/metrics.ts).
        report_json: stableJson(input.window ? { ...result, window: input.window } : result),
      });
      const page: DriftPageData = {
        workflowId: input.ctx.workflowId,
        useCase: input.ctx.useCase,
        champion: input.championVersionId,
        ...(input.window ? { window: input.window } : {}),
        ...result,
        features: [...features.features, ...prediction.features],
      };
      // The check's report: the JSON with every bin its page is drawn from, and a Markdown twin. Checks run nightly and are
      // rarely opened, so the page itself is drawn when someone opens it (webhooks/routes/reports.ts), not here.
      // Under the step's query context like its other statements: the budget and labels cover the report's writes too.
      const written = await storeReports({ ...deps, warehouse: withQueryContext(warehouse, queryContext) }, {
        workflowId: input.ctx.workflowId,
        useCase: input.ctx.useCase,
        kind: 'drift',
        contents: {
          md: renderDriftMarkdown(page, escapeMarkdown, markdownCode),
          json: JSON.stringify(page, null, 2),
        },
      });
      if (written.url) result.reportUrl = written.url;
      log.info('drift computed', { datasetDrift: result.datasetDrift, drifted: result.driftedFeatures });
      return result;
    },
  };
}

/** No drift statistic is computed against an empty window: its PSI would be all epsilon and read as a huge shift. */
async function requireRows(
  warehouse: Warehouse,
  input: { referenceFeatures: TableRef; currentFeatures: TableRef; window?: { from: string; to: string } },
  queryContext: QueryContext,
): Promise<void> {
  const d = warehouse.dialect;
  const [row] = await warehouse.query<{ reference: unknown; current: unknown }>(
    `SELECT (SELECT COUNT(*) FROM ${d.table(storedTableRef(input.referenceFeatures))}) AS reference,
            (SELECT COUNT(*) FROM ${d.table(storedTableRef(input.currentFeatures))}) AS current`,
    {},
    queryContext,
  );
  if (Number(row?.reference ?? 0) === 0) {
    throw new NonRetryableError('EmptyWindow', `the champion's training reference ${formatTable(storedTableRef(input.referenceFeatures))} has no rows: no drift can be measured against it`);
  }
  if (Number(row?.current ?? 0) === 0) {
    throw new NonRetryableError('EmptyWindow', `no users in the drift window${input.window ? ` ${input.window.from} – ${input.window.to} (exclusive)` : ''}: check that the sources hold data for it, or pass another asOf`);
  }
}
