import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * aimo's webhook signature: HMAC-SHA256 with the sender's secret over
 * `${timestamp}.${deliveryId}.${rawBody}`, sent as `x-aimo-signature:
 * sha256=<hex>` next to `x-aimo-timestamp` (unix seconds), `x-aimo-delivery`
 * and `x-aimo-source`. Senders sign the exact bytes they send; the timestamp
 * bounds replays to the tolerance window.
 *
 * The delivery id is signed because it is what makes a workflow id (and an
 * approval's Update id): a captured request can be replayed only under its
 * own delivery id, and Temporal's workflow-id uniqueness then answers with
 * the run it already started, on every replica and after every restart. No
 * replay state is kept in the server.
 */
export const HEADERS = {
  source: 'x-aimo-source',
  timestamp: 'x-aimo-timestamp',
  signature: 'x-aimo-signature',
  delivery: 'x-aimo-delivery',
} as const;

export function computeSignature(secret: string, timestamp: number | string, deliveryId: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.${deliveryId}.`);
  hmac.update(rawBody);
  return `sha256=${hmac.digest('hex')}`;
}

/** The scheme of releases up to 0.2, without the delivery id: recognised only to tell such a sender what changed. */
function legacySignature(secret: string, timestamp: string, rawBody: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
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
    'x-aimo-signature': computeSignature(options.secret, timestamp, options.deliveryId, options.body),
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
  /** Checked for shape by the caller: it is part of what is signed */
  deliveryId: string;
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
  const expected = Buffer.from(computeSignature(secret ?? DUMMY_SECRET, timestamp, options.deliveryId, options.rawBody).slice(7), 'hex');
  const given = Buffer.from(match[1]!, 'hex');
  const equal = given.length === expected.length && timingSafeEqual(given, expected);
  if (!secret) return { ok: false, reason: `unknown source "${source.slice(0, 64)}"` };
  if (!equal) {
    // Only a holder of the secret can produce the old scheme's HMAC, so saying so tells an attacker nothing.
    if (timingSafeEqual(given, legacySignature(secret, timestamp, options.rawBody))) {
      return { ok: false, reason: `legacy signature: ${HEADERS.signature} must now cover "<timestamp>.<delivery id>.<body>" (the delivery id was added)` };
    }
    return { ok: false, reason: 'signature does not match the body' };
  }
  return { ok: true, source, timestamp: ts, signature: match[1]!.toLowerCase() };
}
