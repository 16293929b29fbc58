import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors';
import type { RouteDoc } from './openapi';
import { HEADERS, verifySignature } from './signature';

/** Who sent a verified webhook and under which delivery id. */
export interface Delivery {
  readonly source: string;
  readonly deliveryId: string;
}

/** Runs only on a request whose signature, delivery id and freshness were checked; `body` is its parsed JSON. */
export type SignedHandler = (body: unknown, delivery: Delivery, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface SignedRoute extends RouteDoc {
  readonly handler: SignedHandler;
}

const DELIVERY_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The signed POST routes of one server: every one is authenticated the same
 * way, and every one is in the OpenAPI document. Replays need no state here:
 * the delivery id is signed, and what it starts is unique in Temporal
 * (see signature.ts).
 */
export class SignedRoutes {
  private readonly routes: SignedRoute[] = [];

  constructor(
    private readonly secrets: Readonly<Record<string, string>>,
    private readonly toleranceSeconds: number,
  ) {}

  post(app: FastifyInstance, route: SignedRoute): void {
    app.post(route.path, async (request, reply) => {
      const { body, delivery } = this.authenticate(request);
      return route.handler(body, delivery, request, reply);
    });
    this.routes.push(route);
  }

  /** What was registered so far, in order. */
  get docs(): readonly RouteDoc[] {
    return this.routes;
  }

  private authenticate(request: FastifyRequest): { body: unknown; delivery: Delivery } {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const header = (name: string) => {
      const v = request.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const deliveryId = header(HEADERS.delivery);
    if (!deliveryId || !DELIVERY_ID.test(deliveryId)) {
      throw new HttpError(400, `${HEADERS.delivery} header required: the sender's unique id of this delivery (letters, digits, ".", "_", "-"; at most 128), signed with the body`);
    }
    const verified = verifySignature({
      secrets: this.secrets,
      source: header(HEADERS.source),
      timestamp: header(HEADERS.timestamp),
      signature: header(HEADERS.signature),
      deliveryId,
      rawBody,
      toleranceSeconds: this.toleranceSeconds,
    });
    if (!verified.ok) {
      request.log.warn({ reason: verified.reason, source: header(HEADERS.source) }, 'webhook refused: not authenticated');
      // One message for every cause: senders learn nothing about which sources exist.
      throw new HttpError(401, `unauthenticated: sign the request as described in docs/triggers.md (${publicReason(verified.reason)})`);
    }
    return { body: parseJson(rawBody), delivery: { source: verified.source, deliveryId } };
  }
}

function parseJson(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON', ['(body): send one JSON object']);
  }
}

function publicReason(reason: string): string {
  // Header-shape problems help a sender fix its code; which sources exist or whether the HMAC matched is not said.
  if (reason.startsWith('unknown source') || reason.startsWith('signature does not match')) return 'unknown source or bad signature';
  return reason;
}
