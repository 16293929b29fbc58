/**
 * The 90-day soak of test/soak.test.ts, as figures: runs of each workflow
 * type, drift incidents, promotions, rollbacks, aimo's tables at the end and
 * the wall time. It starts its own Temporal servers (a dev server for the
 * rollout's schedules, a time-skipping test server for everything else).
 *
 *   npx tsx scripts/bench-soak.ts [--users N] [--seed N] [--days N]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { AIMO_SEARCH_ATTRIBUTES } from '../domain/rollout/definitions';
import { createLogger } from '../platform/logger';
import { registerSearchAttributes } from '../platform/search-attributes';
import { resolveTemporalBinary } from '../platform/temporal-binaries';
import { installTemporalRuntime } from '../platform/temporal-runtime';
import { runSoak, SOAK_DAYS } from '../test/support/soak';

const { values } = parseArgs({ options: { users: { type: 'string', default: '6000' }, seed: { type: 'string', default: '7' }, days: { type: 'string', default: String(SOAK_DAYS) } } });
const users = Number(values.users.replace(/_/g, ''));
const seed = Number(values.seed);
const days = Number(values.days);
if (!Number.isInteger(users) || users < 1000) throw new Error(`--users must be a whole number of at least 1000, got ${values.users}`);
if (!Number.isInteger(days) || days < 1) throw new Error(`--days must be a whole number of at least 1, got ${values.days}`);

installTemporalRuntime(createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn', format: 'json' }));

async function main(): Promise<void> {
  const projectRoot = join(__dirname, '..');
  const report = (line: string) => process.stderr.write(`${line}\n`);
  const cli = resolveTemporalBinary('cli', { projectRoot, report });
  const testServer = resolveTemporalBinary('testServer', { projectRoot, report });
  const [devServer, env] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: cli.executable, searchAttributes: [...AIMO_SEARCH_ATTRIBUTES], log: { format: 'json', level: 'error' } } }),
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: testServer.executable } }),
  ]);
  try {
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
    const soak = await runSoak({ env, schedulesClient: devServer.client }, { users, seed, days });
    await soak.teardown();
    const f = soak.figures;
    console.log(`soak: ${f.days} simulated days, ${f.users} users\n`);
    console.log('| figure | value |\n|---|---|');
    for (const [type, n] of Object.entries(f.runs)) console.log(`| runs of ${type} | ${n} |`);
    const rows: Array<[string, number]> = [
      ['ticks skipped (overlap SKIP)', f.skippedTicks],
      ['scheduled runs failed', f.failedRuns],
      ['drift incidents', f.incidents],
      ['drift alerts sent', f.alerts],
      ['promotions', f.promotions],
      ['canary rollbacks', f.rollbacks],
      ['retrains deferred to the incident', f.deferred],
      ['per-run tables dropped by retention', f.tablesDropped],
      ['aimo tables at the end', f.aimoTables],
      ['aimo views at the end', f.aimoViews],
      ['wall time (s)', f.wallSeconds],
    ];
    for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
  } finally {
    await devServer.teardown();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
