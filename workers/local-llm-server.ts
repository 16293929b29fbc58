import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenAI-compatible HTTP server: `POST /v1/chat/completions` (with
 * `response_format: json_schema`), `POST /v1/moderations` and `GET /v1/models`.
 * It is a stand-in, not a model: it writes plain ads from the product data in
 * the prompt, reports token usage, and can be scripted to misbehave (a wrong
 * price, a banned term, an over-long headline, HTTP 429/500) so tests and the
 * demo exercise the same client, guardrails and retries as a real endpoint.
 */

export type LlmFault =
  | { kind: 'wrong-price' }
  | { kind: 'banned-term'; term: string }
  | { kind: 'too-long' }
  | { kind: 'invalid-json' }
  | { kind: 'status'; status: 429 | 500 | 503 }
  /** The moderation endpoint answers with this status */
  | { kind: 'moderation-status'; status: 500 | 503 };

export interface ScriptedFault {
  readonly fault: LlmFault;
  /** Only requests for this model */
  readonly model?: string;
  /** Only requests about this product */
  readonly productId?: string;
  /** How many matching requests it applies to (default 1) */
  times?: number;
}

export interface LlmRequestRecord {
  readonly path: string;
  readonly model: string;
  readonly productId?: string;
  /** Every message's text, as received */
  readonly text: string;
  readonly status: number;
  /** A completion that reported usage: what a provider would bill */
  readonly billed: boolean;
}

export interface LocalLlmServer {
  readonly url: string;
  /** The base URL the `openai` client takes (…/v1) */
  readonly baseURL: string;
  readonly requests: LlmRequestRecord[];
  script(fault: ScriptedFault): void;
  /** Completions billed so far (optionally for one product) */
  billedCalls(productId?: string): number;
  reset(): void;
  close(): Promise<void>;
}

const FLAGGED_WORDS = ['kill', 'hate', 'violence'];

interface ProductData {
  id: string;
  name: string;
  price: number;
  currency: string;
  inStock: boolean;
  allowedClaims: string[];
}

const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export async function startLocalLlmServer(options: { port?: number; host?: string } = {}): Promise<LocalLlmServer> {
  const requests: LlmRequestRecord[] = [];
  const faults: ScriptedFault[] = [];
  let ids = 0;

  const takeFault = (applies: (fault: LlmFault, scripted: ScriptedFault) => boolean): LlmFault | undefined => {
    const i = faults.findIndex((f) => applies(f.fault, f));
    if (i < 0) return undefined;
    const f = faults[i]!;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) faults.splice(i, 1);
    return f.fault;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/v1/models') {
      send(200, { object: 'list', data: [{ id: 'local-writer', object: 'model', owned_by: 'aimo' }] });
      return;
    }
    if (req.method !== 'POST') return send(405, { error: { message: 'method not allowed' } });
    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) return send(401, { error: { message: 'missing API key', type: 'invalid_request_error' } });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return send(400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
    }

    if (path === '/v1/moderations') {
      const input = Array.isArray(body['input']) ? (body['input'] as string[]) : [String(body['input'] ?? '')];
      const down = takeFault((f) => f.kind === 'moderation-status');
      if (down?.kind === 'moderation-status') {
        requests.push({ path, model: 'moderation', text: input.join('\n'), status: down.status, billed: false });
        return send(down.status, { error: { message: 'moderation unavailable (local stand-in)', type: 'server_error' } });
      }
      requests.push({ path, model: String(body['model'] ?? 'moderation'), text: input.join('\n'), status: 200, billed: false });
      send(200, {
        id: `modr-${++ids}`,
        model: 'local-moderation',
        results: input.map((text) => {
          const flagged = FLAGGED_WORDS.some((w) => text.toLowerCase().includes(w));
          return { flagged, categories: { violence: flagged }, category_scores: { violence: flagged ? 0.9 : 0.001 } };
        }),
      });
      return;
    }
    if (path !== '/v1/chat/completions') return send(404, { error: { message: `no route ${path}` } });

    const model = String(body['model'] ?? '');
    const messages = (body['messages'] as Array<{ role: string; content: string }> | undefined) ?? [];
    const text = messages.map((m) => m.content).join('\n');
    const product = productFrom(text);
    const fault = takeFault(
      (f, s) => f.kind !== 'moderation-status' && (s.model === undefined || s.model === model) && (s.productId === undefined || s.productId === product?.id),
    );
    if (fault?.kind === 'status') {
      requests.push({ path, model, ...(product ? { productId: product.id } : {}), text, status: fault.status, billed: false });
      return send(fault.status, { error: { message: fault.status === 429 ? 'rate limit reached (local stand-in)' : 'server error (local stand-in)', type: 'server_error' } });
    }
    if (!product) {
      requests.push({ path, model, text, status: 400, billed: false });
      return send(400, { error: { message: 'the local stand-in needs a <product_data> block', type: 'invalid_request_error' } });
    }
    const count = Number(/write (\d+)/i.exec(text)?.[1] ?? 1);
    const regeneration = /Earlier variants were rejected/.test(text);
    const variants = Array.from({ length: Math.min(10, Math.max(1, count)) }, (_, i) => writeVariant(product, i + (regeneration ? 3 : 0)));
    if (fault && variants[0]) {
      if (fault.kind === 'wrong-price') {
        const wrong = Math.round(product.price * 80) / 100;
        variants[0] = { ...variants[0], description: `${product.name} for only ${money(wrong, product.currency)}.`.slice(0, 90), claimedPrice: wrong };
      } else if (fault.kind === 'banned-term') {
        variants[0] = { ...variants[0], description: `The ${fault.term} ${product.name} you can find.`.slice(0, 90) };
      } else if (fault.kind === 'too-long') {
        variants[0] = { ...variants[0], headline: `${product.name} — the one you have been waiting for all season long` };
      }
    }
    const content = fault?.kind === 'invalid-json' ? '{"variants": [' : JSON.stringify({ variants });
    const usage = { prompt_tokens: tokens(text), completion_tokens: tokens(content), total_tokens: tokens(text) + tokens(content) };
    requests.push({ path, model, productId: product.id, text, status: 200, billed: true });
    send(200, {
      id: `chatcmpl-local-${++ids}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content, refusal: null } }],
      usage,
    });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: err instanceof Error ? err.message : String(err) } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const url = `http://${address}:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    script(fault) {
      faults.push({ ...fault });
    },
    billedCalls(productId) {
      return requests.filter((r) => r.billed && (productId === undefined || r.productId === productId)).length;
    },
    reset() {
      requests.length = 0;
      faults.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function productFrom(text: string): ProductData | undefined {
  // The last block: the system message names the tags too.
  const m = [...text.matchAll(/<product_data>\n([\s\S]*?)\n<\/product_data>/g)].pop();
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]!) as ProductData;
  } catch {
    return undefined;
  }
}

function money(amount: number, currency: string): string {
  const symbol = currency === 'EUR' ? '€' : currency === 'USD' ? '$' : currency === 'GBP' ? '£' : `${currency} `;
  return `${symbol}${amount.toFixed(2)}`;
}

function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return cut.slice(0, Math.max(cut.lastIndexOf(' '), 1)).trim();
}

/** Plain ads from the facts only: the catalogue's free text is never copied into an ad. */
function writeVariant(p: ProductData, angle: number) {
  const price = money(p.price, p.currency);
  const claim = p.allowedClaims[angle % Math.max(1, p.allowedClaims.length)];
  const stock = p.inStock ? ' In stock.' : '';
  const options = [
    { headline: fit(p.name, 30), description: `${p.name} for ${price}.${stock}` },
    { headline: fit(`${p.name} ${price}`, 30), description: claim ? `${claim[0]!.toUpperCase()}${claim.slice(1)}. ${p.name} for ${price}.` : `${p.name}, well made, fairly priced.` },
    { headline: fit(`Get your ${p.name}`, 30), description: `Discover ${p.name}.${claim ? ` ${claim[0]!.toUpperCase()}${claim.slice(1)}.` : ''}` },
    { headline: fit(`Shop ${p.name}`, 30), description: `${p.name}, now ${price}.${stock}` },
    { headline: fit(`${p.name} online`, 30), description: `Order ${p.name} online for ${price}.` },
    { headline: fit(`New: ${p.name}`, 30), description: `See what makes ${p.name} different.` },
  ];
  const chosen = options[angle % options.length]!;
  const mentionsPrice = chosen.description.includes(price) || chosen.headline.includes(price);
  return {
    headline: chosen.headline,
    description: fit(chosen.description, 90),
    claimedPrice: mentionsPrice ? p.price : null,
    claimsInStock: chosen.description.includes('In stock'),
  };
}
