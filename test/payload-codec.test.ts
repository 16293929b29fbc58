import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError, type Client, type Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import { parseEnv } from '../config';
import { temporalSettingsFromEnv, devServerOptionsFromEnv } from '../config/temporal';
import { WORKFLOW_TYPES } from '../domain/rollout/definitions';
import { startCodecServer, type CodecServer } from '../platform/codec-server';
import { ensureDevServer } from '../platform/dev-server';
import { createLogger } from '../platform/logger';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, parsePayloadKeys, type PayloadKey } from '../platform/payload-codec';
import { aimoStartOptions } from '../platform/start-options';
import { resolveTemporalBinary } from '../platform/temporal-binaries';
import { connectClient, connectWorker, payloadDataConverter, type TemporalConnectionOptions } from '../platform/temporal-connection';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { createAimoWorker } from '../workers/create-worker';
import { seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { uniqueTaskQueue } from './support/temporal';

const run = promisify(execFile);
const silent = createLogger({ level: 'silent', format: 'json' });
const key = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const UI_ORIGIN = 'http://localhost:8233';
const ENCRYPTED_ENCODING_BASE64 = Buffer.from(ENCRYPTED_ENCODING).toString('base64');

function jsonPayload(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value);
}

function fromPayload(payload: Payload): unknown {
  return defaultPayloadConverter.fromPayload(payload);
}

/** The protocol's wire form: proto3 JSON, every bytes field base64. */
function toWire(payloads: Payload[]) {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
}

function fromWire(body: { payloads: { metadata: Record<string, string>; data: string }[] }): Payload[] {
  return body.payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data, 'base64'),
  }));
}

describe('AES-GCM payload codec', () => {
  it('encrypts every payload under the first key and decrypts it again', async () => {
    const codec = new AesGcmPayloadCodec([key('k2'), key('k1')]);
    const plain = [jsonPayload({ owner: 'jane.doe@example.com', auc: 0.71 }), jsonPayload('x'), jsonPayload(undefined)];
    const sealed = await codec.encode(plain);
    for (const p of sealed) {
      expect(Buffer.from(p.metadata!['encoding']!).toString()).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(p.metadata!['encryption-key-id']!).toString()).toBe('k2');
      expect(Buffer.from(p.data!).toString('latin1')).not.toContain('jane.doe');
    }
    // A fresh IV each time: equal plaintexts do not give equal ciphertexts.
    const [again] = await codec.encode([plain[0]!]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(sealed[0]!.data!))).toBe(false);
    const opened = await codec.decode(sealed);
    expect(opened.map(fromPayload)).toEqual([{ owner: 'jane.doe@example.com', auc: 0.71 }, 'x', undefined]);
  });

  it('rotates: a new key in front encrypts, payloads under the old key still decrypt, plain payloads pass through', async () => {
    const old = key('2025');
    const fresh = key('2026');
    const before = await new AesGcmPayloadCodec([old]).encode([jsonPayload({ plan: 'old' })]);
    const rotated = new AesGcmPayloadCodec([fresh, old]);
    const after = await rotated.encode([jsonPayload({ plan: 'new' })]);
    expect(Buffer.from(after[0]!.metadata!['encryption-key-id']!).toString()).toBe('2026');
    const decoded = await rotated.decode([...before, ...after, jsonPayload({ plan: 'plain, from before encryption' })]);
    expect(decoded.map(fromPayload)).toEqual([{ plan: 'old' }, { plan: 'new' }, { plan: 'plain, from before encryption' }]);
  });

  it('refuses a payload under a dropped key, a tampered one and one relabelled with another key id', async () => {
    const a = key('a');
    const b = key('b');
    const [sealed] = await new AesGcmPayloadCodec([a]).encode([jsonPayload({ secret: 1 })]);
    await expect(new AesGcmPayloadCodec([b]).decode([sealed!])).rejects.toThrow(/key "a", which is not among the configured payload keys/);
    const tampered = Buffer.from(sealed!.data!);
    tampered[20] = tampered[20]! ^ 1;
    await expect(new AesGcmPayloadCodec([a]).decode([{ ...sealed!, data: tampered }])).rejects.toThrow(/does not authenticate/);
    // Same key material under another id: the id is authenticated with the ciphertext.
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('b') } };
    await expect(new AesGcmPayloadCodec([{ id: 'b', key: a.key }]).decode([relabelled])).rejects.toThrow(/does not authenticate/);
  });

  it('reads keys as "id:base64" or "id:hex" and names the entry and the fix for a bad one, never the key', () => {
    const b64 = randomBytes(32).toString('base64');
    const hex = randomBytes(32).toString('hex');
    const ok = parsePayloadKeys(`new:${b64}, old:${hex}`);
    expect(ok.problems).toEqual([]);
    expect(ok.keys.map((k) => [k.id, k.key.length])).toEqual([['new', 32], ['old', 32]]);
    const bad = parsePayloadKeys(`short:${randomBytes(16).toString('base64')},${b64},new:${b64},new:${hex}`);
    expect(bad.problems).toEqual([
      expect.stringMatching(/^AIMO_PAYLOAD_KEYS: key "short" must be 32 bytes as base64 \(openssl rand -base64 32\)/),
      expect.stringMatching(/^AIMO_PAYLOAD_KEYS: entry 2 needs "keyId:key"/),
      expect.stringMatching(/^AIMO_PAYLOAD_KEYS: key id "new" is listed twice/),
    ]);
    for (const p of bad.problems) expect(p).not.toContain(b64);
  });

  it('is on exactly when AIMO_PAYLOAD_KEYS is set; a bad value stops start-up naming the variable; the dev server UI gets the codec endpoint', () => {
    expect(temporalSettingsFromEnv(parseEnv({})).payloadKeys).toBeUndefined();
    expect(payloadDataConverter(temporalSettingsFromEnv(parseEnv({})))).toBeUndefined();
    const b64 = randomBytes(32).toString('base64');
    const env = parseEnv({ AIMO_PAYLOAD_KEYS: `k1:${b64}` });
    const settings = temporalSettingsFromEnv(env);
    expect(settings.payloadKeys!.map((k) => k.id)).toEqual(['k1']);
    expect(settings.codecServer).toMatchObject({ host: '127.0.0.1', port: 8234, endpoint: 'http://127.0.0.1:8234', allowedOrigins: ['http://localhost:8233', 'http://127.0.0.1:8233'] });
    expect(payloadDataConverter(settings)!.payloadCodecs).toHaveLength(1);
    expect(devServerOptionsFromEnv(env, '/tmp/x').uiCodecEndpoint).toBe('http://127.0.0.1:8234');
    expect(() => parseEnv({ AIMO_PAYLOAD_KEYS: 'k1:tooshort' })).toThrow(/AIMO_PAYLOAD_KEYS: key "k1" must be 32 bytes/);
    expect(() => parseEnv({ AIMO_PAYLOAD_KEYS: `k1:${b64}`, AIMO_CODEC_HOST: '0.0.0.0' })).toThrow(/AIMO_CODEC_TOKEN: required when AIMO_CODEC_HOST \(0\.0\.0\.0\) is not a loopback address/);
    let message = '';
    try {
      parseEnv({ AIMO_PAYLOAD_KEYS: `k1:${b64}x` });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('AIMO_PAYLOAD_KEYS');
    expect(message).not.toContain(b64);
  });
});

describe('codec server (Temporal remote codec protocol)', () => {
  const codec = new AesGcmPayloadCodec([key('k1')]);
  let open: CodecServer;
  let guarded: CodecServer;
  const token = randomBytes(24).toString('hex');

  beforeAll(async () => {
    [open, guarded] = await Promise.all([
      startCodecServer({ codec, logger: silent, port: 0, allowedOrigins: [UI_ORIGIN] }),
      startCodecServer({ codec, logger: silent, port: 0, allowedOrigins: [UI_ORIGIN], token }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([open?.close(), guarded?.close()]);
  });

  const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('round-trips payloads through /encode and /decode, also under /<namespace>/', async () => {
    const values = [{ plan: { owner: 'jane.doe@example.com' } }, 42, 'text'];
    const encoded = await post(open.url, '/encode', toWire(values.map(jsonPayload)), { 'x-namespace': 'default' });
    expect(encoded.status).toBe(200);
    const sealed = fromWire((await encoded.json()) as never);
    expect(sealed.every((p) => Buffer.from(p.metadata!['encoding']!).toString() === ENCRYPTED_ENCODING)).toBe(true);
    const decoded = await post(open.url, '/default/decode', toWire(sealed));
    expect(decoded.status).toBe(200);
    expect(fromWire((await decoded.json()) as never).map(fromPayload)).toEqual(values);
  });

  it('answers the Temporal UI origin with CORS, refuses other origins, and asks for the token when one is set', async () => {
    const preflight = await fetch(`${open.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/x-namespace/);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);

    const sealed = await codec.encode([jsonPayload({ pii: 'jane.doe@example.com' })]);
    const fromUi = await post(open.url, '/decode', toWire(sealed), { origin: UI_ORIGIN });
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);

    const elsewhere = await post(open.url, '/decode', toWire(sealed), { origin: 'https://evil.example' });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
    expect(await elsewhere.text()).not.toContain('jane.doe');

    expect((await post(guarded.url, '/decode', toWire(sealed))).status).toBe(401);
    expect((await post(guarded.url, '/decode', toWire(sealed), { authorization: 'Bearer wrong' })).status).toBe(401);
    const authed = await post(guarded.url, '/decode', toWire(sealed), { authorization: `Bearer ${token}` });
    expect(fromWire((await authed.json()) as never).map(fromPayload)).toEqual([{ pii: 'jane.doe@example.com' }]);
  });

  it('names what is wrong with a bad request, without a stack', async () => {
    expect((await post(open.url, '/decode', { nope: 1 })).status).toBe(400);
    expect((await fetch(`${open.url}/decode`)).status).toBe(405);
    expect((await post(open.url, '/other', toWire([]))).status).toBe(404);
    const foreign = await new AesGcmPayloadCodec([key('gone')]).encode([jsonPayload(1)]);
    const refused = await post(open.url, '/decode', toWire(foreign));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toMatch(/key "gone"/);
  });
});

/**
 * A rollout run by an encrypting worker and started by an encrypting client
 * (the product's own connectClient / createAimoWorker), on the shared dev
 * server: its stored history holds none of the plan's values, the PII-like
 * owner, the step results or the failure message — until it is read through
 * the codec server, as the UI and the Temporal CLI do.
 */
describe('a history written with payload encryption on', () => {
  const OWNER = 'jane.doe@example.com';
  const MISSING_TABLE = 'orders_missing_0451';
  const keys = [key('k2026')];
  let options: TemporalConnectionOptions;
  let client: Client;
  let connection: Connection;
  let workerConnection: NativeConnection;
  let warehouse: DuckDbWarehouse;
  let codecServer: CodecServer;
  const workflowId = `rollout-enc-${randomBytes(4).toString('hex')}`;
  let history: temporal.api.history.v1.IHistory;

  beforeAll(async () => {
    const address = process.env['AIMO_TEST_TEMPORAL_ADDRESS']!;
    options = { address, namespace: 'default', tls: false, payloadKeys: keys };
    [{ client, connection }, workerConnection, warehouse, codecServer] = await Promise.all([
      connectClient(options),
      connectWorker(options),
      seededWarehouse(3000, 11),
      startCodecServer({ codec: new AesGcmPayloadCodec(keys), logger: silent, port: 0, allowedOrigins: [UI_ORIGIN] }),
    ]);
    const taskQueue = uniqueTaskQueue('encrypted');
    // No prebuilt bundle: the worker bundles workflows/ with the encoding failure converter, as the product's does.
    const worker = await createAimoWorker({
      connection: workerConnection,
      namespace: 'default',
      taskQueue,
      activities: createActivities({ warehouse, hashSalt: TEST_SALT, dataDir: tempDataDir() }),
      dataConverter: payloadDataConverter(options)!,
    });
    const plan = testPlan({ useCase: 'enc-gap', owner: OWNER, sources: { schema: 'raw', orders: MISSING_TABLE } as never });
    const error = await worker.runUntil(
      client.workflow
        .execute(WORKFLOW_TYPES.rollout, aimoStartOptions({ taskQueue, workflowId, args: [plan], useCase: 'enc-gap', summary: `rollout of enc-gap on paid_search by ${OWNER}`, trigger: { via: 'test' } }))
        .catch((e: unknown) => e),
    );
    // The client decrypts: the failure reads as it was thrown.
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(((error as WorkflowFailedError).cause as Error).message).toContain(MISSING_TABLE);
    history = await client.workflow.getHandle(workflowId).fetchHistory();
  }, 240_000);

  afterAll(async () => {
    await codecServer?.close();
    await warehouse?.close();
    await workerConnection?.close();
    await connection?.close();
  });

  /**
   * Every payload in the history (inputs, results, memo, summaries, failure
   * attributes) but search attributes: the server indexes those, so they stay
   * readable (use case, step, status) by design.
   */
  function payloadsOf(h: temporal.api.history.v1.IHistory): Payload[] {
    const found: Payload[] = [];
    const walk = (node: unknown, path: string): void => {
      if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
      const o = node as Record<string, unknown>;
      if (o['data'] instanceof Uint8Array && o['metadata'] && typeof o['metadata'] === 'object') {
        found.push(Object.assign(o as Payload, { path }));
        return;
      }
      for (const [k, v] of Object.entries(o)) if (k !== 'searchAttributes' && k !== 'upsertWorkflowSearchAttributesEventAttributes') walk(v, `${path}.${k}`);
    };
    walk(h, 'history');
    return found;
  }

  const needles = [OWNER, MISSING_TABLE, 'paid_search', 'conversion_rate', '"baseline"'];

  it('holds no plaintext plan field, PII-like value, result or failure message', () => {
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
    for (const needle of needles) expect(raw).not.toContain(needle);
    const payloads = payloadsOf(history);
    expect(payloads.length).toBeGreaterThan(5);
    const plain = payloads.filter((p) => Buffer.from(p.metadata!['encoding']!).toString() !== ENCRYPTED_ENCODING);
    // Only the SDK core's own marker bookkeeping stays plain: a patch's id, a local activity's sequence number and timing.
    const bookkeeping = new Set(['id', 'deprecated', 'seq', 'attempt', 'activity_id', 'activity_type', 'complete_time', 'backoff', 'original_schedule_time']);
    for (const p of plain) {
      expect((p as Payload & { path: string }).path).toMatch(/markerRecordedEventAttributes\.details\.(patch-data|data)\./);
      expect(Object.keys(JSON.parse(Buffer.from(p.data!).toString()) as object).filter((k) => !bookkeeping.has(k))).toEqual([]);
    }
  });

  it('reads again through the codec server, as the UI does: the plan, the step results and the failure are all there', async () => {
    const response = await fetch(`${codecServer.url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: UI_ORIGIN, 'x-namespace': 'default' },
      body: JSON.stringify(toWire(payloadsOf(history))),
    });
    expect(response.status).toBe(200);
    const plain = fromWire((await response.json()) as never)
      .map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))
      .join('\n');
    for (const needle of needles) expect(plain).toContain(needle);
  });

  it('reads through the codec server with the Temporal CLI (temporal workflow show --codec-endpoint)', async () => {
    const cli = resolveTemporalBinary('cli', { projectRoot: join(__dirname, '..'), report: () => undefined });
    if (cli.executable.type !== 'existing-path') throw new Error('the Temporal CLI was not resolved to a file');
    const args = ['workflow', 'show', '-w', workflowId, '--address', options.address, '--namespace', 'default', '-o', 'json'];
    const without = await run(cli.executable.path, args, { maxBuffer: 64 * 1024 * 1024 });
    for (const needle of [OWNER, MISSING_TABLE]) expect(without.stdout).not.toContain(needle);
    const withCodec = await run(cli.executable.path, [...args, '--codec-endpoint', codecServer.url], { maxBuffer: 64 * 1024 * 1024 });
    // The CLI's JSON export keeps payload bytes in base64; decoded, they are the plan and the results again.
    const decoded = [...withCodec.stdout.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
    expect(withCodec.stdout).not.toContain(ENCRYPTED_ENCODING_BASE64);
    expect(decoded).toContain(OWNER);
    expect(decoded).toContain(MISSING_TABLE);
  });
});

describe('the embedded stack\'s dev server with encryption on', () => {
  it('starts its UI pointing at the codec server (--ui-codec-endpoint), so the UI decodes through it', async () => {
    const [port, uiPort] = await Promise.all([freePort(), freePort()]);
    const dataDir = tempDataDir();
    const b64 = randomBytes(32).toString('base64');
    const options = devServerOptionsFromEnv(
      parseEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, AIMO_UI_PORT: String(uiPort), AIMO_DEV_SERVER: 'always', AIMO_PAYLOAD_KEYS: `k1:${b64}`, AIMO_CODEC_PORT: '18234' }),
      dataDir,
    );
    const server = await ensureDevServer(options, () => resolveTemporalBinary('cli', { projectRoot: join(__dirname, '..'), report: () => undefined }));
    try {
      const settings = (await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
      expect(settings.Codec.Endpoint).toBe('http://127.0.0.1:18234');
    } finally {
      await server.stop();
    }
  }, 120_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
