/**
 * How fast the simulator generates: the demo size (100k users) and a size
 * with ~10M events, each into a fresh on-disk DuckDB file in a temp folder;
 * and the demo size in memory, as tests use it (the difference is DuckDB
 * compressing and writing the tables). Each then grows by one day, as the
 * embedded stack's nightly market day does.
 *
 *   npx tsx scripts/bench-simulator.ts [--users N] [--events N] [--seed N]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { addDaysIso } from '../domain/dates';
import { appendDays, generateDataset, type DatasetSummary } from '../simulator';
import { DuckDbWarehouse } from '../warehouse/duckdb';

interface Run {
  readonly label: string;
  readonly users: number;
  readonly seconds: number;
  readonly summary: DatasetSummary;
  /** Seconds to append the day after the generated period */
  readonly appendSeconds: number;
  readonly fileMb: number | null;
}

function positiveInt(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

async function generateInto(dir: string | null, label: string, users: number, seed: number): Promise<Run> {
  const file = dir === null ? ':memory:' : join(dir, `${label.replace(/\W+/g, '-')}.duckdb`);
  const wh = await DuckDbWarehouse.open(file);
  try {
    const started = process.hrtime.bigint();
    // Progress on stderr, the table on stdout.
    const summary = await generateDataset(wh, { seed, users }, { onProgress: (p) => process.stderr.write(`  ${label}: ${p.stage === 'population' ? 'population written' : `${p.daysDone}/${p.days} days`}\n`) });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stderr.write(`  ${label}: generated in ${seconds.toFixed(1)} s; appending a day\n`);
    const appendStarted = process.hrtime.bigint();
    await appendDays(wh, { through: addDaysIso(summary.endDate, 1) });
    const appendSeconds = Number(process.hrtime.bigint() - appendStarted) / 1e9;
    if (dir === null) return { label, users, seconds, summary, appendSeconds, fileMb: null };
    await wh.execute('CHECKPOINT');
    return { label, users, seconds, summary, appendSeconds, fileMb: statSync(file).size / 1e6 };
  } finally {
    await wh.close();
  }
}

function totalRows(s: DatasetSummary): number {
  return Object.values(s.rowCounts).reduce((a, b) => a + b, 0);
}

function printTable(runs: readonly Run[]): void {
  const header = ['size', 'users', 'sessions', 'events', 'orders', 'all rows', 'seconds', 'rows/s', 'events/s', '+1 day s', 'file MB'];
  const rows = runs.map((r) => [
    r.label,
    r.users.toLocaleString('en'),
    r.summary.rowCounts.sessions.toLocaleString('en'),
    r.summary.rowCounts.events.toLocaleString('en'),
    r.summary.rowCounts.orders.toLocaleString('en'),
    totalRows(r.summary).toLocaleString('en'),
    r.seconds.toFixed(2),
    Math.round(totalRows(r.summary) / r.seconds).toLocaleString('en'),
    Math.round(r.summary.rowCounts.events / r.seconds).toLocaleString('en'),
    r.appendSeconds.toFixed(2),
    r.fileMb === null ? '-' : r.fileMb.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { users: { type: 'string' }, events: { type: 'string' }, seed: { type: 'string' } } });
  const demoUsers = positiveInt(values.users, 100_000, 'users');
  const targetEvents = positiveInt(values.events, 10_000_000, 'events');
  const seed = positiveInt(values.seed, 42, 'seed');
  const dir = mkdtempSync(join(tmpdir(), 'aimo-bench-simulator-'));
  console.log(`simulator bench: ${cpus().length} cores, DuckDB files in ${dir}\n`);
  try {
    const demo = await generateInto(dir, 'demo', demoUsers, seed);
    const eventsPerUser = demo.summary.rowCounts.events / demo.users;
    const largeUsers = Math.round(targetEvents / eventsPerUser);
    const large = await generateInto(dir, `~${(targetEvents / 1e6).toFixed(0)}M events`, largeUsers, seed);
    const inMemory = await generateInto(null, 'demo, in memory', demoUsers, seed);
    printTable([demo, large, inMemory]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
