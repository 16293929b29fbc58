import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { rolloutReadout } from '../../domain/rollout/readout';
import { reportUrl } from '../../domain/rollout/report-url';
import type { RolloutResult } from '../../domain/rollout/result';
import { maskEmails } from '../../reports/escape';
import { renderRolloutMarkdown } from '../../reports/rollout-markdown';
import { renderRolloutHtml } from '../../reports/rollout-page';
import type { BanditRoundRecord } from '../../reports/charts/bandit';
import { loadBanditRounds, saveReport, type ReportFormat, type StoredReport } from '../../store/reports';
import type { Warehouse } from '../../warehouse/warehouse';
import type { ActivityDependencies } from '../dependencies';

export { renderRolloutMarkdown } from '../../reports/rollout-markdown';

/** Where a run's reports are, on the shared server and in the local cache. */
export interface WrittenReport {
  readonly jsonPath: string;
  readonly markdownPath: string;
  readonly htmlPath: string;
  /** The HTML page on aimo's HTTP server, when a base URL is configured */
  readonly url?: string;
}

function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Write-then-rename, so a crash mid-write never leaves half a report. */
function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}


/** Links from one format of a report to the others, relative so they work on any host and in the local folder. */
export const formatLinks = (workflowId: string) => ({ markdown: `${encodeURIComponent(workflowId)}.md`, json: `${encodeURIComponent(workflowId)}.json` });

/**
 * When the run wrote its report: the time the activity was scheduled, the
 * same for every retry of it, so a retried write leaves the same row.
 */
function writtenAt(): string {
  try {
    return new Date(Context.current().info.scheduledTimestampMs).toISOString();
  } catch {
    return new Date().toISOString();
  }
}

/**
 * A run's report in its three formats, stored in the warehouse (aimo.reports,
 * where every worker and reader finds it) and then cached in <data>/reports.
 * Both writes overwrite in place, so running it twice leaves what once does.
 */
export async function storeReports(
  deps: Pick<ActivityDependencies, 'warehouse' | 'dataDir' | 'reportBaseUrl'>,
  report: { workflowId: string; useCase: string; kind: StoredReport['kind']; contents: Record<Exclude<ReportFormat, 'html'>, string> & { html?: string } },
): Promise<WrittenReport> {
  const at = writtenAt();
  for (const format of ['html', 'md', 'json'] as const) {
    const content = report.contents[format];
    if (content !== undefined) await saveReport(deps.warehouse, { workflowId: report.workflowId, format, kind: report.kind, useCase: report.useCase, content, writtenAt: at });
  }
  const dir = join(deps.dataDir, 'reports');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, fileSafe(report.workflowId));
  writeAtomically(`${base}.json`, report.contents.json);
  writeAtomically(`${base}.md`, report.contents.md);
  if (report.contents.html !== undefined) writeAtomically(`${base}.html`, report.contents.html);
  return { jsonPath: `${base}.json`, markdownPath: `${base}.md`, htmlPath: `${base}.html`, ...(deps.reportBaseUrl ? { url: reportUrl(deps.reportBaseUrl, report.workflowId) } : {}) };
}

/** The rounds of every bandit of a content rollout, for its allocation and posterior charts. */
async function banditRounds(warehouse: Warehouse, r: RolloutResult): Promise<Record<string, BanditRoundRecord[]>> {
  const rounds: Record<string, BanditRoundRecord[]> = {};
  for (const b of r.content?.experiments ?? []) rounds[b.experimentId] = await loadBanditRounds(warehouse, b.experimentId);
  return rounds;
}

export function createReportActivities(deps: ActivityDependencies) {
  return {
    /** The result as JSON, a Markdown report and an HTML page with charts, stored in the warehouse and cached in <data>/reports. */
    async writeRolloutReport(result: RolloutResult): Promise<WrittenReport> {
      const base = join(deps.dataDir, 'reports', fileSafe(result.workflowId));
      const url = deps.reportBaseUrl ? reportUrl(deps.reportBaseUrl, result.workflowId) : undefined;
      // The JSON opens with the readout too, report path included, as the workflow's Result does.
      const readout = rolloutReadout({ ...result, reportPath: `${base}.md`, ...(url ? { reportUrl: url } : {}) });
      const { readout: _stale, ...rest } = result;
      // A report is read by more people than the plan's authors: the owner's e-mail address is masked in every format.
      const shown: RolloutResult = rest.plan.owner ? { ...rest, plan: { ...rest.plan, owner: maskEmails(rest.plan.owner) } } : rest;
      const contents = {
        json: JSON.stringify({ readout, ...shown }, null, 2),
        md: renderRolloutMarkdown(shown, url ? { html: url } : {}),
        html: await renderRolloutHtml(shown, { banditRounds: await banditRounds(deps.warehouse, result), formats: formatLinks(result.workflowId) }),
      };
      return storeReports(deps, { workflowId: result.workflowId, useCase: result.useCase, kind: 'rollout', contents });
    },
  };
}
