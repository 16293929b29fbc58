export { buildWebhookServer, startWebhookServer, type StartedResponse, type WebhookServer, type WebhookServerOptions } from './server';
export { computeSignature, HEADERS, signedHeaders, verifySignature } from './signature';
export { alertSchema, approvalRequestSchema, dataLandedSchema, rollbackRequestSchema } from './schemas';
export { postSigned, type SignedPostOptions, type WebhookResponse } from './client';
