import { NonRetryableError } from '../domain/errors';
import { AIMO_SCHEMA, useCaseIdentifier } from '../domain/naming';
import { aimoTable, ensureAimoTables, upsertAimoRow } from '../store/aimo-tables';
import { storedTableRef, tableRef, type TableRef } from '../domain/table-ref';
import type { Warehouse } from '../warehouse/warehouse';

export type ModelAlias = 'champion' | 'challenger' | 'previous';

export interface RegisteredVersion {
  readonly versionId: string;
  readonly useCase: string;
  readonly status: string;
  /** The version's batch scores; versions registered without one cannot serve */
  readonly scoresTable?: TableRef;
  readonly metrics: Record<string, unknown>;
  readonly lineage: Record<string, unknown>;
  readonly model: unknown;
}

/** The stable view activation reads: aimo.<use case>_serving. */
export function servingView(useCase: string): TableRef {
  return tableRef(`${useCaseIdentifier(useCase)}_serving`, AIMO_SCHEMA);
}

export async function getVersion(wh: Warehouse, versionId: string): Promise<RegisteredVersion | undefined> {
  await ensureAimoTables(wh);
  const q = (c: string) => wh.dialect.quote(c);
  const [row] = await wh.query<Record<string, string>>(
    `SELECT ${q('version_id')}, ${q('use_case')}, ${q('status')}, ${q('metrics_json')}, ${q('lineage_json')}, ${q('model_json')}
     FROM ${wh.dialect.table(aimoTable('model_registry'))} WHERE ${q('version_id')} = @version_id`,
    { version_id: versionId },
  );
  if (!row) return undefined;
  const lineage = JSON.parse(row['lineage_json'] ?? '{}') as Record<string, unknown>;
  return {
    versionId: row['version_id']!,
    useCase: row['use_case']!,
    status: row['status']!,
    ...(lineage['scoresTable'] ? { scoresTable: storedTableRef(lineage['scoresTable'] as TableRef | string) } : {}),
    metrics: JSON.parse(row['metrics_json'] ?? '{}') as Record<string, unknown>,
    lineage,
    model: JSON.parse(row['model_json'] ?? 'null'),
  };
}

/** Lineage keys that name a version's tables: the features it was trained on, the scores it serves. */
const LINEAGE_TABLES = ['featuresTable', 'scoresTable'] as const;

/**
 * Every table a registered version's lineage names, with the version: what
 * must outlive the run that wrote it, since any version can be served again
 * (a rollback to a named version) or read as a drift reference.
 */
export async function versionTables(wh: Warehouse): Promise<Array<{ versionId: string; table: TableRef }>> {
  await ensureAimoTables(wh);
  const q = (c: string) => wh.dialect.quote(c);
  const rows = await wh.query<{ version_id: string; lineage_json: string | null }>(
    `SELECT ${q('version_id')} AS version_id, ${q('lineage_json')} AS lineage_json FROM ${wh.dialect.table(aimoTable('model_registry'))}`,
  );
  return rows.flatMap((row) => {
    const lineage = JSON.parse(row.lineage_json ?? '{}') as Record<string, unknown>;
    return LINEAGE_TABLES.filter((key) => lineage[key]).map((key) => ({
      versionId: row.version_id,
      table: storedTableRef(lineage[key] as TableRef | string),
    }));
  });
}

/** A registered version, or a refusal that names it: loops cannot work with a version that does not exist. */
export async function requireVersion(wh: Warehouse, versionId: string): Promise<RegisteredVersion> {
  const version = await getVersion(wh, versionId);
  if (!version) throw new NonRetryableError('UnknownModelVersion', `model version ${versionId} is not in the registry`);
  return version;
}

export async function getAlias(wh: Warehouse, useCase: string, alias: ModelAlias): Promise<string | undefined> {
  await ensureAimoTables(wh);
  const q = (c: string) => wh.dialect.quote(c);
  const [row] = await wh.query<{ version_id: string }>(
    `SELECT ${q('version_id')} AS version_id FROM ${wh.dialect.table(aimoTable('model_aliases'))}
     WHERE ${q('use_case')} = @use_case AND ${q('alias')} = @alias`,
    { use_case: useCase, alias },
  );
  return row?.version_id || undefined;
}

export async function setAlias(
  wh: Warehouse,
  change: { useCase: string; alias: ModelAlias; versionId: string; by: string; reason: string; at: string },
): Promise<void> {
  await upsertAimoRow(wh, 'model_aliases', {
    use_case: change.useCase,
    alias: change.alias,
    version_id: change.versionId,
    updated_by: change.by,
    reason: change.reason,
    updated_at: change.at,
  });
}

export async function setVersionStatus(wh: Warehouse, versionId: string, status: string): Promise<void> {
  const q = (c: string) => wh.dialect.quote(c);
  await wh.execute(
    `UPDATE ${wh.dialect.table(aimoTable('model_registry'))} SET ${q('status')} = @status WHERE ${q('version_id')} = @version_id`,
    { status, version_id: versionId },
  );
}

/** The scores table a version serves from; a version registered without one cannot serve. */
export function servedScores(version: RegisteredVersion): TableRef {
  if (!version.scoresTable) throw new NonRetryableError('VersionWithoutScores', `model version ${version.versionId} has no scores table to serve`);
  return version.scoresTable;
}

/** Points the serving view at one version's scores: one CREATE OR REPLACE VIEW, atomic in every warehouse. */
export async function switchServing(wh: Warehouse, useCase: string, version: RegisteredVersion): Promise<void> {
  const q = (c: string) => wh.dialect.quote(c);
  await wh.execute(
    wh.dialect.createOrReplaceView(
      servingView(useCase),
      `SELECT ${q('user_id')}, ${q('score')}, ${q('version_id')} FROM ${wh.dialect.table(servedScores(version))}`,
    ),
  );
}

/**
 * Makes a version the champion: the old champion becomes `previous`, then the
 * view switches. Promoting the current champion again changes nothing.
 */
export async function promote(
  wh: Warehouse,
  change: { useCase: string; versionId: string; by: string; reason: string; at: string },
): Promise<{ previous?: string; changed: boolean }> {
  const version = await getVersion(wh, change.versionId);
  if (!version) throw new NonRetryableError('UnknownModelVersion', `model version ${change.versionId} is not in the registry`);
  const current = await getAlias(wh, change.useCase, 'champion');
  if (current === change.versionId) {
    await switchServing(wh, change.useCase, version);
    return { ...(await previousOf(wh, change.useCase)), changed: false };
  }
  // The champion alias moves last before the view: a retry after a crash either redoes every write or, if
  // the alias already moved, finds the champion in place and only switches the view.
  if (current) {
    await setAlias(wh, { ...change, alias: 'previous', versionId: current });
    await setVersionStatus(wh, current, 'previous');
  }
  await setVersionStatus(wh, change.versionId, 'champion');
  await setAlias(wh, { ...change, alias: 'champion' });
  await switchServing(wh, change.useCase, version);
  return { ...(current ? { previous: current } : {}), changed: true };
}

async function previousOf(wh: Warehouse, useCase: string): Promise<{ previous?: string }> {
  const previous = await getAlias(wh, useCase, 'previous');
  return previous ? { previous } : {};
}

/** Statuses of versions that failed a gate: never served again by a rollback. */
const UNSERVABLE = new Set(['rejected', 'failed']);

/**
 * The version a rollback serves: the named one, or else the previous one —
 * unless the previous version is the one a rollback already moved away from,
 * in which case the champion stays (asking twice rolls back once). Refuses
 * versions that do not exist for the use case or failed their gates.
 */
export async function rollbackTarget(wh: Warehouse, useCase: string, toVersion?: string): Promise<{ from?: string; to: string }> {
  const champion = await getAlias(wh, useCase, 'champion');
  let target = toVersion;
  if (!target) {
    const previous = await getAlias(wh, useCase, 'previous');
    if (!previous) throw new NonRetryableError('NoPreviousVersion', `${useCase} has no previous version to roll back to; name one with toVersion`);
    const rolledBackFrom = (await getVersion(wh, previous))?.status === 'rolled_back';
    target = rolledBackFrom && champion ? champion : previous;
  }
  const version = await getVersion(wh, target);
  if (!version || version.useCase !== useCase) {
    throw new NonRetryableError('UnknownModelVersion', `model version ${target} does not exist for use case ${useCase}; pick one from aimo.model_registry`);
  }
  if (UNSERVABLE.has(version.status)) {
    throw new NonRetryableError('VersionFailedGates', `model version ${target} is ${version.status} (it failed its gates) and cannot serve; pick another version`);
  }
  return { ...(champion ? { from: champion } : {}), to: target };
}

/**
 * Moves serving to the rollback target in one switch: champion and previous
 * swap, the view switches. A second call with the same target, or a retry
 * after a crash part-way, leaves the state of one call.
 */
export async function rollbackTo(
  wh: Warehouse,
  change: { useCase: string; toVersion?: string; by: string; reason: string; at: string },
): Promise<{ from?: string; to: string; changed: boolean }> {
  const { from: champion, to: target } = await rollbackTarget(wh, change.useCase, change.toVersion);
  const version = (await getVersion(wh, target))!;
  if (champion === target) {
    await switchServing(wh, change.useCase, version);
    return { to: target, changed: false };
  }
  if (champion) {
    await setAlias(wh, { useCase: change.useCase, alias: 'previous', versionId: champion, by: change.by, reason: change.reason, at: change.at });
    await setVersionStatus(wh, champion, 'rolled_back');
  }
  // As in promote: the champion alias moves last before the view.
  await setVersionStatus(wh, target, 'champion');
  await setAlias(wh, { useCase: change.useCase, alias: 'champion', versionId: target, by: change.by, reason: change.reason, at: change.at });
  await switchServing(wh, change.useCase, version);
  return { ...(champion ? { from: champion } : {}), to: target, changed: true };
}
