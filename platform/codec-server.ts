import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import type { Logger } from './logger';

/**
 * Temporal's remote codec protocol over HTTP, so that people who hold the
 * payload keys can read encrypted histories in the Temporal UI and with
 * `temporal workflow show --codec-endpoint`: POST /encode and POST /decode
 * (also under /<namespace>/, for the CLI's endpoint templating), each taking
 * and answering `{"payloads": [...]}` in proto3 JSON (bytes as base64).
 *
 * The decode route is a decryption service for whoever can reach it: it
 * listens on loopback unless told otherwise, answers browsers only from the
 * UI origins it is given, and requires a bearer token when one is set.
 */
export interface CodecServerOptions {
  readonly codec: PayloadCodec;
  readonly logger: Logger;
  /** default 127.0.0.1 */
  readonly host?: string;
  /** 0 picks a free port (tests) */
  readonly port: number;
  /** Browser origins allowed to call it, e.g. http://localhost:8233 (the Temporal UI) */
  readonly allowedOrigins: readonly string[];
  /** When set, every POST needs `Authorization: Bearer <token>`; secret, never logged */
  readonly token?: string;
  /** default 16 MiB: a page of history can carry many payloads */
  readonly maxBodyBytes?: number;
}

export interface CodecServer {
  /** e.g. http://127.0.0.1:8234 */
  readonly url: string;
  close(): Promise<void>;
}

const ROUTE = /^\/(?:[A-Za-z0-9._-]{1,255}\/)?(encode|decode)\/?$/;
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';

const payloadsBody = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.string()).nullish(),
      data: z.string().nullish(),
    }),
  ),
});

type JsonPayload = { metadata?: Record<string, string>; data?: string };

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger.child({ component: 'codec-server' });
  const server = createServer((request, response) => {
    handle(options, request, response).catch((err: unknown) => {
      const status = err instanceof HttpProblem ? err.status : 500;
      if (status === 500) logger.error({ err }, 'codec request failed');
      else logger.warn({ status, reason: (err as Error).message, path: request.url }, 'codec request refused');
      if (!response.headersSent) send(response, status, { message: (err as Error).message });
      else response.destroy();
    });
  });
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, allowedOrigins: options.allowedOrigins, authenticated: Boolean(options.token) }, 'codec server listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

async function handle(options: CodecServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const route = ROUTE.exec(new URL(request.url ?? '/', 'http://codec').pathname)?.[1] as 'encode' | 'decode' | undefined;
  if (!route) throw new HttpProblem(404, 'not found: POST /encode or /decode (optionally under /<namespace>/)');
  applyCors(options, request, response);
  if (request.method === 'OPTIONS') {
    response.writeHead(204).end();
    return;
  }
  if (request.method !== 'POST') throw new HttpProblem(405, `${route} takes POST`);
  authenticate(options, request);
  const parsed = payloadsBody.safeParse(await readJson(request, options.maxBodyBytes ?? 16 * 1024 * 1024));
  if (!parsed.success) throw new HttpProblem(400, 'the body must be {"payloads": [{"metadata": {...base64}, "data": "<base64>"}]}');
  const payloads = parsed.data.payloads.map(fromJson);
  let out: Payload[];
  try {
    out = route === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
  } catch (err) {
    throw new HttpProblem(400, err instanceof Error ? err.message : String(err));
  }
  options.logger.debug({ route, payloads: payloads.length, namespace: request.headers['x-namespace'] }, 'codec request');
  send(response, 200, { payloads: out.map(toJson) });
}

/**
 * Browsers get an answer only from the listed origins: another site open in
 * the same browser must not use a local codec server to decrypt.
 */
function applyCors(options: CodecServerOptions, request: IncomingMessage, response: ServerResponse): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (!options.allowedOrigins.includes(origin)) {
    throw new HttpProblem(403, `origin ${origin.slice(0, 200)} is not allowed: add it to AIMO_CODEC_CORS_ORIGINS`);
  }
  response.setHeader('access-control-allow-origin', origin);
  response.setHeader('vary', 'Origin');
  // The UI's "include cross-origin credentials" setting sends cookies to an SSO proxy in front of this server.
  response.setHeader('access-control-allow-credentials', 'true');
  response.setHeader('access-control-allow-methods', 'POST, OPTIONS');
  response.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
  response.setHeader('access-control-max-age', '600');
}

function authenticate(options: CodecServerOptions, request: IncomingMessage): void {
  if (!options.token) return;
  const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(options.token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new HttpProblem(401, 'unauthenticated: send Authorization: Bearer <AIMO_CODEC_TOKEN>');
  }
}

function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpProblem(413, `the body is larger than ${limit} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('error', reject);
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpProblem(400, 'the body is not valid JSON'));
      }
    });
  });
}

function fromJson(p: { metadata?: Record<string, string> | null; data?: string | null }): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(p.data ?? '', 'base64') };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

function send(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
