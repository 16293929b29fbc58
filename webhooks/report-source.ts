import type { ReportFormat, StoredReport } from '../store/reports';

/** Where the report routes read from: aimo.reports in the stack's warehouse, or a stand-in in tests. */
export interface ReportSource {
  load(workflowId: string, format: ReportFormat): Promise<StoredReport | undefined>;
}
