import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NonRetryableError } from '../domain/errors';
import {
  classifySnowflakeError,
  loadPrivateKey,
  queryTag,
  resultColumnName,
  SnowflakeWarehouse,
} from '../warehouse/snowflake';
import { snowflakeOptionsFromEnv } from '../config/warehouse';
import { RecordingProxy, type RecordedRequest } from './support/emulators/recording-proxy';
import { emulatedSnowflakeOptions, openEmulatedSnowflake, startSnowflakeEmulator, type SnowflakeEmulator } from './support/emulators/snowflake';

interface LoginBody {
  data: Record<string, unknown>;
}

interface QueryBody {
  sqlText: string;
  parameters?: Record<string, unknown>;
  bindings?: Record<string, { type: string; value: unknown }>;
}

const LOGIN_PATH = '/session/v1/login-request';
const QUERY_PATH = '/queries/v1/query-request';

describe('SnowflakeWarehouse against fakesnow', () => {
  let emulator: SnowflakeEmulator;
  let proxy: RecordingProxy;
  let wh: SnowflakeWarehouse;
  let keyDir: string;

  const logins = () => proxy.to(LOGIN_PATH);
  const queries = () => proxy.to(QUERY_PATH).map((r) => r.body as QueryBody);

  beforeAll(async () => {
    keyDir = mkdtempSync(join(tmpdir(), 'aimo-snowflake-keys-'));
    emulator = await startSnowflakeEmulator();
    proxy = await RecordingProxy.start(emulator.accessUrl);
    wh = await openEmulatedSnowflake(proxy.url, { statementTimeoutSeconds: 900 });
  });

  afterAll(async () => {
    await wh?.close();
    await proxy?.close();
    await emulator?.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    proxy.clear();
    proxy.rewrite = undefined;
  });

  it('tags every statement with aimo, the use case and the workflow id, as statement parameters', async () => {
    await wh.query('SELECT 1 AS one', {}, { useCase: 'churn-email', workflowId: 'rollout/churn-email/2024-03' });
    const [statement] = queries();
    expect(JSON.parse(statement!.parameters!['QUERY_TAG'] as string)).toEqual({
      app: 'aimo',
      use_case: 'churn-email',
      workflow_id: 'rollout/churn-email/2024-03',
    });
    expect(statement!.parameters).toMatchObject({ STATEMENT_TIMEOUT_IN_SECONDS: 900, TIMEZONE: 'UTC' });
  });

  it('keeps query tags within Snowflake’s 2000 characters', () => {
    const tag = queryTag({ useCase: 'u'.repeat(5000), workflowId: 'w'.repeat(5000) });
    expect(tag.length).toBeLessThanOrEqual(2000);
    expect(JSON.parse(tag)).toMatchObject({ app: 'aimo' });
  });

  it('binds positionally, with Dates as UTC timestamp text and big integers as exact text', async () => {
    await wh.query('SELECT @a AS a, @b AS b, @a AS a_again, @when AS w, @big AS big', {
      a: 1,
      b: 'two',
      when: new Date('2024-03-01T10:11:12.345Z'),
      big: 2n ** 62n,
    });
    const [statement] = queries();
    expect(statement!.sqlText).toBe('SELECT ? AS a, ? AS b, ? AS a_again, ? AS w, ? AS big');
    expect(statement!.bindings).toEqual({
      '1': { type: 'FIXED', value: '1' },
      '2': { type: 'TEXT', value: 'two' },
      '3': { type: 'FIXED', value: '1' },
      '4': { type: 'TEXT', value: '2024-03-01 10:11:12.345' },
      '5': { type: 'TEXT', value: (2n ** 62n).toString() },
    });
  });

  it('logs in with a password, naming the warehouse, database, schema and role', async () => {
    const second = await SnowflakeWarehouse.open(emulatedSnowflakeOptions(proxy.url, { auth: { kind: 'password', password: 'correct horse' } }));
    await second.close();
    const [login] = logins();
    const url = new URL(login!.url, 'http://x');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      warehouse: 'AIMO_WH',
      databaseName: 'AIMO_TEST',
      schemaName: 'AIMO',
      roleName: 'AIMO_ROLE',
    });
    const data = (login!.body as LoginBody).data;
    expect(data).toMatchObject({ LOGIN_NAME: 'aimo_test', PASSWORD: 'correct horse' });
    expect(data['AUTHENTICATOR'] ?? 'SNOWFLAKE').toBe('SNOWFLAKE');
    expect(data['TOKEN']).toBeUndefined();
  });

  it('logs in with a key pair: the driver sends a JWT signed by the configured (encrypted) key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'key passphrase' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const keyPath = join(keyDir, 'rsa_key.p8');
    writeFileSync(keyPath, privateKey, { mode: 0o600 });

    const keyed = await SnowflakeWarehouse.open(
      emulatedSnowflakeOptions(proxy.url, { auth: { kind: 'keyPair', privateKeyPath: keyPath, passphrase: 'key passphrase' } }),
    );
    try {
      expect(await keyed.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await keyed.close();
    }

    const data = (logins()[0]!.body as LoginBody).data;
    expect(data['AUTHENTICATOR']).toBe('SNOWFLAKE_JWT');
    expect(data['PASSWORD']).toBeUndefined();
    const [header, payload, signature] = String(data['TOKEN']).split('.');
    expect(verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature!, 'base64url'))).toBe(true);
    const fingerprint = createHash('sha256').update(createPublicKey(publicKey).export({ type: 'spki', format: 'der' })).digest('base64');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toMatchObject({
      iss: `FAKESNOW.AIMO_TEST.SHA256:${fingerprint}`,
      sub: 'FAKESNOW.AIMO_TEST',
    });
  });

  it('turns rejected credentials into a non-retryable error carrying Snowflake’s message', async () => {
    proxy.rewrite = (request: RecordedRequest) =>
      request.url.startsWith(LOGIN_PATH)
        ? { body: { data: { nextAction: 'RETRY_LOGIN', authnMethod: 'USERNAME_PASSWORD' }, code: '390100', message: 'Incorrect username or password was specified.', success: false } }
        : undefined;
    const err = await SnowflakeWarehouse.open(emulatedSnowflakeOptions(proxy.url)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ type: 'WarehouseAuthenticationFailed', message: expect.stringContaining('Incorrect username or password') });
  });

  it('reuses a few sessions for many concurrent statements', async () => {
    const pooled = await SnowflakeWarehouse.open(emulatedSnowflakeOptions(proxy.url, { maxSessions: 2 }));
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => pooled.query('SELECT @i AS i', { i })));
      expect(results.map((rows) => rows[0]!['i'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(logins()).toHaveLength(2);
    } finally {
      await pooled.close();
    }
  });

  it('folds Snowflake’s upper-cased unquoted names back to lower case, and keeps quoted mixed case', async () => {
    const [row] = await wh.query('SELECT 1 AS n, 2 AS "MiXed", 3 AS "already_lower"');
    expect(row).toEqual({ n: 1, MiXed: 2, already_lower: 3 });
    expect(resultColumnName('COUNT(*)')).toBe('count(*)');
  });

  it('returns plain JS values: exact big integers, decimals as numbers, plain Dates', async () => {
    const [row] = await wh.query(
      `SELECT 9007199254740993 AS big, CAST(12.50 AS NUMBER(10, 2)) AS money, CAST('2024-03-01 10:11:12.345' AS TIMESTAMP_NTZ) AS ts,
              CAST('2024-03-01' AS DATE) AS day, CAST(NULL AS NUMBER) AS nothing, TRUE AS flag`,
    );
    expect(row).toEqual({
      big: '9007199254740993',
      money: 12.5,
      ts: new Date('2024-03-01T10:11:12.345Z'),
      day: new Date('2024-03-01T00:00:00.000Z'),
      nothing: null,
      flag: true,
    });
    expect(Object.getPrototypeOf(row!['ts'])).toBe(Date.prototype);
  });
});

describe('Snowflake key-pair configuration', () => {
  let dir: string;
  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aimo-snowflake-config-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rsa = (bits: number, passphrase?: string) =>
    generateKeyPairSync('rsa', {
      modulusLength: bits,
      privateKeyEncoding: passphrase ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase } : { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;

  const expectConfigError = (fn: () => unknown, message: RegExp) => {
    let thrown: unknown;
    try {
      fn();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(NonRetryableError);
    expect(thrown).toMatchObject({ type: 'WarehouseConfigError', message: expect.stringMatching(message) });
    // Never the key material itself.
    expect((thrown as Error).message).not.toMatch(/MII[A-Za-z0-9+/]{20}/);
  };

  it('accepts an unencrypted RSA key and an encrypted one with its passphrase, returning plain PKCS#8', () => {
    expect(loadPrivateKey({ privateKeyPath: write('plain.p8', rsa(2048)) })).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(loadPrivateKey({ privateKeyPath: write('enc.p8', rsa(2048, 'secret')), passphrase: 'secret' })).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('names the file that cannot be read', () => {
    expectConfigError(() => loadPrivateKey({ privateKeyPath: join(dir, 'missing.p8') }), /SNOWFLAKE_PRIVATE_KEY_PATH .*missing\.p8.*ENOENT/);
  });

  it('rejects a file that is not a PEM private key', () => {
    expectConfigError(() => loadPrivateKey({ privateKeyPath: write('notes.txt', 'hello') }), /not a PEM private key/);
  });

  it('asks for the passphrase of an encrypted key, and says when it is wrong', () => {
    const path = write('enc2.p8', rsa(2048, 'right'));
    expectConfigError(() => loadPrivateKey({ privateKeyPath: path }), /encrypted; set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE/);
    expectConfigError(() => loadPrivateKey({ privateKeyPath: path, passphrase: 'wrong' }), /cannot decrypt the key; check SNOWFLAKE_PRIVATE_KEY_PASSPHRASE/);
  });

  it('requires RSA of at least 2048 bits', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    expectConfigError(() => loadPrivateKey({ privateKeyPath: write('ec.p8', ec.privateKey) }), /needs an RSA key, got ec/);
    expectConfigError(() => loadPrivateKey({ privateKeyPath: write('small.p8', rsa(1024)) }), /1024 bits; Snowflake needs at least 2048/);
  });

  it('is checked before any connection is attempted', async () => {
    await expect(
      SnowflakeWarehouse.open(emulatedSnowflakeOptions('http://127.0.0.1:9', { auth: { kind: 'keyPair', privateKeyPath: join(dir, 'nope.p8') } })),
    ).rejects.toMatchObject({ type: 'WarehouseConfigError' });
  });

  it('reads the environment, preferring a key pair over a password, and names what is missing', () => {
    const base = {
      SNOWFLAKE_ACCOUNT: 'acme-eu',
      SNOWFLAKE_USER: 'AIMO_SVC',
      SNOWFLAKE_WAREHOUSE: 'AIMO_WH',
      SNOWFLAKE_DATABASE: 'MARKETING',
      SNOWFLAKE_SCHEMA: 'AIMO',
    };
    expect(snowflakeOptionsFromEnv({ ...base, SNOWFLAKE_PASSWORD: 'pw', SNOWFLAKE_PRIVATE_KEY_PATH: '/k.p8', SNOWFLAKE_ROLE: 'AIMO_ROLE' })).toEqual({
      account: 'acme-eu',
      username: 'AIMO_SVC',
      auth: { kind: 'keyPair', privateKeyPath: '/k.p8' },
      warehouse: 'AIMO_WH',
      database: 'MARKETING',
      schema: 'AIMO',
      role: 'AIMO_ROLE',
    });
    expect(snowflakeOptionsFromEnv({ ...base, SNOWFLAKE_PASSWORD: 'pw' }).auth).toEqual({ kind: 'password', password: 'pw' });
    expect(() => snowflakeOptionsFromEnv(base)).toThrow(/SNOWFLAKE_PRIVATE_KEY_PATH .* or SNOWFLAKE_PASSWORD/);
    expect(() => snowflakeOptionsFromEnv({ SNOWFLAKE_ACCOUNT: 'a' })).toThrow(/SNOWFLAKE_USER, SNOWFLAKE_WAREHOUSE, SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA/);
  });
});

describe('classifySnowflakeError', () => {
  const sfError = (message: string, props: Record<string, unknown>) => Object.assign(new Error(message), props);

  it.each([
    ['a network failure', sfError('Network error. Could not reach Snowflake.', { name: 'NetworkError', code: 401001, cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) })],
    ['a 503 from Snowflake', sfError('Request to Snowflake failed.', { name: 'RequestFailedError', code: 401002, response: { statusCode: 503 } })],
    ['a 429 from Snowflake', sfError('Request to Snowflake failed.', { name: 'RequestFailedError', code: 401002, response: { statusCode: 429 } })],
    ['a statement timeout', sfError('Statement reached its statement or warehouse timeout of 900 second(s) and was canceled.', { code: '000630', sqlState: '57014' })],
    ['an expired session', sfError('Authentication token has expired.  The user must authenticate again.', { code: '390114', sqlState: '08001' })],
    ['an internal error', sfError('SQL execution internal error: Processing aborted due to error 300010:391167117', { code: '000603', sqlState: 'XX000' })],
  ])('lets Temporal retry %s', (_what, err) => {
    const classified = classifySnowflakeError(err);
    expect(classified).not.toBeInstanceOf(NonRetryableError);
    expect(classified.message).toContain(err.message);
  });

  it.each([
    ['WarehouseQueryError', sfError("SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'SELEC'.", { code: '001003', sqlState: '42000' })],
    ['MissingTable', sfError("SQL compilation error:\nObject 'MARKETING.AIMO.ORDERS' does not exist or not authorized.", { code: '002003', sqlState: '42S02' })],
    ['WarehousePermissionDenied', sfError("SQL access control error:\nInsufficient privileges to operate on schema 'AIMO'", { code: '003001', sqlState: '42501' })],
    ['WarehouseAuthenticationFailed', sfError('Incorrect username or password was specified.', { code: '390100', sqlState: '08004' })],
    ['WarehouseAuthenticationFailed', sfError('JWT token is invalid.', { code: '390144', sqlState: '08004' })],
    ['WarehousePermissionDenied', sfError("Role 'AIMO_ROLE' specified in the connect string is not granted to this user.", { code: '390189', sqlState: '08004' })],
    ['WarehouseConfigError', sfError('No active warehouse selected in the current session.', { code: '000606', sqlState: '57P03' })],
    ['WarehouseAuthenticationFailed', sfError('Request to Snowflake failed.', { name: 'RequestFailedError', code: 401002, response: { statusCode: 401 } })],
    ['WarehouseQueryError', sfError("Numeric value 'abc' is not recognized", { code: '100038', sqlState: '22018' })],
  ])('stops with %s', (type, err) => {
    const classified = classifySnowflakeError(err);
    expect(classified).toBeInstanceOf(NonRetryableError);
    expect(classified).toMatchObject({ type, message: expect.stringContaining(err.message.split('\n')[0]!) });
  });
});
