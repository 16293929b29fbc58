import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BENCHMARKS_DOC = join(__dirname, '..', 'docs', 'benchmarks.md');

/**
 * Replaces the block between `<!-- marker:start -->` and `<!-- marker:end -->`
 * in docs/benchmarks.md with the last run's table (appended when the markers
 * are not there yet), so the doc always shows what the bench last measured.
 * `command` is how to run it again, e.g. `npm run bench:throughput -- --runs 9`.
 */
export function writeBenchmarksDoc(marker: string, command: string, machine: string, table: string): void {
  const text = existsSync(BENCHMARKS_DOC) ? readFileSync(BENCHMARKS_DOC, 'utf8') : '';
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const block = `${start}\nLast run (\`${command}\`, ${new Date().toISOString().slice(0, 10)}): ${machine}.\n\n${table}\n${end}`;
  // A function, not a string, as the replacement: a table may hold `$` signs.
  const next = text.includes(start) ? text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), () => block) : `${text}\n${block}\n`;
  writeFileSync(BENCHMARKS_DOC, next);
}
