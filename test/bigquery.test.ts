import { NonRetryableError } from '../domain/errors';
import { bigQueryOptionsFromEnv } from '../config/warehouse';
import {
  classifyBigQueryError,
  contextLabels,
  sanitiseLabelKey,
  sanitiseLabelValue,
} from '../warehouse/bigquery';
import { EMULATED_PROJECT, openEmulatedBigQuery, startBigQueryEmulator, type BigQueryEmulator } from './support/emulators/bigquery';
import { RecordingProxy, type RecordedRequest } from './support/emulators/recording-proxy';
import type { WorkerHostedBigQuery } from './support/emulators/worker-warehouse';

interface JobInsert {
  configuration: {
    dryRun?: boolean;
    labels?: Record<string, string>;
    query: { query: string; maximumBytesBilled?: string; queryParameters?: unknown[] };
  };
}

const JOBS_PATH = `/bigquery/v2/projects/${EMULATED_PROJECT}/jobs`;
const isJobInsert = (r: RecordedRequest) => r.method === 'POST' && r.url.split('?')[0] === JOBS_PATH;

describe('BigQueryWarehouse against bqemulator', () => {
  let emulator: BigQueryEmulator;
  let proxy: RecordingProxy;
  let wh: WorkerHostedBigQuery;

  const jobInserts = () => proxy.requests.filter(isJobInsert).map((r) => r.body as JobInsert);

  /** Stands in for BigQuery's estimator: bqemulator has no cost model and reports 0 bytes for every dry run. */
  const estimateDryRunsAt = (bytes: number) => {
    proxy.rewrite = (request, body) => {
      if (!isJobInsert(request) || !(request.body as JobInsert).configuration.dryRun) return undefined;
      const job = body as { statistics: { totalBytesProcessed?: string; query: { totalBytesProcessed: string } } };
      job.statistics.totalBytesProcessed = String(bytes);
      job.statistics.query.totalBytesProcessed = String(bytes);
      return { body: job };
    };
  };

  beforeAll(async () => {
    emulator = await startBigQueryEmulator();
    proxy = await RecordingProxy.start(emulator.endpoint);
    wh = await openEmulatedBigQuery(proxy.url, { dataset: 'aimo_bq', labels: { Team: 'Growth Marketing' } });
  });

  afterAll(async () => {
    await wh?.close();
    await proxy?.close();
    await emulator?.stop();
  });

  beforeEach(() => {
    proxy.clear();
    proxy.rewrite = undefined;
  });

  it('labels every job with aimo, the use case and the workflow id, sanitised to label rules', async () => {
    await wh.query('SELECT 1 AS one', {}, { useCase: 'Churn Email (DE)', workflowId: 'rollout/churn-email:2024-03-01T10:00Z' });
    const [job] = jobInserts();
    expect(job!.configuration.labels).toEqual({
      app: 'aimo',
      team: 'growth_marketing',
      aimo_use_case: 'churn_email__de_',
      aimo_workflow_id: 'rollout_churn-email_2024-03-01t10_00z',
    });
  });

  it('sends no credentials to an emulator when told to be unauthenticated', async () => {
    await wh.query('SELECT 1 AS one');
    expect(proxy.requests.length).toBeGreaterThan(0);
    for (const r of proxy.requests) expect(r.headers.authorization).toBeUndefined();
  });

  it('binds parameters as typed BigQuery query parameters, nulls as STRING', async () => {
    await wh.query('SELECT @n AS n, @s AS s, @when AS w, @nothing AS nothing', {
      n: 7,
      s: 'x',
      when: new Date('2024-01-02T03:04:05.000Z'),
      nothing: null,
    });
    const [job] = jobInserts();
    expect(job!.configuration.query.queryParameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'n', parameterType: { type: 'INT64' } }),
        expect.objectContaining({ name: 's', parameterType: { type: 'STRING' } }),
        expect.objectContaining({ name: 'when', parameterType: { type: 'TIMESTAMP' } }),
        expect.objectContaining({ name: 'nothing', parameterType: { type: 'STRING' } }),
      ]),
    );
  });

  it('refuses a statement over the byte budget before it runs, naming the budget and the estimate', async () => {
    estimateDryRunsAt(5_000_000_000);
    const table = { name: 'too_expensive' };
    const err = await wh
      .createOrReplaceTableAs(table, 'SELECT 1 AS x', {}, { maxBytesScanned: 1_000_000_000, useCase: 'churn', workflowId: 'wf-42' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({
      type: 'CostBudgetExceeded',
      message: expect.stringContaining('budget of 1.0 GB (1000000000 bytes)'),
    });
    expect((err as Error).message).toContain('estimates 5.0 GB (5000000000 bytes)');
    expect((err as Error).message).toContain('use case churn, workflow wf-42');
    // Only the dry run reached BigQuery: no job ran, so the table was never created.
    expect(jobInserts().map((j) => j.configuration.dryRun ?? false)).toEqual([true]);
    proxy.rewrite = undefined;
    expect(await wh.tableExists(table)).toBe(false);
  });

  it('runs a statement within budget, dry run first, with maximumBytesBilled set to the budget', async () => {
    estimateDryRunsAt(2_000);
    const rows = await wh.query('SELECT 40 + @n AS answer', { n: 2 }, { maxBytesScanned: 1_000_000 });
    expect(rows).toEqual([{ answer: 42 }]);
    const jobs = jobInserts();
    expect(jobs.map((j) => j.configuration.dryRun ?? false)).toEqual([true, false]);
    expect(jobs[0]!.configuration.query.maximumBytesBilled).toBeUndefined();
    expect(jobs[1]!.configuration.query.maximumBytesBilled).toBe('1000000');
  });

  it('does not dry-run when no budget is set', async () => {
    await wh.query('SELECT 1 AS one');
    expect(jobInserts().map((j) => j.configuration.dryRun ?? false)).toEqual([false]);
    expect(jobInserts()[0]!.configuration.query.maximumBytesBilled).toBeUndefined();
  });

  it('reads the estimate from the dry run (bqemulator itself always reports 0 bytes)', async () => {
    expect(await wh.estimateBytes('SELECT 1 AS one')).toBe(0);
    estimateDryRunsAt(123_456);
    expect(await wh.estimateBytes('SELECT 1 AS one')).toBe(123_456);
  });

  it('returns plain JS values: numbers, exact big integers, Dates, booleans, arrays', async () => {
    const [row] = await wh.query(`
      SELECT 42 AS int_small, 9007199254740993 AS int_big, CAST('12.5' AS NUMERIC) AS num, 0.25 AS flt, TRUE AS flag,
             DATE '2024-03-01' AS day, DATETIME '2024-03-01 10:11:12' AS local_time, TIMESTAMP '2024-03-01 10:11:12.345 UTC' AS ts,
             [1, 2, 3] AS arr, CAST(NULL AS STRING) AS nothing`);
    expect(row).toEqual({
      int_small: 42,
      int_big: '9007199254740993',
      num: 12.5,
      flt: 0.25,
      flag: true,
      day: new Date('2024-03-01T00:00:00.000Z'),
      local_time: new Date('2024-03-01T10:11:12.000Z'),
      ts: new Date('2024-03-01T10:11:12.345Z'),
      arr: [1, 2, 3],
      nothing: null,
    });
  });

  it('reports columns with standard SQL type names', async () => {
    await wh.execute(`CREATE OR REPLACE TABLE ${wh.dialect.table({ name: 'typed' })} (a INT64, b FLOAT64, c BOOL, d STRING NOT NULL, e ARRAY<INT64>)`);
    expect(await wh.columns({ name: 'typed' })).toEqual([
      { name: 'a', type: 'INT64', nullable: true },
      { name: 'b', type: 'FLOAT64', nullable: true },
      { name: 'c', type: 'BOOL', nullable: true },
      { name: 'd', type: 'STRING', nullable: false },
      { name: 'e', type: 'ARRAY<INT64>', nullable: false },
    ]);
  });

  it('turns a permission error from the API into a non-retryable error with BigQuery’s own message', async () => {
    const denied = 'Access Denied: Project aimo-test: User does not have bigquery.jobs.create permission in project aimo-test.';
    proxy.rewrite = (request) =>
      isJobInsert(request)
        ? { status: 403, body: { error: { code: 403, message: denied, errors: [{ reason: 'accessDenied', message: denied }] } } }
        : undefined;
    await expect(wh.query('SELECT 1 AS one')).rejects.toMatchObject({
      type: 'WarehousePermissionDenied',
      message: expect.stringContaining('bigquery.jobs.create'),
    });
  });
});

describe('BigQuery job labels', () => {
  it('lower-cases and replaces characters labels do not allow', () => {
    expect(sanitiseLabelValue('Churn Email / DE')).toBe('churn_email___de');
    expect(sanitiseLabelValue('ok-value_1')).toBe('ok-value_1');
    expect(sanitiseLabelKey('2fa')).toBe('l2fa');
  });

  it('keeps long values within 63 characters and distinct', () => {
    const a = sanitiseLabelValue(`rollout-${'x'.repeat(80)}-a`);
    const b = sanitiseLabelValue(`rollout-${'x'.repeat(80)}-b`);
    expect(a).toHaveLength(63);
    expect(b).toHaveLength(63);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9_-]+$/);
  });

  it('always names the app, and the use case and workflow when known', () => {
    expect(contextLabels({})).toEqual({ app: 'aimo' });
    expect(contextLabels({ useCase: 'churn', workflowId: 'wf' })).toEqual({ app: 'aimo', aimo_use_case: 'churn', aimo_workflow_id: 'wf' });
  });
});

describe('classifyBigQueryError', () => {
  const apiError = (message: string, props: Record<string, unknown>) => Object.assign(new Error(message), props);

  it.each([
    ['a rate limit (429)', apiError('Exceeded rate limits', { code: 429, errors: [{ reason: 'rateLimitExceeded' }] })],
    ['a rate limit sent as 403', apiError('Exceeded rate limits: too many table update operations', { code: 403, errors: [{ reason: 'rateLimitExceeded' }] })],
    ['a backend error (500)', apiError('Backend error', { code: 500, errors: [{ reason: 'backendError' }] })],
    ['a 503 without a reason', apiError('Service unavailable', { code: 503 })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a failed job that hit an internal error', apiError('Internal error', { errors: [{ reason: 'jobInternalError' }] })],
  ])('lets Temporal retry %s', (_what, err) => {
    const classified = classifyBigQueryError(err);
    expect(classified).not.toBeInstanceOf(NonRetryableError);
    expect(classified.message).toContain(err.message);
  });

  it.each([
    ['WarehouseQueryError', apiError('Syntax error: Unexpected identifier "SELEC" at [1:1]', { code: 400, errors: [{ reason: 'invalidQuery' }] })],
    ['MissingTable', apiError('Not found: Table p:d.orders was not found in location EU', { code: 404, errors: [{ reason: 'notFound' }] })],
    ['MissingTable', apiError('Not found: Dataset p:raw', { errors: [{ reason: 'notFound' }] })],
    ['WarehousePermissionDenied', apiError('Access Denied: Table p:d.t: User does not have permission', { code: 403, errors: [{ reason: 'accessDenied' }] })],
    ['WarehouseAuthenticationFailed', apiError('Request had invalid authentication credentials.', { code: 401 })],
    ['WarehouseAuthenticationFailed', new Error('Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication')],
    ['WarehouseConfigError', Object.assign(new Error("ENOENT: no such file or directory, open '/keys/sa.json'"), { code: 'ENOENT' })],
    ['CostBudgetExceeded', apiError('Query exceeded limit for bytes billed: 1000000. 10485760 or higher required.', { errors: [{ reason: 'bytesBilledLimitExceeded' }] })],
  ])('stops with %s', (type, err) => {
    const classified = classifyBigQueryError(err);
    expect(classified).toBeInstanceOf(NonRetryableError);
    expect(classified).toMatchObject({ type, message: expect.stringContaining(err.message) });
  });
});

describe('bigQueryOptionsFromEnv', () => {
  it('maps the documented variables', () => {
    expect(
      bigQueryOptionsFromEnv({
        BIGQUERY_PROJECT: 'acme-marketing',
        BIGQUERY_DATASET: 'aimo',
        BIGQUERY_LOCATION: 'EU',
        GOOGLE_APPLICATION_CREDENTIALS: '/secrets/sa.json',
      }),
    ).toEqual({ projectId: 'acme-marketing', dataset: 'aimo', location: 'EU', keyFilename: '/secrets/sa.json' });
  });

  it('names what is missing', () => {
    expect(() => bigQueryOptionsFromEnv({ BIGQUERY_LOCATION: 'EU' })).toThrow(/BIGQUERY_PROJECT and BIGQUERY_DATASET/);
  });
});
