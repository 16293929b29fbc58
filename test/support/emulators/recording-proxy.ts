import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query string */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The JSON body, parsed (and un-gzipped), or the raw text when it is not JSON */
  readonly body: unknown;
}

/** Returns a replacement for a JSON response (its body, optionally its status), or undefined to pass it through. */
export type ResponseRewrite = (request: RecordedRequest, body: unknown) => { status?: number; body: unknown } | undefined;

/**
 * A local HTTP proxy between a client under test and an emulator. It records
 * what the client really sent (labels, query tags, login fields) and can
 * stand in for a server behaviour the emulator lacks, such as a non-zero
 * dry-run byte estimate. Only ever listens on 127.0.0.1.
 */
export class RecordingProxy {
  readonly requests: RecordedRequest[] = [];
  rewrite: ResponseRewrite | undefined;
  private server: Server | undefined;
  private address = '';

  private constructor() {}

  /** http://127.0.0.1:<port> */
  get url(): string {
    return this.address;
  }

  static async start(target: string): Promise<RecordingProxy> {
    const upstream = new URL(target);
    const proxy = new RecordingProxy();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: req.headers,
          body: parseBody(raw, req.headers['content-encoding']),
        };
        proxy.requests.push(recorded);
        const forward = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: upstream.host },
          },
          (upstreamRes) => {
            const body: Buffer[] = [];
            upstreamRes.on('data', (c: Buffer) => body.push(c));
            upstreamRes.on('end', () => {
              let payload = Buffer.concat(body);
              let status = upstreamRes.statusCode ?? 502;
              const headers = { ...upstreamRes.headers };
              const rewrite = proxy.rewrite;
              const json = rewrite && isJson(headers['content-type']) && !headers['content-encoding'] ? tryJson(payload.toString('utf8')) : undefined;
              if (rewrite && json !== undefined) {
                const replaced = rewrite(recorded, json);
                if (replaced !== undefined) {
                  payload = Buffer.from(JSON.stringify(replaced.body));
                  status = replaced.status ?? status;
                  headers['content-length'] = String(payload.length);
                  delete headers['transfer-encoding'];
                }
              }
              res.writeHead(status, headers);
              res.end(payload);
            });
          },
        );
        forward.on('error', (err) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`proxy could not reach ${target}: ${err.message}`);
        });
        forward.end(raw);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    proxy.server = server;
    proxy.address = `http://127.0.0.1:${port}`;
    return proxy;
  }

  /** Requests whose path starts with `prefix` (query string ignored) */
  to(prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.url.split('?')[0]!.startsWith(prefix));
  }

  clear(): void {
    this.requests.length = 0;
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

function parseBody(raw: Buffer, encoding: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const text = (encoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
  return tryJson(text) ?? text;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isJson(contentType: string | undefined): boolean {
  return Boolean(contentType?.includes('application/json'));
}
