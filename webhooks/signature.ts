import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * aimo's webhook signature: HMAC-SHA256 with the sender's secret over
 * `${timestamp}.${rawBody}`, sent as `x-aimo-signature: sha256=<hex>` next to
 * `x-aimo-timestamp` (unix seconds) and `x-aimo-source`. Senders sign the
 * exact bytes they send; the timestamp bounds replays.
 */
export const HEADERS = {
  source: 'x-aimo-source',
  timestamp: 'x-aimo-timestamp',
  signature: 'x-aimo-signature',
  delivery: 'x-aimo-delivery',
} as const;

export function computeSignature(secret: string, timestamp: number | string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(rawBody);
  return `sha256=${hmac.digest('hex')}`;
}

export interface SignedHeaders {
  readonly 'content-type': 'application/json';
  readonly 'x-aimo-source': string;
  readonly 'x-aimo-timestamp': string;
  readonly 'x-aimo-signature': string;
  readonly 'x-aimo-delivery': string;
}

/** Everything a sender needs: the headers for one request (tests, the bench and the docs use this). */
export function signedHeaders(options: {
  source: string;
  secret: string;
  body: Buffer | string;
  deliveryId: string;
  timestamp?: number;
}): SignedHeaders {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'x-aimo-source': options.source,
    'x-aimo-timestamp': String(timestamp),
    'x-aimo-signature': computeSignature(options.secret, timestamp, options.body),
    'x-aimo-delivery': options.deliveryId,
  };
}

export type VerifyResult =
  | { ok: true; source: string; timestamp: number; signature: string }
  | { ok: false; reason: string };

/** A fixed key, so an unknown source costs the same HMAC as a known one. */
const DUMMY_SECRET = 'aimo-unknown-source-0000000000000000';

export function verifySignature(options: {
  secrets: Readonly<Record<string, string>>;
  source: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer;
  toleranceSeconds: number;
  nowSeconds?: number;
}): VerifyResult {
  const { source, timestamp, signature } = options;
  if (!source) return { ok: false, reason: `missing ${HEADERS.source} header` };
  if (!timestamp) return { ok: false, reason: `missing ${HEADERS.timestamp} header` };
  if (!signature) return { ok: false, reason: `missing ${HEADERS.signature} header` };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `${HEADERS.timestamp} must be unix seconds` };
  const ts = Number(timestamp);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > options.toleranceSeconds) {
    return { ok: false, reason: `${HEADERS.timestamp} is more than ${options.toleranceSeconds} s from the server's clock (replay or clock skew)` };
  }
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature);
  if (!match) return { ok: false, reason: `${HEADERS.signature} must be sha256=<64 hex digits>` };
  const secret = Object.prototype.hasOwnProperty.call(options.secrets, source) ? options.secrets[source] : undefined;
  const expected = Buffer.from(computeSignature(secret ?? DUMMY_SECRET, timestamp, options.rawBody).slice(7), 'hex');
  const given = Buffer.from(match[1]!, 'hex');
  const equal = given.length === expected.length && timingSafeEqual(given, expected);
  if (!secret) return { ok: false, reason: `unknown source "${source.slice(0, 64)}"` };
  if (!equal) return { ok: false, reason: 'signature does not match the body' };
  return { ok: true, source, timestamp: ts, signature: match[1]!.toLowerCase() };
}

/**
 * Signatures seen within the replay window and the delivery id they came
 * with. A captured request replayed with a new delivery id inside the window
 * would otherwise start a second workflow; retries of the same delivery
 * (same signature, same id) pass. Per process and bounded in size.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, { deliveryId: string; at: number }>();

  constructor(
    private readonly windowSeconds: number,
    private readonly maxEntries = 50_000,
  ) {}

  /** false when this signature was already used with another delivery id */
  check(signature: string, deliveryId: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
    const previous = this.seen.get(signature);
    if (previous && nowSeconds - previous.at <= 2 * this.windowSeconds) return previous.deliveryId === deliveryId;
    this.seen.set(signature, { deliveryId, at: nowSeconds });
    this.evict(nowSeconds);
    return true;
  }

  private evict(nowSeconds: number): void {
    // Map keeps insertion order: the oldest entries come first.
    for (const [key, entry] of this.seen) {
      if (this.seen.size <= this.maxEntries && nowSeconds - entry.at <= 2 * this.windowSeconds) break;
      this.seen.delete(key);
    }
  }
}
