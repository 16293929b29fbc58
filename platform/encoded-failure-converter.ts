import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces are plain text in Temporal history by
 * default, and they name tables, fields and values. With payload encryption
 * on they travel inside an encoded attributes payload, which the codec then
 * encrypts like any other. Loaded by path (the worker bundles it into the
 * workflow sandbox), so it imports nothing but the SDK.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
