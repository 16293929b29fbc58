import { activityInfo, heartbeat, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { NonRetryableError } from '../domain/errors';
import { AIMO_SCHEMA, longHash, shortHash } from '../domain/naming';
import { parseOrRefuse } from '../domain/loops/inputs';
import { decideRetention, MAX_DROPS_PER_RUN, retentionCutoff, retentionInputSchema, type RetentionEntry, type RetentionPlan, type RetentionRun, type RetentionSettings, type RetiredTable } from '../domain/retention';
import { formatTable, storedTableRef, tableRef } from '../domain/table-ref';
import { openWorkflowIds } from '../platform/open-workflows';
import { versionTables } from '../serving/registry';
import { aimoTable, ensureAimoTables, upsertAimoRow, type AimoTable } from '../store/aimo-tables';
import { pruneReports } from '../store/reports';
import { listTables, type Warehouse } from '../warehouse/warehouse';
import type { ActivityDependencies } from './dependencies';

/**
 * aimo's bookkeeping tables, never dropped. Spelled out as a record over
 * AimoTable so that a table added to store/aimo-tables.ts does not compile
 * here until retention knows of it.
 */
const BOOKKEEPING: Record<AimoTable, true> = {
  kpi_specs: true,
  inventory_reports: true,
  dq_results: true,
  audit_log: true,
  model_registry: true,
  model_aliases: true,
  experiments: true,
  drift_reports: true,
  alerts_sent: true,
  alert_routes: true,
  content_facts: true,
  content_variants: true,
  llm_cache: true,
  llm_usage: true,
  bandit_rounds: true,
  reports: true,
};

/** The audit log's step for retention's rows; its own rows are no run's record. */
const AUDIT_STEP = 'retention';

export function createRetentionActivities({ warehouse, temporalClient }: ActivityDependencies) {
  return {
    /**
     * Everything that decides which per-run tables may go, read in one
     * pass; writes nothing, so a dry run is this activity alone.
     */
    /** The run's settings with every default applied, fixed in its history before anything is read or dropped. */
    async resolveRetentionSettings({ input }: { input: unknown }): Promise<RetentionSettings> {
      return parseOrRefuse(retentionInputSchema, input ?? {}, 'retention');
    },

    async planRetention(run: RetentionRun): Promise<RetentionPlan> {
      await ensureAimoTables(warehouse);
      const [listed, versions, runningHashes, runRecords, firstSeen, nextSeq] = await Promise.all([
        listTables(warehouse, AIMO_SCHEMA),
        versionTables(warehouse),
        runningWorkflowHashes(temporalClient),
        latestRunRecords(warehouse),
        firstSeenSinceLastDrop(warehouse),
        nextAuditSeq(warehouse, run.workflowId),
      ]);
      const plan = decideRetention({
        listed: listed.map(({ createdAt, ...t }) => ({ ...t, ...(createdAt ? { createdAt: createdAt.toISOString() } : {}) })),
        bookkeeping: new Set(Object.keys(BOOKKEEPING)),
        // By name whatever the schema: the names carry the run's hash, so this keeps too much rather than too little.
        versionTables: new Set(versions.map((v) => v.table.name)),
        runningHashes,
        runRecords,
        firstSeen,
        cutoff: retentionCutoff(run.at, run.maxAgeDays),
        nextSeq,
        maxDrops: MAX_DROPS_PER_RUN,
        ...(run.useCase ? { useCase: run.useCase } : {}),
      });
      log.info('retention planned', { runTables: plan.runTables, drop: plan.drop.length, deferred: plan.deferred, firstSeen: plan.firstSeen.length, ...plan.kept });
      return plan;
    },

    /**
     * Records the plan's first-seen tables, then drops its tables, each
     * followed by its audit row. A retry resumes after the last step it
     * heartbeated and repeats any step idempotently (IF EXISTS, upserts
     * keyed by the run and the plan's sequence).
     */
    async retireRunTables({ run, plan }: { run: RetentionRun; plan: RetentionPlan }): Promise<{ dropped: string[] }> {
      let reportsPruned = 0;
      const steps = [
        ...plan.firstSeen.map((entry) => () => recordFirstSeen(warehouse, run, entry)),
        ...plan.drop.map((entry) => () => dropTable(warehouse, run, entry)),
        // Reports are kept as long as the run tables they describe: aimo.reports stays bounded by the same age.
        async () => {
          reportsPruned = await pruneReports(warehouse, retentionCutoff(run.at, run.maxAgeDays), run.useCase);
        },
      ];
      const done = activityInfo().heartbeatDetails;
      for (let i = typeof done === 'number' ? done : 0; i < steps.length; i++) {
        await steps[i]!();
        heartbeat(i + 1);
      }
      log.info('per-run tables retired', { dropped: plan.drop.length, firstSeen: plan.firstSeen.length, reportsPruned });
      return { dropped: plan.drop.map((e) => e.table) };
    },
  };
}

/**
 * Drop, then record: a retry after a crash between the two finds nothing to
 * drop and writes the row; a drop that fails leaves no row claiming it.
 */
async function dropTable(wh: Warehouse, run: RetentionRun, entry: RetiredTable): Promise<void> {
  await wh.execute(wh.dialect.dropTableIfExists(tableRef(entry.table, AIMO_SCHEMA)));
  const age = entry.ageFrom === 'created' ? 'created' : entry.ageFrom === 'run' ? 'last recorded by its run' : 'first seen by retention';
  await upsertAimoRow(wh, 'audit_log', auditRow(run, entry, 'dropped', `older than ${run.maxAgeDays} days (${age} ${entry.since}) and referenced by nothing`, {
    ageFrom: entry.ageFrom,
    since: entry.since,
    maxAgeDays: run.maxAgeDays,
  }));
}

function recordFirstSeen(wh: Warehouse, run: RetentionRun, entry: RetentionEntry): Promise<void> {
  return upsertAimoRow(wh, 'audit_log', auditRow(run, entry, 'first-seen', 'the warehouse keeps no creation time and no record of its run exists: its age counts from now', {}));
}

function auditRow(run: RetentionRun, entry: RetentionEntry, decision: 'dropped' | 'first-seen', reason: string, details: Record<string, unknown>) {
  return {
    workflow_id: run.workflowId,
    seq: entry.seq,
    use_case: entry.useCase,
    step: AUDIT_STEP,
    decision,
    actor: 'aimo',
    reason,
    details_json: JSON.stringify({ table: formatTable(tableRef(entry.table, AIMO_SCHEMA)), ...details }),
    recorded_at: run.at,
  };
}

/** The hash every running workflow's tables carry. */
async function runningWorkflowHashes(client: Client | undefined): Promise<Set<string>> {
  if (!client) {
    throw new NonRetryableError('MissingTemporalClient', 'the worker was built without a Temporal client; retention cannot see which workflows still run, so it drops nothing');
  }
  return new Set((await openWorkflowIds(client)).flatMap((id) => [longHash(id), shortHash(id)]));
}

/** The latest audit row and registered version of each run: how old its tables are where the warehouse does not say. */
async function latestRunRecords(wh: Warehouse): Promise<Array<{ workflowId: string; useCase: string; at: string }>> {
  const q = (c: string) => wh.dialect.quote(c);
  const rows = await wh.query<{ workflow_id: string | null; use_case: string | null; at: string | null }>(
    `SELECT ${q('workflow_id')} AS workflow_id, ${q('use_case')} AS use_case, MAX(${q('recorded_at')}) AS at
     FROM ${wh.dialect.table(aimoTable('audit_log'))} WHERE ${q('step')} <> @step GROUP BY ${q('workflow_id')}, ${q('use_case')}
     UNION ALL
     SELECT ${q('workflow_id')}, ${q('use_case')}, MAX(${q('registered_at')})
     FROM ${wh.dialect.table(aimoTable('model_registry'))} GROUP BY ${q('workflow_id')}, ${q('use_case')}`,
    { step: AUDIT_STEP },
  );
  return rows.flatMap((r) => (r.workflow_id && r.use_case && r.at ? [{ workflowId: r.workflow_id, useCase: r.use_case, at: r.at }] : []));
}

/** When a table nothing else ages was first seen by retention; a drop of it resets that. */
async function firstSeenSinceLastDrop(wh: Warehouse): Promise<Map<string, string>> {
  const q = (c: string) => wh.dialect.quote(c);
  const rows = await wh.query<{ decision: string; details_json: string; recorded_at: string }>(
    `SELECT ${q('decision')} AS decision, ${q('details_json')} AS details_json, ${q('recorded_at')} AS recorded_at
     FROM ${wh.dialect.table(aimoTable('audit_log'))} WHERE ${q('step')} = @step`,
    { step: AUDIT_STEP },
  );
  const named = rows.map((r) => ({ ...r, table: storedTableRef((JSON.parse(r.details_json) as { table: string }).table).name, at: Date.parse(r.recorded_at) }));
  const lastDrop = new Map<string, number>();
  for (const r of named) if (r.decision === 'dropped') lastDrop.set(r.table, Math.max(r.at, lastDrop.get(r.table) ?? -Infinity));
  const seen = new Map<string, string>();
  for (const r of named) {
    if (r.decision !== 'first-seen' || r.at <= (lastDrop.get(r.table) ?? -Infinity)) continue;
    const earlier = seen.get(r.table);
    if (earlier === undefined || r.at < Date.parse(earlier)) seen.set(r.table, r.recorded_at);
  }
  return seen;
}

/** After this run's earlier rows: a workflow id used again (or continued as new) never overwrites them. */
async function nextAuditSeq(wh: Warehouse, workflowId: string): Promise<number> {
  const q = (c: string) => wh.dialect.quote(c);
  const [row] = await wh.query<{ seq: number | null }>(
    `SELECT MAX(${q('seq')}) AS seq FROM ${wh.dialect.table(aimoTable('audit_log'))} WHERE ${q('workflow_id')} = @workflow_id`,
    { workflow_id: workflowId },
  );
  return Number(row?.seq ?? 0) + 1;
}
