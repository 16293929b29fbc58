import type { SourceReport, InventoryReport } from '../../domain/propensity/results';
import { log } from '@temporalio/activity';
import type { RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import type { ColumnInfo, Warehouse } from '../../warehouse/warehouse';
import type { ActivityDependencies } from '../dependencies';
import { formatTable } from '../../domain/table-ref';
import { stepWarehouse } from '../../store/query-context';
import { stableJson, upsertAimoRow } from '../../store/aimo-tables';
import { sourceTable, type SourceName } from '../../domain/propensity/sources';

type TypeFamily = 'string' | 'number' | 'timestamp' | 'date' | 'bool';

interface SourceContract {
  readonly key: readonly string[];
  readonly columns: Readonly<Record<string, TypeFamily>>;
  readonly notNull: readonly string[];
  readonly freshness: string;
}

/** What aimo expects of each source; a plan maps table names, the columns are the contract. */
export const SOURCE_CONTRACTS: Readonly<Record<SourceName, SourceContract>> = {
  users: { key: ['user_id'], columns: { user_id: 'string', email: 'string', phone: 'string', market: 'string', segment: 'string', device: 'string', signup_date: 'date' }, notNull: ['user_id', 'market'], freshness: 'signup_date' },
  identities: { key: ['user_id', 'identity_type', 'identity_value'], columns: { user_id: 'string', identity_type: 'string', identity_value: 'string' }, notNull: ['user_id', 'identity_type'], freshness: 'first_seen' },
  consent: { key: ['user_id', 'purpose'], columns: { user_id: 'string', purpose: 'string', granted: 'bool', updated_at: 'timestamp' }, notNull: ['user_id', 'granted'], freshness: 'updated_at' },
  sessions: { key: ['session_id'], columns: { session_id: 'string', user_id: 'string', started_at: 'timestamp', channel: 'string', market: 'string' }, notNull: ['session_id', 'user_id', 'channel'], freshness: 'started_at' },
  events: { key: ['event_id'], columns: { event_id: 'string', user_id: 'string', session_id: 'string', event_type: 'string', event_ts: 'timestamp' }, notNull: ['event_id', 'user_id', 'event_type'], freshness: 'event_ts' },
  orders: { key: ['order_id'], columns: { order_id: 'string', user_id: 'string', order_ts: 'timestamp', channel: 'string', market: 'string', revenue: 'number', margin: 'number', returned: 'bool' }, notNull: ['order_id', 'user_id', 'revenue'], freshness: 'order_ts' },
  spend: { key: ['spend_date', 'channel', 'market', 'campaign_id'], columns: { spend_date: 'date', channel: 'string', market: 'string', campaign_id: 'string', spend: 'number' }, notNull: ['spend_date', 'channel', 'spend'], freshness: 'spend_date' },
};



function typeFamily(warehouseType: string): TypeFamily | 'other' {
  const t = warehouseType.toUpperCase();
  if (/^(VARCHAR|STRING|TEXT|CHAR)/.test(t)) return 'string';
  if (/^(BIGINT|INT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|DOUBLE|FLOAT|REAL|DECIMAL|NUMERIC|NUMBER|BIGNUMERIC)/.test(t)) return 'number';
  if (/^TIMESTAMP|^DATETIME/.test(t)) return 'timestamp';
  if (/^DATE$/.test(t)) return 'date';
  if (/^BOOL/.test(t)) return 'bool';
  return 'other';
}

function schemaProblems(contract: SourceContract, columns: ColumnInfo[]): string[] {
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(contract.columns)) {
    const column = byName.get(name);
    if (!column) {
      problems.push(`missing column ${name} (${expected})`);
      continue;
    }
    const actual = typeFamily(column.type);
    const compatible = actual === expected || (expected === 'date' && actual === 'timestamp') || (expected === 'timestamp' && actual === 'date');
    if (!compatible) problems.push(`column ${name} is ${column.type}, expected ${expected}`);
  }
  return problems;
}

async function inspectSource(wh: Warehouse, plan: RolloutPlan, source: SourceName): Promise<SourceReport> {
  const ref = sourceTable(plan, source);
  const table = formatTable(ref);
  const contract = SOURCE_CONTRACTS[source];
  const empty = { source, table: ref, rows: 0, newest: null, stalenessHours: null, nullRates: {}, duplicateRate: null, warnings: [] };
  if (!(await wh.tableExists(ref))) {
    return { ...empty, exists: false, schemaProblems: [], blocking: [`${source}: table ${table} does not exist (map it under sources.${source} in the plan)`] };
  }
  const problems = schemaProblems(contract, await wh.columns(ref));
  if (problems.length > 0) {
    return { ...empty, exists: true, schemaProblems: problems, blocking: problems.map((p) => `${source} (${table}): ${p}`) };
  }
  const q = (c: string) => wh.dialect.quote(c);
  const t = wh.dialect.table(ref);
  const nullSums = contract.notNull.map((c, i) => `SUM(CASE WHEN ${q(c)} IS NULL THEN 1 ELSE 0 END) AS n${i}`).join(', ');
  const keys = contract.key.map(q).join(', ');
  const [stats] = await wh.query<Record<string, unknown>>(
    `SELECT COUNT(*) AS row_count, MAX(${q(contract.freshness)}) AS newest, ${nullSums},
            (SELECT COUNT(*) FROM (SELECT ${keys} FROM ${t} GROUP BY ${keys}) k) AS distinct_keys
     FROM ${t}`,
  );
  const rows = Number(stats?.['row_count'] ?? 0);
  const nullRates: Record<string, number> = {};
  contract.notNull.forEach((c, i) => (nullRates[c] = rows > 0 ? Number(stats?.[`n${i}`] ?? 0) / rows : 0));
  const duplicateRate = rows > 0 ? 1 - Number(stats?.['distinct_keys'] ?? 0) / rows : 0;
  const newestValue = stats?.['newest'];
  const newest = newestValue instanceof Date ? newestValue.toISOString() : newestValue == null ? null : String(newestValue);
  const asOf = Date.parse(`${plan.windows.asOf}T00:00:00Z`);
  const stalenessHours = newest ? Math.max(0, (asOf - Date.parse(newest.length === 10 ? `${newest}T00:00:00Z` : newest)) / 3_600_000) : null;

  const blocking: string[] = [];
  const warnings: string[] = [];
  if (rows === 0) blocking.push(`${source} (${table}) is empty`);
  for (const [column, rate] of Object.entries(nullRates)) {
    if (rate > plan.inventory.maxNullRate) {
      blocking.push(`${source}.${column}: ${(rate * 100).toFixed(2)} % nulls, more than the plan's ${(plan.inventory.maxNullRate * 100).toFixed(2)} %`);
    }
  }
  if (duplicateRate > plan.inventory.maxDuplicateRate) {
    blocking.push(`${source}: ${(duplicateRate * 100).toFixed(2)} % duplicate keys (${contract.key.join(', ')}), more than the plan's ${(plan.inventory.maxDuplicateRate * 100).toFixed(2)} %`);
  } else if (duplicateRate > 0) {
    warnings.push(`${source}: ${(duplicateRate * 100).toFixed(3)} % duplicate keys; the data path de-duplicates them`);
  }
  if (stalenessHours !== null && stalenessHours > plan.inventory.maxStalenessHours) {
    warnings.push(`${source}: newest row is ${Math.round(stalenessHours)} h older than asOf (limit ${plan.inventory.maxStalenessHours} h)`);
  }
  return { source, table: ref, exists: true, rows, newest, stalenessHours, nullRates, duplicateRate, schemaProblems: [], blocking, warnings };
}

async function coverage(wh: Warehouse, plan: RolloutPlan): Promise<{ consent: number | null; identity: number | null }> {
  const q = (c: string) => wh.dialect.quote(c);
  const users = wh.dialect.table(sourceTable(plan, 'users'));
  const consent = wh.dialect.table(sourceTable(plan, 'consent'));
  const identities = wh.dialect.table(sourceTable(plan, 'identities'));
  const [row] = await wh.query<{ users: number; consented: number; matched: number }>(
    `SELECT
       (SELECT COUNT(*) FROM ${users}) AS users,
       (SELECT COUNT(DISTINCT c.${q('user_id')}) FROM ${consent} c JOIN ${users} u ON u.${q('user_id')} = c.${q('user_id')}
          WHERE c.${q('purpose')} = 'marketing' AND c.${q('granted')}) AS consented,
       (SELECT COUNT(DISTINCT i.${q('user_id')}) FROM ${identities} i JOIN ${users} u ON u.${q('user_id')} = i.${q('user_id')}
          WHERE i.${q('identity_type')} = 'crm_id') AS matched`,
  );
  const total = Number(row?.users ?? 0);
  return total > 0 ? { consent: Number(row?.consented ?? 0) / total, identity: Number(row?.matched ?? 0) / total } : { consent: null, identity: null };
}

export function createInventoryActivities({ warehouse }: ActivityDependencies) {
  return {
    /** Step 2: inspects every source the plan maps; blocking gaps and warnings, by source. */
    async inventorySources({ ctx, plan }: { ctx: RolloutContext; plan: RolloutPlan }): Promise<InventoryReport> {
      const wh = stepWarehouse(warehouse, ctx, plan);
      const sources = await Promise.all((Object.keys(SOURCE_CONTRACTS) as SourceName[]).map((s) => inspectSource(wh, plan, s)));
      const blocking = sources.flatMap((s) => s.blocking);
      const warnings = sources.flatMap((s) => s.warnings);
      let consentCoverage: number | null = null;
      let identityMatchRate: number | null = null;
      const needed = ['users', 'consent', 'identities'];
      if (sources.filter((s) => needed.includes(s.source)).every((s) => s.blocking.length === 0)) {
        const c = await coverage(wh, plan);
        consentCoverage = c.consent;
        identityMatchRate = c.identity;
        if (consentCoverage !== null && consentCoverage < plan.inventory.minConsentCoverage) {
          blocking.push(`consent: only ${(consentCoverage * 100).toFixed(1)} % of users consented to marketing; the plan needs ${(plan.inventory.minConsentCoverage * 100).toFixed(1)} %`);
        }
        if (identityMatchRate !== null && identityMatchRate < plan.inventory.minIdentityMatchRate) {
          warnings.push(`identities: ${(identityMatchRate * 100).toFixed(1)} % of users have a CRM identity, below the plan's ${(plan.inventory.minIdentityMatchRate * 100).toFixed(1)} %`);
        }
      }
      const report: InventoryReport = { sources, consentCoverage, identityMatchRate, blocking, warnings, rowsScanned: sources.reduce((n, s) => n + s.rows, 0) };
      for (const source of sources) {
        await upsertAimoRow(warehouse, 'inventory_reports', {
          workflow_id: ctx.workflowId,
          source: source.source,
          use_case: ctx.useCase,
          report_json: stableJson(source),
          blocking: source.blocking.length,
          warnings: source.warnings.length,
        });
      }
      log.info('data inventory done', { blocking: blocking.length, warnings: warnings.length });
      return report;
    },
  };
}
