import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench`: every benchmark in turn, each printing its own table.
 * It says up front how long the whole run takes (each bench's duration on
 * the last run on this machine, kept in .cache/bench-durations.json, or a
 * rough figure for the 2-core reference machine before the first run), and
 * while a bench runs, a line at least every 30 s says it still runs.
 */
const BENCHES: ReadonlyArray<{ script: string; what: string; roughSeconds: number }> = [
  { script: 'bench-simulator.ts', what: 'simulator', roughSeconds: 180 },
  { script: 'bench-loops.ts', what: 'loops', roughSeconds: 120 },
  { script: 'bench-webhooks.ts', what: 'webhooks', roughSeconds: 90 },
  { script: 'bench-throughput.ts', what: 'worker throughput', roughSeconds: 150 },
  { script: 'bench-metrics.ts', what: 'metrics', roughSeconds: 60 },
  { script: 'bench-soak.ts', what: 'soak', roughSeconds: 300 },
  { script: 'bench-cli.ts', what: 'CLI', roughSeconds: 150 },
];
const QUIET_LIMIT_MS = 30_000;
const DURATIONS_FILE = join(__dirname, '..', '.cache', 'bench-durations.json');

function readDurations(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(DURATIONS_FILE, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function saveDuration(script: string, seconds: number): void {
  try {
    mkdirSync(join(DURATIONS_FILE, '..'), { recursive: true });
    writeFileSync(DURATIONS_FILE, JSON.stringify({ ...readDurations(), [script]: Math.round(seconds) }, null, 2));
  } catch {
    // Only the next estimate is the worse for it.
  }
}

const minutes = (seconds: number) => (seconds < 90 ? `~${Math.max(1, Math.round(seconds / 10) * 10)} s` : `~${Math.round(seconds / 60)} min`);

/** Runs one bench with its output passed through; a line on stderr whenever it has been quiet for QUIET_LIMIT_MS. */
function runBench(script: string, what: string, estimate: number): Promise<number> {
  const started = Date.now();
  let lastOutput = started;
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), join(__dirname, script), ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A stop sent to this process alone (not to the terminal's whole group) stops the bench too.
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
    process.exitCode = 130;
  };
  process.once('SIGINT', forward);
  process.once('SIGTERM', forward);
  child.stdout.on('data', (chunk: Buffer) => ((lastOutput = Date.now()), process.stdout.write(chunk)));
  child.stderr.on('data', (chunk: Buffer) => ((lastOutput = Date.now()), process.stderr.write(chunk)));
  const ticker = setInterval(() => {
    if (Date.now() - lastOutput < QUIET_LIMIT_MS) return;
    lastOutput = Date.now();
    process.stderr.write(`  … ${what} bench still running: ${Math.round((Date.now() - started) / 1000)} s of ${minutes(estimate)}\n`);
  }, 1_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearInterval(ticker);
      process.removeListener('SIGINT', forward);
      process.removeListener('SIGTERM', forward);
      const seconds = (Date.now() - started) / 1000;
      if (code === 0) saveDuration(script, seconds);
      process.stderr.write(`  ${what} bench took ${Math.round(seconds)} s\n`);
      resolve(code ?? 1);
    }),
  );
}

async function main(): Promise<void> {
  const measured = readDurations();
  const estimates = BENCHES.map((b) => ({ ...b, seconds: measured[b.script] ?? b.roughSeconds, measured: b.script in measured }));
  const total = estimates.reduce((sum, b) => sum + b.seconds, 0);
  const source = estimates.every((b) => b.measured) ? 'as long as the last run on this machine' : 'rough figures for a 2-core machine until a first run on this one';
  console.log(`npm run bench: about ${Math.round(total / 60)} minutes (${source}): ${estimates.map((b) => `${b.what} ${minutes(b.seconds)}`).join(', ')}`);
  for (const [i, b] of estimates.entries()) {
    console.log(`\n=== ${b.script} (${i + 1}/${estimates.length}, ${minutes(b.seconds)}) ===`);
    const code = await runBench(b.script, b.what, b.seconds);
    if (code !== 0 || process.exitCode === 130) process.exit(process.exitCode === 130 ? 130 : code);
  }
}

void main();
