import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { resolveTemporalBinary } from '../../platform/temporal-binaries';
import { AIMO_SEARCH_ATTRIBUTES } from '../../domain/rollout/definitions';

const root = join(__dirname, '..', '..');

/**
 * One ephemeral Temporal dev server and one workflow bundle for the whole
 * run; test files connect to it. Time-skipping tests start their own test
 * server (time is global to a server), from the binary resolved here.
 */
export default async function globalSetup(): Promise<void> {
  const report = (line: string) => process.stdout.write(`[aimo test] ${line}\n`);
  const cli = resolveTemporalBinary('cli', { projectRoot: root, report });
  const testServer = resolveTemporalBinary('testServer', { projectRoot: root, report });
  process.env['AIMO_TEST_TIME_SKIPPING_EXECUTABLE'] = JSON.stringify(testServer.executable);

  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: cli.executable, searchAttributes: [...AIMO_SEARCH_ATTRIBUTES], log: { format: 'json', level: 'error' } },
  });
  (globalThis as { __aimoTemporal?: TestWorkflowEnvironment }).__aimoTemporal = env;
  process.env['AIMO_TEST_TEMPORAL_ADDRESS'] = env.address;

  const { code } = await bundleWorkflowCode({
    workflowsPath: join(root, 'workflows', 'index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  const bundleDir = join(root, '.cache', 'test');
  mkdirSync(bundleDir, { recursive: true });
  const bundlePath = join(bundleDir, `workflow-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, code);
  process.env['AIMO_TEST_WORKFLOW_BUNDLE'] = bundlePath;
}
