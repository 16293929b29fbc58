import type { BanditRoundRecord } from '../reports/charts/bandit';
import type { Warehouse } from '../warehouse/warehouse';
import { aimoTable, ensureAimoTables, upsertAimoRow } from './aimo-tables';

export const REPORT_FORMATS = ['html', 'md', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const REPORT_CONTENT_TYPES: Record<ReportFormat, string> = {
  html: 'text/html; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/** One report of a run in one format, as aimo.reports keeps it. */
export interface StoredReport {
  readonly workflowId: string;
  readonly format: ReportFormat;
  /** What kind of run wrote it: a rollout or a drift check */
  readonly kind: 'rollout' | 'drift';
  readonly useCase: string;
  readonly content: string;
  /** When its run wrote it (ISO); retention keeps it as long as the run's tables */
  readonly writtenAt: string;
}

/** Where every worker and reader finds a run's reports: one row per (workflow, format), overwritten by a rewrite. */
export function saveReport(wh: Warehouse, report: StoredReport): Promise<void> {
  return upsertAimoRow(wh, 'reports', {
    workflow_id: report.workflowId,
    format: report.format,
    kind: report.kind,
    use_case: report.useCase,
    content: report.content,
    written_at: report.writtenAt,
  });
}

export async function loadReport(wh: Warehouse, workflowId: string, format: ReportFormat): Promise<StoredReport | undefined> {
  await ensureAimoTables(wh);
  const q = (c: string) => wh.dialect.quote(c);
  const [row] = await wh.query<{ kind: string; use_case: string; content: string; written_at: string }>(
    `SELECT ${q('kind')} AS kind, ${q('use_case')} AS use_case, ${q('content')} AS content, ${q('written_at')} AS written_at
     FROM ${wh.dialect.table(aimoTable('reports'))} WHERE ${q('workflow_id')} = @workflow_id AND ${q('format')} = @format`,
    { workflow_id: workflowId, format },
  );
  if (!row) return undefined;
  return { workflowId, format, kind: row.kind === 'drift' ? 'drift' : 'rollout', useCase: String(row.use_case), content: String(row.content), writtenAt: String(row.written_at) };
}

/** Deletes the reports written before `cutoff` (ISO), of one use case or all; returns how many rows went. Running it twice deletes nothing more. */
export async function pruneReports(wh: Warehouse, cutoff: string, useCase?: string): Promise<number> {
  await ensureAimoTables(wh);
  const q = (c: string) => wh.dialect.quote(c);
  const table = wh.dialect.table(aimoTable('reports'));
  const where = `${q('written_at')} < @cutoff${useCase ? ` AND ${q('use_case')} = @use_case` : ''}`;
  const params = { cutoff, ...(useCase ? { use_case: useCase } : {}) };
  const [row] = await wh.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params);
  const n = Number(row?.n ?? 0);
  if (n > 0) await wh.execute(`DELETE FROM ${table} WHERE ${where}`, params);
  return n;
}

/** A bandit's rounds in order, as the report's allocation and posterior charts draw them. */
export async function loadBanditRounds(wh: Warehouse, experimentId: string): Promise<BanditRoundRecord[]> {
  await ensureAimoTables(wh);
  const q = (c: string) => wh.dialect.quote(c);
  const rows = await wh.query<{ round: unknown; allocation_json: string; stats_json: string }>(
    `SELECT ${q('round')} AS round, ${q('allocation_json')} AS allocation_json, ${q('stats_json')} AS stats_json
     FROM ${wh.dialect.table(aimoTable('bandit_rounds'))} WHERE ${q('experiment_id')} = @experiment_id ORDER BY ${q('round')}`,
    { experiment_id: experimentId },
  );
  return rows.map((r) => {
    const allocation = JSON.parse(r.allocation_json) as { shares?: Record<string, number> };
    const stats = JSON.parse(r.stats_json) as unknown;
    return { round: Number(r.round), shares: allocation.shares ?? {}, arms: Array.isArray(stats) ? (stats as BanditRoundRecord['arms']) : [] };
  });
}
