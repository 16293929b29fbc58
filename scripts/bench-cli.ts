/**
 * How long `aimo` takes per call, as a person or a script calls it: `aimo
 * --help`, `aimo status` of a rollout, `aimo approve` refused by a rollout
 * that waits for no decision (a full round trip: the update, then a describe
 * to say why), and `aimo schedules list`, each as `node cli/bin.js …` and as
 * `npx aimo …`, against an in-memory Temporal dev server of its own.
 *
 *   npx tsx scripts/bench-cli.ts [--runs 5]
 *
 * The first call of each command is run once before the timed ones: it may
 * transpile the files edited since the last call (cli/bin.js), which is not
 * what a call costs. Every call's exit code is checked against the one it
 * must give. Goal: under 1.5 s per call on the 2-core reference machine.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { AIMO_SEARCH_ATTRIBUTES, WORKFLOW_TYPES } from '../domain/rollout/definitions';
import { upsertSchedule } from '../platform/schedules';
import { resolveTemporalBinary } from '../platform/temporal-binaries';
import demoPlan from '../plans/demo-paid-search-cac.json';

const ROOT = join(__dirname, '..');
const GOAL_SECONDS = 1.5;

// Not strict: `npm run bench -- --users N` hands every bench the same flags.
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } }, strict: false });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`--runs must be a whole number from 1 to 50, got ${values.runs}`);

interface Call {
  readonly code: number;
  readonly seconds: number;
  readonly stdout: string;
  readonly stderr: string;
}

function call(command: string, args: string[], env: Record<string, string>): Promise<Call> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? ROOT, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? 1, seconds: (performance.now() - started) / 1000, stdout, stderr }));
  });
}

async function main(): Promise<void> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const binary = resolveTemporalBinary('cli', { projectRoot: ROOT, report: say });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: binary.executable, ip: '127.0.0.1', searchAttributes: [...AIMO_SEARCH_ATTRIBUTES], log: { format: 'json', level: 'error' } },
  });
  try {
    const taskQueue = `bench-cli-${randomUUID().slice(0, 8)}`;
    // A rollout nobody runs, then terminated: status answers from Temporal alone, and an approval is refused after a round trip.
    const workflowId = `rollout-bench-cli-${randomUUID().slice(0, 8)}`;
    const handle = await env.client.workflow.start(WORKFLOW_TYPES.rollout, { taskQueue, workflowId, args: [demoPlan] });
    await handle.terminate('bench-cli: a closed rollout to ask about');
    await upsertSchedule(env.client, {
      scheduleId: 'aimo-bench-cli-retrain',
      workflowType: WORKFLOW_TYPES.retrain,
      workflowId: 'retrain-bench-cli',
      taskQueue,
      args: [{ useCase: 'bench-cli' }],
      cron: '0 3 * * *',
      paused: true,
      note: 'bench-cli: listed, never run',
    });
    const cliEnv = { TEMPORAL_ADDRESS: env.address, AIMO_TASK_QUEUE: taskQueue, LOG_LEVEL: 'warn' };
    const commands: Array<{ name: string; args: string[]; exit: number }> = [
      { name: 'aimo --help', args: ['--help'], exit: 0 },
      { name: 'aimo status <id>', args: ['status', workflowId], exit: 0 },
      { name: 'aimo status <id> --json', args: ['status', workflowId, '--json'], exit: 0 },
      { name: 'aimo approve <id> (refused)', args: ['approve', workflowId, '--by', 'bench', '--reason', 'a round trip to a closed rollout'], exit: 1 },
      { name: 'aimo schedules list', args: ['schedules', 'list'], exit: 0 },
    ];
    const ways = [
      { name: 'node cli/bin.js', command: process.execPath, prefix: [join(ROOT, 'cli', 'bin.js')] },
      { name: 'npx aimo', command: 'npx', prefix: ['--no-install', 'aimo'] },
    ];
    const rows: Array<{ way: string; name: string; first: number; times: number[]; code: number; ok: boolean }> = [];
    const total = commands.length * ways.length + 1;
    for (const way of ways) {
      for (const c of commands) {
        const first = await call(way.command, [...way.prefix, ...c.args], cliEnv);
        const times: number[] = [];
        let code = first.code;
        for (let i = 0; i < runs; i++) {
          const r = await call(way.command, [...way.prefix, ...c.args], cliEnv);
          times.push(r.seconds);
          if (r.code !== c.exit) {
            code = r.code;
            say(`  ${way.name} ${c.args.join(' ')}: exit ${r.code}, expected ${c.exit}\n${r.stderr}`);
          }
        }
        if (first.code !== c.exit) say(`  ${way.name} ${c.args.join(' ')}: first call exit ${first.code}, expected ${c.exit}\n${first.stderr}`);
        rows.push({ way: way.name, name: c.name, first: first.seconds, times: times.sort((a, b) => a - b), code, ok: code === c.exit && first.code === c.exit });
        say(`  [${rows.length}/${total}] ${way.name} ${c.args[0]}: median ${median(times).toFixed(2)} s`);
      }
    }
    // What npx costs before aimo runs at all: npm's own start.
    const npmFirst = await call('npx', ['-c', 'true'], {});
    const npmTimes: number[] = [];
    for (let i = 0; i < runs; i++) npmTimes.push((await call('npx', ['-c', 'true'], {})).seconds);
    rows.push({ way: 'npx', name: '-c true (npm alone, no aimo)', first: npmFirst.seconds, times: npmTimes.sort((a, b) => a - b), code: 0, ok: true });
    say(`  [${rows.length}/${total}] npx -c true: median ${median(npmTimes).toFixed(2)} s`);

    console.log(`aimo CLI, ${runs} timed call(s) each after one untimed first call, ${cpus().length} cores (Node ${process.version}); goal < ${GOAL_SECONDS} s`);
    const width = Math.max(...rows.map((r) => `${r.way}  ${r.name}`.length));
    console.log(`  ${'call'.padEnd(width)}  ${'min'.padStart(6)}  ${'median'.padStart(6)}  ${'max'.padStart(6)}  ${'first'.padStart(6)}  exit`);
    for (const r of rows) {
      const s = (n: number) => `${n.toFixed(2)}`.padStart(6);
      const verdict = !r.ok ? 'WRONG EXIT CODE' : r.way === 'npx' ? '' : r.times[r.times.length - 1]! < GOAL_SECONDS ? 'ok' : 'OVER GOAL';
      console.log(`  ${`${r.way}  ${r.name}`.padEnd(width)}  ${s(r.times[0]!)}  ${s(median(r.times))}  ${s(r.times[r.times.length - 1]!)}  ${s(r.first)}  ${String(r.code).padStart(4)}  ${verdict}`);
    }
    console.log(`  load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (npx adds npm's own start to every call: the last row)`);
    if (rows.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    await env.teardown();
  }
}

function median(sorted: number[]): number {
  const s = [...sorted].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
