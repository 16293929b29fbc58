import { z } from 'zod';
import { legacyTablePrefix, rolloutTablePrefix, useCaseIdentifier } from './naming';

/**
 * Retention of per-run tables (aimo.<use case>_<16, or before 0.3 8, hex of the workflow id>_<name>,
 * see runTable): which ones a retention run drops and which it must keep.
 * Pure, so the rules can be read and tested apart from the warehouse and
 * Temporal calls that gather the facts (activities/retention.ts).
 */

/**
 * Two weeks: a weekly retrain's tables survive until the next two retrains
 * have run, and a nightly drift check's for a fortnight of comparisons.
 */
export const DEFAULT_MAX_AGE_DAYS = 14;

/**
 * Drops per run, oldest first; the rest wait for the next run. Bounds the
 * plan recorded in history (well under Temporal's payload limit) and the
 * drop activity's time on a first run over a long backlog.
 */
export const MAX_DROPS_PER_RUN = 2000;

/** Input of the retention workflow; a schedule passes it, `{}` takes the defaults. */
export const retentionInputSchema = z.strictObject({
  maxAgeDays: z
    .number({ message: 'use a number of days, e.g. 14' })
    .int('use a whole number of days, e.g. 14')
    .min(1, 'keep per-run tables at least 1 day')
    .max(3650, 'use at most 3650 days')
    .default(DEFAULT_MAX_AGE_DAYS)
    .describe('Per-run tables older than this, and referenced by nothing, are dropped'),
  dryRun: z.boolean({ message: 'use true or false' }).default(false).describe('Report what would be dropped; drop nothing'),
  useCase: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,48}[a-z0-9]$/, 'use the use case name of its rollout, e.g. paid-search-cac')
    .optional()
    .describe("Only this use case's per-run tables (its nightly schedule passes it); default: every use case's"),
  // A schedule says that it started the run; nothing depends on it.
  trigger: z.looseObject({ kind: z.string() }).optional(),
});
export type RetentionSettings = z.infer<typeof retentionInputSchema>;

/** One retention workflow run, as its activities receive it. */
export interface RetentionRun {
  /** The retention workflow's id: its audit rows are keyed by it */
  readonly workflowId: string;
  readonly maxAgeDays: number;
  /** When the workflow decided: the age cut-off and every row's time derive from it */
  readonly at: string;
  /** Only this use case's tables; absent: every use case's */
  readonly useCase?: string;
}

/** Why a per-run table stays: a version or view refers to it, its workflow still runs, it is younger than the age, or its age is only now known. */
export type KeepReason = 'referenced' | 'running' | 'young' | 'first-seen';

/** Where a table's age comes from: the warehouse's creation time, the latest record of its run, or the retention run that first saw it. */
export type AgeSource = 'created' | 'run' | 'first-seen';

export interface RetentionEntry {
  /** The audit row's sequence within the retention run */
  readonly seq: number;
  /** Table name within the aimo schema */
  readonly table: string;
  /** The run's use case (its identifier when no record names the use case) */
  readonly useCase: string;
}

export interface RetiredTable extends RetentionEntry {
  readonly ageFrom: AgeSource;
  readonly since: string;
}

/** What a retention run found and decided, fixed in its history before anything is dropped. */
export interface RetentionPlan {
  /** Tables last written before this are old */
  readonly cutoff: string;
  /** aimo's per-run tables in the warehouse */
  readonly runTables: number;
  readonly kept: Record<KeepReason, number>;
  readonly drop: RetiredTable[];
  /** Old, unreferenced tables beyond the run's drop limit: the next run takes them */
  readonly deferred: number;
  /** Tables whose age nothing tells: recorded now, so a later run can age them */
  readonly firstSeen: RetentionEntry[];
}

export interface RetentionResult {
  readonly dryRun: boolean;
  /** The use case whose tables were considered; absent: all */
  readonly useCase?: string;
  readonly maxAgeDays: number;
  readonly cutoff: string;
  readonly runTablesBefore: number;
  readonly runTablesAfter: number;
  readonly kept: Record<KeepReason, number>;
  readonly dropped: string[];
  /** With dryRun: the tables a run would drop now */
  readonly wouldDrop: string[];
  /** Old, unreferenced tables left for the next run (see MAX_DROPS_PER_RUN) */
  readonly deferred: number;
}

/** Everything the decision needs, gathered by the retention activity. */
export interface RetentionFacts {
  /** The aimo schema's objects */
  readonly listed: ReadonlyArray<{ readonly name: string; readonly kind: 'table' | 'view'; readonly createdAt?: string; readonly definition?: string }>;
  /** aimo's own tables: never candidates */
  readonly bookkeeping: ReadonlySet<string>;
  /** Names of the tables a registered version's lineage names */
  readonly versionTables: ReadonlySet<string>;
  /** longHash and shortHash of the id of every running workflow */
  readonly runningHashes: ReadonlySet<string>;
  /** The latest record of each run (audit rows, registered versions) */
  readonly runRecords: ReadonlyArray<{ readonly workflowId: string; readonly useCase: string; readonly at: string }>;
  /** When a retention run first saw a table nothing else ages, since that table was last dropped */
  readonly firstSeen: ReadonlyMap<string, string>;
  readonly cutoff: string;
  /** The first audit sequence number this retention run has not used */
  readonly nextSeq: number;
  /** At most this many drops; the oldest go first */
  readonly maxDrops: number;
  /** Only the per-run tables of this use case are considered; absent: all */
  readonly useCase?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function retentionCutoff(at: string, maxAgeDays: number): string {
  return new Date(Date.parse(at) - maxAgeDays * DAY_MS).toISOString();
}

// A run's hash: 16 hex digits, or 8 for runs named before names took 64 bits.
const RUN_TABLE = /^([a-z][a-z0-9_]*?)_(?:[0-9a-f]{16}|[0-9a-f]{8})_[a-z][a-z0-9_]*$/;
const HASH_SEGMENT = /_([0-9a-f]{16}|[0-9a-f]{8})(?=_)/g;
const HAS_HASH_SEGMENT = /(^|_)(?:[0-9a-f]{16}|[0-9a-f]{8})_/;

export interface RunTableName {
  readonly useCaseId: string;
  /** Every 16- or 8-hex segment: a scaled use case's name may end in one, so each could be the workflow's */
  readonly hashes: string[];
  /** Every `<use case>_<hash>` the name could start with */
  readonly prefixes: string[];
}

/**
 * A per-run table's name taken apart, or undefined for anything else. A
 * known use case's own tables (content's <use case>_creatives) are not a
 * run's, even when the use case's name ends in eight hex digits.
 */
export function parseRunTable(name: string, useCaseIds: ReadonlySet<string>): RunTableName | undefined {
  const match = RUN_TABLE.exec(name);
  if (!match) return undefined;
  for (const id of useCaseIds) {
    if (name.startsWith(`${id}_`) && !HAS_HASH_SEGMENT.test(name.slice(id.length + 1))) return undefined;
  }
  const segments = [...name.matchAll(HASH_SEGMENT)];
  const candidates = segments.map((s) => name.slice(0, s.index));
  const known = candidates.filter((c) => useCaseIds.has(c)).sort((a, b) => b.length - a.length)[0];
  return {
    useCaseId: known ?? match[1]!,
    hashes: segments.map((s) => s[1]!),
    prefixes: segments.map((s) => name.slice(0, s.index + s[0].length)),
  };
}

/**
 * The plan: for each per-run table, kept (and why) or dropped, the oldest
 * `maxDrops` of the old ones now and the rest by a later run. Sequence
 * numbers follow the table names' order, first-seen rows before drops.
 */
export function decideRetention(facts: RetentionFacts): RetentionPlan {
  const useCases = new Map(facts.runRecords.map((r) => [useCaseIdentifier(r.useCase), r.useCase]));
  const latestByPrefix = latestRecordByPrefix(facts.runRecords);
  const viewTokens = identifiersInViews(facts.listed);
  const kept: Record<KeepReason, number> = { referenced: 0, running: 0, young: 0, 'first-seen': 0 };
  const drops: Array<Omit<RetiredTable, 'seq'>> = [];
  const unaged: Array<Omit<RetentionEntry, 'seq'>> = [];
  const useCaseIds = new Set(facts.useCase ? [...useCases.keys(), useCaseIdentifier(facts.useCase)] : useCases.keys());
  const scope = facts.useCase ? useCaseIdentifier(facts.useCase) : undefined;
  let runTables = 0;
  for (const table of [...facts.listed].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (table.kind !== 'table' || facts.bookkeeping.has(table.name)) continue;
    const parsed = parseRunTable(table.name, useCaseIds);
    if (!parsed || (scope !== undefined && parsed.useCaseId !== scope)) continue;
    runTables++;
    const entry = { table: table.name, useCase: useCases.get(parsed.useCaseId) ?? (parsed.useCaseId === scope ? facts.useCase! : parsed.useCaseId) };
    const verdict = verdictOf(table, parsed, facts, latestByPrefix, viewTokens);
    if ('drop' in verdict) drops.push({ ...entry, ...verdict.drop });
    else {
      kept[verdict.keep]++;
      if (verdict.keep === 'first-seen') unaged.push(entry);
    }
  }
  let seq = facts.nextSeq;
  const firstSeen = unaged.map((e) => ({ seq: seq++, ...e }));
  const oldest = new Set([...drops].sort((a, b) => Date.parse(a.since) - Date.parse(b.since)).slice(0, facts.maxDrops));
  const drop = drops.filter((e) => oldest.has(e)).map((e) => ({ seq: seq++, ...e }));
  return { cutoff: facts.cutoff, runTables, kept, drop, deferred: drops.length - drop.length, firstSeen };
}

type Verdict = { readonly keep: KeepReason } | { readonly drop: { readonly ageFrom: AgeSource; readonly since: string } };

/** References first (they never expire), then a running workflow, then age. */
function verdictOf(
  table: RetentionFacts['listed'][number],
  parsed: RunTableName,
  facts: RetentionFacts,
  latestByPrefix: ReadonlyMap<string, string>,
  viewTokens: ReadonlySet<string>,
): Verdict {
  if (facts.versionTables.has(table.name) || viewTokens.has(table.name)) return { keep: 'referenced' };
  if (parsed.hashes.some((h) => facts.runningHashes.has(h))) return { keep: 'running' };
  const age = ageOf(table, parsed, latestByPrefix, facts.firstSeen);
  if (!age) return { keep: 'first-seen' };
  return Date.parse(age.since) >= Date.parse(facts.cutoff) ? { keep: 'young' } : { drop: age };
}

/**
 * The warehouse's creation time (CREATE OR REPLACE renews it, so it is the
 * last write); else the latest record of the run, which is never earlier
 * than its tables' writes would make them look; else when retention first saw it.
 */
function ageOf(
  table: RetentionFacts['listed'][number],
  parsed: RunTableName,
  latestByPrefix: ReadonlyMap<string, string>,
  firstSeen: ReadonlyMap<string, string>,
): { ageFrom: AgeSource; since: string } | undefined {
  if (table.createdAt) return { ageFrom: 'created', since: table.createdAt };
  const run = latest(parsed.prefixes.map((p) => latestByPrefix.get(p)));
  if (run) return { ageFrom: 'run', since: run };
  const seen = firstSeen.get(table.name);
  return seen ? { ageFrom: 'first-seen', since: seen } : undefined;
}

/** The latest record of each run, by the table prefix the run writes under. */
function latestRecordByPrefix(records: RetentionFacts['runRecords']): Map<string, string> {
  const byPrefix = new Map<string, string>();
  for (const r of records) {
    for (const prefix of [rolloutTablePrefix(r.useCase, r.workflowId), legacyTablePrefix(r.useCase, r.workflowId)]) {
      const at = latest([byPrefix.get(prefix), r.at]);
      if (at) byPrefix.set(prefix, at);
    }
  }
  return byPrefix;
}

function latest(times: ReadonlyArray<string | undefined>): string | undefined {
  return times.filter((t): t is string => t !== undefined && !Number.isNaN(Date.parse(t))).sort((a, b) => Date.parse(a) - Date.parse(b)).at(-1);
}

/** Every identifier a view's SQL mentions, lower-case: a table a view reads must stay however old it is. */
function identifiersInViews(listed: RetentionFacts['listed']): Set<string> {
  const tokens = new Set<string>();
  for (const view of listed) {
    if (view.kind !== 'view') continue;
    for (const token of view.definition?.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) tokens.add(token.toLowerCase());
  }
  return tokens;
}
