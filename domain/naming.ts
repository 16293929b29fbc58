/**
 * Deterministic names for what a rollout leaves in the warehouse, keyed by
 * its use case and workflow id: a retried or replayed step writes to the same
 * tables, and two rollouts never write to each other's.
 */
export function shortHash(text: string): string {
  // FNV-1a, 32 bit: stable, tiny and pure, so workflow code can use it too.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * FNV-1a, 64 bit, as 16 hex digits: for keys that must not collide (one in
 * 2^32 is too likely across a registry's life). Pure, for workflow code too.
 */
export function longHash(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

export function useCaseIdentifier(useCase: string): string {
  return useCase.replace(/-/g, '_');
}

/**
 * The use case a scaled-out rollout runs as, e.g. paid-search-cac-paid-search-fr:
 * its own champion, serving view and loops, so a new market never replaces
 * the proven one. Long names keep a hash of the full name to stay unique
 * within the 50 characters a use case may have.
 */
export function scaledUseCase(useCase: string, channel: string, market: string): string {
  const full = `${useCase}-${channel.replace(/_/g, '-')}-${market.toLowerCase()}`;
  return full.length <= 50 ? full : `${full.slice(0, 41).replace(/-+$/, '')}-${shortHash(full)}`;
}

/** e.g. paid_search_cac_1a2b3c4d5e6f7a8b — the prefix of every table one rollout or loop run writes. */
export function rolloutTablePrefix(useCase: string, workflowId: string): string {
  return `${useCaseIdentifier(useCase)}_${longHash(workflowId)}`;
}

/** The 32-bit prefix of runs started before names took 64 bits (patch names-64-bit): they keep writing under it. */
export function legacyTablePrefix(useCase: string, workflowId: string): string {
  return `${useCaseIdentifier(useCase)}_${shortHash(workflowId)}`;
}

/** Patch id of runs that name their tables with rolloutTablePrefix rather than legacyTablePrefix. */
export const NAMES_64_BIT = 'names-64-bit';

/** The schema where aimo keeps its own tables (registry, audit log, reports, features). */
export const AIMO_SCHEMA = 'aimo';

/** The id of the retrain a drift incident starts: one per incident, however often the drift is reported. */
export function incidentRetrainId(useCase: string, incidentKey: string): string {
  return `${incidentRetrainPrefix(useCase)}${incidentKey}`;
}

export function incidentRetrainPrefix(useCase: string): string {
  return `retrain-${useCase}-incident-`;
}
