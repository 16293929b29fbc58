import { z } from 'zod';
import { HEADERS } from './signature';

export interface RouteDoc {
  readonly path: string;
  readonly summary: string;
  readonly description: string;
  readonly body: z.ZodType;
  readonly responses: readonly string[];
}

const started = {
  type: 'object',
  required: ['workflowId', 'runId', 'workflowType', 'uiUrl'],
  properties: {
    workflowId: { type: 'string', description: 'Deterministic: the same delivery always maps to the same workflow' },
    runId: { type: 'string' },
    workflowType: { type: 'string' },
    uiUrl: { type: 'string', format: 'uri', description: 'The workflow in the Temporal UI' },
    action: { type: 'string', description: 'Alerts only: what the alert policy decided' },
  },
} as const;

const problem = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string' },
    problems: { type: 'array', items: { type: 'string' }, description: 'One line per invalid field: "field.path: what to do"' },
  },
} as const;

const RESPONSES: Record<string, { description: string; schema: object }> = {
  '200': { description: 'Done (approvals: the Update result; alerts: ignored by the policy)', schema: { type: 'object' } },
  '202': { description: 'Workflow started, or the one this delivery started earlier', schema: { $ref: '#/components/schemas/Started' } },
  '400': { description: 'Malformed JSON, an invalid body (problems by field path) or a missing delivery id', schema: { $ref: '#/components/schemas/Problem' } },
  '401': { description: 'Not authenticated: missing or bad signature, unknown source, timestamp outside the window', schema: { $ref: '#/components/schemas/Problem' } },
  '404': { description: 'No such workflow', schema: { $ref: '#/components/schemas/Problem' } },
  '409': { description: 'Approvals: the workflow is not waiting or refused the decision', schema: { $ref: '#/components/schemas/Problem' } },
  '413': { description: 'Body too large', schema: { $ref: '#/components/schemas/Problem' } },
  '504': { description: 'The workflow did not take the decision in time', schema: { $ref: '#/components/schemas/Problem' } },
};

function bodySchema(schema: z.ZodType): object {
  // Input side: fields with defaults are optional for senders.
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json['$schema'];
  return json;
}

/** OpenAPI 3.1 (JSON Schema 2020-12) from the same route table and zod schemas the server uses. */
export function buildOpenApiDocument(routes: readonly RouteDoc[], limits: { maxBodyBytes: number; toleranceSeconds: number }): object {
  const header = (name: string, description: string, pattern?: string) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string', ...(pattern ? { pattern } : {}) },
  });
  const paths: Record<string, object> = {};
  for (const route of routes) {
    paths[route.path] = {
      post: {
        summary: route.summary,
        description: route.description,
        operationId: route.path.replace(/^\/v1\//, '').replace(/[^A-Za-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase()),
        security: [{ aimoSignature: [] }],
        parameters: [
          { $ref: '#/components/parameters/Source' },
          { $ref: '#/components/parameters/Timestamp' },
          { $ref: '#/components/parameters/Signature' },
          { $ref: '#/components/parameters/Delivery' },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: bodySchema(route.body) } } },
        responses: Object.fromEntries(
          [...route.responses].sort().map((code) => [code, { description: RESPONSES[code]!.description, content: { 'application/json': { schema: RESPONSES[code]!.schema } } }]),
        ),
      },
    };
  }
  paths['/healthz'] = { get: { summary: 'Liveness', responses: { '200': { description: 'The process is up' } } } };
  paths['/readyz'] = { get: { summary: 'Readiness: Temporal reachable and not shutting down', responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } } } };
  paths['/openapi.json'] = { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'aimo webhooks',
      version: '1',
      description:
        `Start aimo's workflows from other systems. Every POST is signed: ${HEADERS.signature} = "sha256=" + hex(HMAC-SHA256(secret of ${HEADERS.source}, ${HEADERS.timestamp} + "." + ${HEADERS.delivery} + "." + raw body)), ` +
        `${HEADERS.timestamp} within ${limits.toleranceSeconds} s of the server's clock. ${HEADERS.delivery} is the sender's unique id of the delivery: ` +
        `retries with the same id (and replays of a captured request) never start a second workflow. Bodies up to ${limits.maxBodyBytes} bytes.`,
    },
    paths,
    components: {
      securitySchemes: {
        aimoSignature: {
          type: 'apiKey',
          in: 'header',
          name: HEADERS.signature,
          description: `HMAC-SHA256 over "<${HEADERS.timestamp}>.<${HEADERS.delivery}>.<raw body>" with the source's secret, as sha256=<hex>; see docs/triggers.md`,
        },
      },
      parameters: {
        Source: header(HEADERS.source, 'Which sender (its secret is configured in AIMO_WEBHOOK_SECRETS)', '^[a-z0-9][a-z0-9._-]{0,63}$'),
        Timestamp: header(HEADERS.timestamp, 'Unix seconds when the request was signed', '^\\d{1,12}$'),
        Signature: header(HEADERS.signature, 'sha256=<hex HMAC>', '^sha256=[0-9a-fA-F]{64}$'),
        Delivery: header(HEADERS.delivery, "The sender's unique id of this delivery; signed, and part of the workflow id", '^[A-Za-z0-9._-]{1,128}$'),
      },
      schemas: { Started: started, Problem: problem },
    },
  };
}
