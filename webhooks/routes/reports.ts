import type { FastifyReply } from 'fastify';
import { renderDriftHtml, type DriftPageData } from '../../reports/drift-page';
import { REPORT_CONTENT_TYPES, type ReportFormat, type StoredReport } from '../../store/reports';
import type { ReportSource } from '../report-source';
import { HttpError } from '../errors';
import type { RegisterRoutes } from './shared';

/**
 * The page forbids every script, frame, form and outside resource: it is
 * self-contained (inline SVG, inline style), so nothing it holds can run even
 * if a piece of free text slipped past the escaping.
 */
const REPORT_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const;

/** "<id>", "<id>.html", "<id>.md" or "<id>.json" → the id and the format. */
export function parseReportName(name: string): { workflowId: string; format: ReportFormat } {
  const match = /^(.+)\.(html|md|json)$/.exec(name);
  return match ? { workflowId: match[1]!, format: match[2] as ReportFormat } : { workflowId: name, format: 'html' };
}

/**
 * GET /reports/<workflowId> (HTML; .md and .json too): the report a
 * rollout or drift check stored when it ended. Read-only and unsigned, like
 * the health routes: a report holds aggregates, masked owners and no secrets.
 */
export const registerReportRoutes: RegisterRoutes = (app, deps) => {
  app.get<{ Params: { name: string } }>('/reports/:name', async (request, reply: FastifyReply) => {
    if (!deps.reports) throw new HttpError(503, 'reports are not served by this server: it has no warehouse to read them from (run it with `npm start`)');
    const { workflowId, format } = parseReportName(request.params.name);
    const report = await deps.reports.load(workflowId, format) ?? (format === 'html' ? await drawnPage(deps.reports, workflowId) : undefined);
    if (!report) {
      throw new HttpError(
        404,
        `no report for workflow "${workflowId}": a rollout or drift check stores its report when it ends, so it is still running, never ran under this id, or was removed by retention (check with: npx aimo status ${workflowId})`,
      );
    }
    return reply.headers(REPORT_HEADERS).type(REPORT_CONTENT_TYPES[format]).send(report.content);
  });
};

/**
 * A drift check stores its JSON and Markdown; its page is drawn from the
 * JSON when someone opens it (a nightly check is rarely looked at, and the
 * charts cost about a second to draw).
 */
async function drawnPage(reports: ReportSource, workflowId: string): Promise<StoredReport | undefined> {
  const json = await reports.load(workflowId, 'json');
  if (!json || json.kind !== 'drift') return undefined;
  const id = encodeURIComponent(workflowId);
  const content = await renderDriftHtml(JSON.parse(json.content) as DriftPageData, { markdown: `${id}.md`, json: `${id}.json` });
  return { ...json, format: 'html', content };
}
