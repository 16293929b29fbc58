import { signedHeaders } from './signature';

export interface SignedPostOptions {
  readonly source: string;
  readonly secret: string;
  /** The sender's unique id of this delivery; a retry reuses it */
  readonly deliveryId: string;
  /** Unix seconds; default now */
  readonly timestamp?: number;
  /** Override or add headers (tests use this to break things on purpose) */
  readonly headers?: Record<string, string | undefined>;
  readonly signal?: AbortSignal;
}

export interface WebhookResponse {
  readonly status: number;
  readonly body: unknown;
}

/**
 * A signed POST to aimo's webhook server, for Node senders (and the tests
 * and bench). `body` is serialized once; exactly those bytes are signed and sent.
 */
export async function postSigned(baseUrl: string, path: string, body: unknown, options: SignedPostOptions): Promise<WebhookResponse> {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string> = {
    ...signedHeaders({
      source: options.source,
      secret: options.secret,
      body: raw,
      deliveryId: options.deliveryId,
      ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
    }),
  };
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  const response = await fetch(`${baseUrl.replace(/\/+$/, '')}${path}`, {
    method: 'POST',
    headers,
    body: raw,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}
