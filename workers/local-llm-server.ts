import { createServer, type IncomingMessage, type Server } from 'node:http';
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

/** What the stand-in remembers: every request it answered, and the faults scripted for the next ones. */
class StandInState {
  readonly requests: LlmRequestRecord[] = [];
  readonly faults: ScriptedFault[] = [];
  private ids = 0;

  nextId(): number {
    return ++this.ids;
  }

  /** The first scripted fault that applies, used up once per `times`. */
  takeFault(applies: (fault: LlmFault, scripted: ScriptedFault) => boolean): LlmFault | undefined {
    const i = this.faults.findIndex((f) => applies(f.fault, f));
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.faults.splice(i, 1);
    return f.fault;
  }
}

type Reply = { status: number; body: unknown };
const failure = (status: number, message: string, type = 'invalid_request_error'): Reply => ({ status, body: { error: { message, type } } });

export async function startLocalLlmServer(options: { port?: number; host?: string } = {}): Promise<LocalLlmServer> {
  const state = new StandInState();
  const server: Server = createServer((req, res) => {
    answer(state, req)
      .then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      })
      .catch((err: unknown) => {
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
    requests: state.requests,
    script(fault) {
      state.faults.push({ ...fault });
    },
    billedCalls(productId) {
      return state.requests.filter((r) => r.billed && (productId === undefined || r.productId === productId)).length;
    },
    reset() {
      state.requests.length = 0;
      state.faults.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The OpenAI-compatible routes the content use case calls: models, moderations and chat completions. */
async function answer(state: StandInState, req: IncomingMessage): Promise<Reply> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (req.method === 'GET' && path === '/v1/models') return { status: 200, body: { object: 'list', data: [{ id: 'local-writer', object: 'model', owned_by: 'aimo' }] } };
  if (req.method !== 'POST') return failure(405, 'method not allowed');
  if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) return failure(401, 'missing API key');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    return failure(400, 'body is not JSON');
  }
  if (path === '/v1/moderations') return moderate(state, path, body);
  if (path === '/v1/chat/completions') return complete(state, path, body);
  return { status: 404, body: { error: { message: `no route ${path}` } } };
}

function moderate(state: StandInState, path: string, body: Record<string, unknown>): Reply {
  const input = Array.isArray(body['input']) ? (body['input'] as string[]) : [String(body['input'] ?? '')];
  const down = state.takeFault((f) => f.kind === 'moderation-status');
  if (down?.kind === 'moderation-status') {
    state.requests.push({ path, model: 'moderation', text: input.join('\n'), status: down.status, billed: false });
    return failure(down.status, 'moderation unavailable (local stand-in)', 'server_error');
  }
  state.requests.push({ path, model: String(body['model'] ?? 'moderation'), text: input.join('\n'), status: 200, billed: false });
  const results = input.map((text) => {
    const flagged = FLAGGED_WORDS.some((w) => text.toLowerCase().includes(w));
    return { flagged, categories: { violence: flagged }, category_scores: { violence: flagged ? 0.9 : 0.001 } };
  });
  return { status: 200, body: { id: `modr-${state.nextId()}`, model: 'local-moderation', results } };
}

function complete(state: StandInState, path: string, body: Record<string, unknown>): Reply {
  const model = String(body['model'] ?? '');
  const messages = (body['messages'] as Array<{ role: string; content: string }> | undefined) ?? [];
  const text = messages.map((m) => m.content).join('\n');
  const product = productFrom(text);
  const fault = state.takeFault(
    (f, s) => f.kind !== 'moderation-status' && (s.model === undefined || s.model === model) && (s.productId === undefined || s.productId === product?.id),
  );
  if (fault?.kind === 'status') {
    state.requests.push({ path, model, ...(product ? { productId: product.id } : {}), text, status: fault.status, billed: false });
    return failure(fault.status, fault.status === 429 ? 'rate limit reached (local stand-in)' : 'server error (local stand-in)', 'server_error');
  }
  if (!product) {
    state.requests.push({ path, model, text, status: 400, billed: false });
    return failure(400, 'the local stand-in needs a <product_data> block');
  }
  const count = Number(/write (\d+)/i.exec(text)?.[1] ?? 1);
  const regeneration = /Earlier variants were rejected/.test(text);
  const variants = Array.from({ length: Math.min(10, Math.max(1, count)) }, (_, i) => writeVariant(product, i + (regeneration ? 3 : 0)));
  if (fault && variants[0]) variants[0] = withFault(variants[0], fault, product);
  const content = fault?.kind === 'invalid-json' ? '{"variants": [' : JSON.stringify({ variants });
  const usage = { prompt_tokens: tokens(text), completion_tokens: tokens(content), total_tokens: tokens(text) + tokens(content) };
  state.requests.push({ path, model, productId: product.id, text, status: 200, billed: true });
  return {
    status: 200,
    body: {
      id: `chatcmpl-local-${state.nextId()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content, refusal: null } }],
      usage,
    },
  };
}

/** The scripted mistake in the first variant, so the guardrails have something to catch. */
function withFault(variant: ReturnType<typeof writeVariant>, fault: LlmFault, product: ProductData): ReturnType<typeof writeVariant> {
  if (fault.kind === 'wrong-price') {
    const wrong = Math.round(product.price * 80) / 100;
    return { ...variant, description: `${product.name} for only ${money(wrong, product.currency)}.`.slice(0, 90), claimedPrice: wrong };
  }
  if (fault.kind === 'banned-term') return { ...variant, description: `The ${fault.term} ${product.name} you can find.`.slice(0, 90) };
  if (fault.kind === 'too-long') return { ...variant, headline: `${product.name} — the one you have been waiting for all season long` };
  return variant;
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
