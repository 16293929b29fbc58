import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment, type EphemeralServerExecutable } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { createLogger } from '../../platform/logger';
import { parsePayloadKeys } from '../../platform/payload-codec';
import { registerSearchAttributes } from '../../platform/search-attributes';
import { payloadDataConverter } from '../../platform/temporal-connection';
import { installTemporalRuntime } from '../../platform/temporal-runtime';
import { createAimoWorker } from '../../workers/create-worker';

// SDK, workflow and activity logs go through aimo's logger; warnings and up unless LOG_LEVEL says otherwise.
installTemporalRuntime(createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn', format: 'json' }));

/**
 * With AIMO_PAYLOAD_KEYS set, the suite runs with payload encryption as the
 * product does: the test clients and workers encrypt and decrypt every payload.
 * (The prebuilt workflow bundle keeps the default failure converter, so
 * workflow failure messages stay plain there.)
 */
const dataConverter = process.env['AIMO_PAYLOAD_KEYS'] ? payloadDataConverter({ payloadKeys: parsePayloadKeys(process.env['AIMO_PAYLOAD_KEYS']).keys }) : undefined;

/** The shared ephemeral dev server started by the global setup. */
export function connectToTestServer(): Promise<TestWorkflowEnvironment> {
  const address = process.env['AIMO_TEST_TEMPORAL_ADDRESS'];
  if (!address) throw new Error('AIMO_TEST_TEMPORAL_ADDRESS is not set: run the tests with jest (the global setup starts Temporal)');
  return TestWorkflowEnvironment.createFromExistingServer({ address, ...(dataConverter ? { client: { dataConverter } } : {}) });
}

/** A time-skipping test server of this test file's own (timers complete as soon as nothing else is pending). */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const executable = JSON.parse(process.env['AIMO_TEST_TIME_SKIPPING_EXECUTABLE'] ?? '{"type":"cached-download"}') as EphemeralServerExecutable;
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable }, ...(dataConverter ? { client: { dataConverter } } : {}) });
  // The test server has no start-up flag for search attributes; register them as the product does.
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A worker built by the product's own factory, on the prebuilt workflow bundle. */
export function createTestWorker(env: TestWorkflowEnvironment, activities: Activities, taskQueue: string): Promise<Worker> {
  const codePath = process.env['AIMO_TEST_WORKFLOW_BUNDLE'];
  return createAimoWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities,
    ...(codePath ? { workflowBundle: { codePath } } : {}),
    ...(dataConverter ? { dataConverter } : {}),
  });
}
