import { rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

export default async function globalTeardown(): Promise<void> {
  const env = (globalThis as { __aimoTemporal?: TestWorkflowEnvironment }).__aimoTemporal;
  await env?.teardown();
  const bundle = process.env['AIMO_TEST_WORKFLOW_BUNDLE'];
  if (bundle) rmSync(bundle, { force: true });
}
