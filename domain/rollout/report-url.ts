/** The page of a run's report on aimo's HTTP server: `/reports/<workflowId>`, with `.md` and `.json` beside it. */
export function reportUrl(baseUrl: string, workflowId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/reports/${encodeURIComponent(workflowId)}`;
}
