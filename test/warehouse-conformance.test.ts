import { createHash } from 'node:crypto';
import { NonRetryableError } from '../domain/errors';
import type { Dialect } from '../warehouse/dialect';
import type { SqlParams } from '../warehouse/params';
import { listTables, type Warehouse } from '../warehouse/warehouse';
import { computeDrift } from '../analytics/drift';
import { runExpectations } from '../analytics/expectations';
import type { NumericFeatureDrift } from '../domain/drift';
import { evaluateBySegment, evaluateClassifier } from '../analytics/evaluation';
import { trainLogisticRegression } from '../analytics/logistic';
import { classifierFixture, loadClassifierFixture } from './support/classifier-fixture';
import { openBigQueryEmulator, openDuckDb, openSnowflakeEmulator, type OpenedWarehouse } from './support/emulators/targets';

/**
 * One set of behaviours every warehouse adapter must show, run against
 * embedded DuckDB and the BigQuery and Snowflake emulators through the real
 * client libraries. Whatever aimo's activities rely on belongs here.
 */

interface Target {
  readonly name: string;
  open(): Promise<OpenedWarehouse>;
  /** The warehouse's own name for an integer column */
  readonly integerType: RegExp;
  /** What listTables says of a table's creation time */
  readonly creationTime: 'none' | 'recent' | 'reported';
}

const targets: Target[] = [
  {
    name: 'DuckDB',
    integerType: /^(BIGINT|INTEGER)$/,
    creationTime: 'none',
    open: openDuckDb,
  },
  {
    name: 'BigQuery (bqemulator)',
    integerType: /^INT64$/,
    creationTime: 'recent',
    open: openBigQueryEmulator,
  },
  {
    name: 'Snowflake (fakesnow)',
    // Real Snowflake reports NUMBER; fakesnow reports the DuckDB type underneath.
    integerType: /^(NUMBER|INTEGER|BIGINT|DECIMAL)/,
    // fakesnow reports the epoch for every table; real Snowflake the time it was created.
    creationTime: 'reported',
    open: openSnowflakeEmulator,
  },
];

const opened = new Map<string, OpenedWarehouse>();

beforeAll(async () => {
  // Start the emulators side by side; each picks its own free port.
  const results = await Promise.allSettled(targets.map(async (t) => opened.set(t.name, await t.open())));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
});

afterAll(async () => {
  await Promise.all([...opened.values()].map((o) => o.close()));
});

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const unitHash = (text: string) => parseInt(sha256Hex(text).slice(0, 8), 16) / 2 ** 32;

describe.each(targets)('$name', (target) => {
  let wh: Warehouse;
  let d: Dialect;
  const q = (identifier: string) => d.quote(identifier);

  beforeAll(() => {
    wh = opened.get(target.name)!.warehouse;
    d = wh.dialect;
  });

  it('binds every parameter type, null and Date included', async () => {
    const when = new Date('2024-03-01T10:11:12.345Z');
    const [row] = await wh.query(
      `SELECT @s AS ${q('s')}, @i AS ${q('i')}, @f AS ${q('f')}, @yes AS ${q('yes')}, @no AS ${q('no')},
              ${d.cast('@nothing', 'int')} AS ${q('nothing')},
              ${d.cast('@when', 'timestamp')} AS ${q('ts')},
              ${d.cast(d.cast('@when', 'timestamp'), 'date')} AS ${q('day')},
              ${d.cast('@big', 'int')} AS ${q('big')}`,
      { s: 'héllo wörld', i: 42, f: 1.5, yes: true, no: false, nothing: null, when, big: 2n ** 60n },
    );
    expect(row).toEqual({
      s: 'héllo wörld',
      i: 42,
      f: 1.5,
      yes: true,
      no: false,
      nothing: null,
      ts: when,
      day: new Date('2024-03-01T00:00:00.000Z'),
      // Beyond 2^53 integers come back as exact strings, never rounded numbers.
      big: (2n ** 60n).toString(),
    });
  });

  it('keeps a parameter value out of the SQL text', async () => {
    await wh.createOrReplaceTableAs({ name: 'guarded' }, `SELECT 1 AS ${q('k')}`);
    const hostile = `x'); DROP TABLE ${d.table({ name: 'guarded' })}; --`;
    // An @ inside a string literal is text, not a placeholder (there is no @not_a_param to bind).
    const [row] = await wh.query(`SELECT @v AS ${q('v')}, 'mail@not_a_param' AS ${q('literal')}`, { v: hostile });
    expect(row).toEqual({ v: hostile, literal: 'mail@not_a_param' });
    expect(await wh.tableExists({ name: 'guarded' })).toBe(true);
  });

  it('createOrReplaceTableAs twice leaves what once does', async () => {
    const select = `SELECT @k AS ${q('k')}, @v AS ${q('v')} UNION ALL SELECT 2, 'b'`;
    await wh.createOrReplaceTableAs({ name: 'ctas' }, select, { k: 1, v: 'a' });
    const once = await wh.query(`SELECT * FROM ${d.table({ name: 'ctas' })} ORDER BY ${q('k')}`);
    await wh.createOrReplaceTableAs({ name: 'ctas' }, select, { k: 1, v: 'a' });
    const twice = await wh.query(`SELECT * FROM ${d.table({ name: 'ctas' })} ORDER BY ${q('k')}`);
    expect(once).toEqual([
      { k: 1, v: 'a' },
      { k: 2, v: 'b' },
    ]);
    expect(twice).toEqual(once);
  });

  it('a cancelled statement starts nothing and rejects with the cancellation; one that finished first is kept', async () => {
    const abort = new AbortController();
    await wh.createOrReplaceTableAs({ name: 'kept_before_cancel' }, `SELECT 1 AS ${q('k')}`, {}, { signal: abort.signal });
    const reason = new Error('cancelled by the test');
    abort.abort(reason);
    await expect(wh.createOrReplaceTableAs({ name: 'never_started' }, `SELECT 1 AS ${q('k')}`, {}, { signal: abort.signal })).rejects.toBe(reason);
    await expect(wh.query(`SELECT 1 AS ${q('k')}`, {}, { signal: abort.signal })).rejects.toBe(reason);
    expect(await wh.tableExists({ name: 'never_started' })).toBe(false);
    expect(await wh.tableExists({ name: 'kept_before_cancel' })).toBe(true);
  });

  it('merge twice leaves what once does, and updates matched rows', async () => {
    const merged = { name: 'merged' };
    await wh.execute(`CREATE OR REPLACE TABLE ${d.table(merged)} (${q('k')} ${d.type('int')}, ${q('v')} ${d.type('string')})`);
    const source = `SELECT 1 AS ${q('k')}, @v AS ${q('v')} UNION ALL SELECT 2, 'b'`;
    const rows = () => wh.query(`SELECT * FROM ${d.table(merged)} ORDER BY ${q('k')}`);

    await wh.merge(merged, source, ['k'], ['k', 'v'], { v: 'a' });
    const once = await rows();
    await wh.merge(merged, source, ['k'], ['k', 'v'], { v: 'a' });
    expect(await rows()).toEqual(once);
    expect(once).toEqual([
      { k: 1, v: 'a' },
      { k: 2, v: 'b' },
    ]);

    await wh.merge(merged, source, ['k'], ['k', 'v'], { v: 'changed' });
    expect(await rows()).toEqual([
      { k: 1, v: 'changed' },
      { k: 2, v: 'b' },
    ]);
  });

  it('tableExists and columns describe a table in column order', async () => {
    await wh.execute(
      `CREATE OR REPLACE TABLE ${d.table({ name: 'described' })} (${q('user_id')} ${d.type('int')}, ${q('email')} ${d.type('string')}, ${q('seen_at')} ${d.type('timestamp')})`,
    );
    expect(await wh.tableExists({ name: 'described' })).toBe(true);
    expect(await wh.tableExists({ name: 'never_created' })).toBe(false);
    const columns = await wh.columns({ name: 'described' });
    expect(columns.map((c) => c.name)).toEqual(['user_id', 'email', 'seen_at']);
    expect(columns[0]!.type).toMatch(target.integerType);
    for (const c of columns) {
      expect(c.type).toBe(c.type.toUpperCase());
      expect(c.nullable).toBe(true);
    }
  });

  it('reports a missing table as a non-retryable error that names it', async () => {
    for (const attempt of [
      () => wh.columns({ name: 'no_such_table' }),
      () => wh.query(`SELECT * FROM ${d.table({ name: 'no_such_table' })}`),
    ]) {
      const err = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NonRetryableError);
      expect(err).toMatchObject({ type: 'MissingTable', message: expect.stringMatching(/no_such_table/i) });
    }
  });

  it('reports bad SQL as a non-retryable query error carrying the warehouse message', async () => {
    const err = await wh.query('SELEC 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ type: 'WarehouseQueryError', message: expect.stringMatching(/SELEC/) });
  });

  it('hashes like Node: sha256Hex, saltedHash and unitHash', async () => {
    const inputs = { a: 'abc', b: 'user-1234@example.com', c: 'café ☕' };
    const [row] = await wh.query(
      `SELECT ${d.sha256Hex('@a')} AS ${q('sha_a')}, ${d.sha256Hex('@c')} AS ${q('sha_c')},
              ${d.saltedHash('@b', 'salt')} AS ${q('salted_b')},
              ${d.unitHash('@a')} AS ${q('unit_a')}, ${d.unitHash('@b')} AS ${q('unit_b')}, ${d.unitHash('@c')} AS ${q('unit_c')}`,
      { ...inputs, salt: 'pepper-and-salt-0123456789' },
    );
    expect(row).toEqual({
      sha_a: sha256Hex(inputs.a),
      sha_c: sha256Hex(inputs.c),
      salted_b: sha256Hex(`pepper-and-salt-0123456789${inputs.b}`),
      unit_a: expect.closeTo(unitHash(inputs.a), 12),
      unit_b: expect.closeTo(unitHash(inputs.b), 12),
      unit_c: expect.closeTo(unitHash(inputs.c), 12),
    });
  });

  it('hashSample keeps a stable share of rows; logistic is exact without overflow, and NULL for NULL', async () => {
    const digits = Array.from({ length: 10 }, (_, i) => `SELECT ${i} AS ${q('d')}`).join(' UNION ALL ');
    const x = `(a.${q('d')} * 100 + b.${q('d')} * 10 + c.${q('d')})`;
    await wh.createOrReplaceTableAs(
      { name: 'sample_rows' },
      `SELECT ${x} AS ${q('i')}, ${d.cast(`MOD(${x} * 7919, 1000)`, 'float')} / 7.0 AS ${q('v')} FROM (${digits}) a CROSS JOIN (${digits}) b CROSS JOIN (${digits}) c`,
    );
    const sampled = () =>
      wh.query<{ i: number }>(`SELECT ${q('i')} FROM ${d.table({ name: 'sample_rows' })} WHERE ${d.hashSample([q('i'), q('v')], 0.2)} ORDER BY ${q('i')}`);
    const first = (await sampled()).map((r) => Number(r.i));
    expect(first.length).toBeGreaterThan(140);
    expect(first.length).toBeLessThan(260);
    expect((await sampled()).map((r) => Number(r.i))).toEqual(first);
    const [everything] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS ${q('n')} FROM ${d.table({ name: 'sample_rows' })} WHERE ${d.hashSample([q('i')], 1)}`);
    expect(Number(everything!.n)).toBe(1000);

    const etas = [-1000, -40, -1.5, 0, 2.25, 40, 1000];
    const [row] = await wh.query(
      `WITH aimo_etas AS (SELECT ${etas.map((e, k) => `${d.cast(String(e), 'float')} AS ${q(`e${k}`)}`).join(', ')})
       SELECT ${etas.map((_, k) => `${d.logistic(q(`e${k}`))} AS ${q(`p${k}`)}`).join(', ')}, ${d.logistic(d.cast('NULL', 'float'))} AS ${q('p_null')} FROM aimo_etas`,
    );
    etas.forEach((e, k) => {
      const expected = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
      const got = Number(row![`p${k}`]);
      expect(Math.abs(got - expected)).toBeLessThanOrEqual(4e-16 * expected);
    });
    expect(row!['p_null']).toBeNull();
  });

  it('exactSum adds floats as fixed-point decimals: 0.1 ten times is 1, whatever the order', async () => {
    const tenths = Array.from({ length: 10 }, () => `SELECT ${d.cast('0.1', 'float')} AS ${q('x')}`).join(' UNION ALL ');
    const [row] = await wh.query(`SELECT ${d.exactSum(q('x'))} AS ${q('exact')}, ${d.exactSum(`${q('x')} * ${q('x')}`)} AS ${q('squares')} FROM (${tenths}) t`);
    // A float SUM of ten 0.1s is 0.9999999999999999.
    expect(Number(row!['exact'])).toBe(1);
    expect(Number(row!['squares'])).toBe(0.1);
  });

  it('addDays and dateDiffDays do calendar arithmetic', async () => {
    const leapDay = d.cast("'2024-02-28'", 'date');
    const [row] = await wh.query(
      `SELECT ${d.addDays(leapDay, 2)} AS ${q('plus_two')}, ${d.addDays(leapDay, '@days')} AS ${q('minus_bound')},
              ${d.dateDiffDays(d.cast("'2024-03-01'", 'date'), d.cast("'2024-02-01'", 'date'))} AS ${q('feb_days')},
              ${d.dateDiffDays(d.cast("'2023-12-31'", 'date'), d.cast("'2024-01-01'", 'date'))} AS ${q('backwards')}`,
      { days: -28 },
    );
    expect(row).toEqual({
      plus_two: new Date('2024-03-01T00:00:00.000Z'),
      minus_bound: new Date('2024-01-31T00:00:00.000Z'),
      feb_days: 29,
      backwards: -1,
    });
  });

  it('listTables lists a schema\'s tables and views; dropTableIfExists drops once and then does nothing', async () => {
    const schema = 'listing_case';
    const table = (name: string) => d.table({ name, schema });
    await wh.execute(d.createSchemaIfNotExists(schema));
    await wh.createOrReplaceTableAs({ name: 'run_a', schema }, `SELECT 1 AS ${q('k')}`);
    await wh.createOrReplaceTableAs({ name: 'run_b', schema }, `SELECT 2 AS ${q('k')}`);
    await wh.execute(d.createOrReplaceView({ name: 'served', schema }, `SELECT ${q('k')} FROM ${table('run_a')}`));

    const listed = await listTables(wh, schema);
    expect(listed.map((t) => [t.name, t.kind])).toEqual([
      ['run_a', 'table'],
      ['run_b', 'table'],
      ['served', 'view'],
    ]);
    const view = listed.find((t) => t.name === 'served')!;
    expect(view.definition).toMatch(/run_a/);
    for (const t of listed.filter((l) => l.kind === 'table')) {
      if (target.creationTime === 'none') expect(t.createdAt).toBeUndefined();
      else expect(t.createdAt).toBeInstanceOf(Date);
      if (target.creationTime === 'recent') expect(Math.abs(Date.now() - t.createdAt!.getTime())).toBeLessThan(3_600_000);
    }

    await wh.execute(d.dropTableIfExists({ name: 'run_b', schema }));
    await wh.execute(d.dropTableIfExists({ name: 'run_b', schema }));
    expect((await listTables(wh, schema)).map((t) => t.name)).toEqual(['run_a', 'served']);
  });

  it('drift: two passes and the exact KS of a third agree with a computation on the raw values', async () => {
    const digits = Array.from({ length: 10 }, (_, i) => `SELECT ${i} AS ${q('d')}`).join(' UNION ALL ');
    const x = `(a.${q('d')} * 100 + b.${q('d')} * 10 + c.${q('d')})`;
    await wh.createOrReplaceTableAs(
      { name: 'drift_rows' },
      `SELECT ${x} AS ${q('i')}, ${d.cast(`MOD(${x} * 7919, 1000)`, 'float')} / 10.0 AS ${q('a')}, MOD(${x}, 13) AS ${q('b')},
              CASE WHEN MOD(${x}, 5) = 0 THEN 'p' WHEN MOD(${x}, 3) = 0 THEN 'q' ELSE 'r' END AS ${q('c')}
       FROM (${digits}) a CROSS JOIN (${digits}) b CROSS JOIN (${digits}) c`,
    );
    const report = await computeDrift(wh, {
      reference: { table: { name: 'drift_rows' }, filter: { column: 'i', to: 600 } },
      current: { table: { name: 'drift_rows' }, filter: { column: 'i', from: 400 } },
      numericFeatures: ['a', 'b'],
      categoricalFeatures: ['c'],
    });
    const ids = Array.from({ length: 1000 }, (_, i) => i);
    const a = (i: number) => ((i * 7919) % 1000) / 10;
    const ks = (f: (i: number) => number) => {
      const ref = ids.filter((i) => i < 600).map(f).sort((p, r) => p - r);
      const cur = ids.filter((i) => i >= 400).map(f).sort((p, r) => p - r);
      let [i, j, best] = [0, 0, 0];
      while (i < ref.length && j < cur.length) {
        const v = Math.min(ref[i]!, cur[j]!);
        while (i < ref.length && ref[i] === v) i++;
        while (j < cur.length && cur[j] === v) j++;
        best = Math.max(best, Math.abs(i / ref.length - j / cur.length));
      }
      return best;
    };
    const [fa, fb, fc] = report.features;
    expect([report.referenceRows, report.currentRows]).toEqual([600, 600]);
    expect(Math.abs((fa as NumericFeatureDrift).ks! - ks(a))).toBeLessThan(1e-12);
    expect(Math.abs((fb as NumericFeatureDrift).ks! - ks((i) => i % 13))).toBeLessThan(1e-12);
    expect(fa).toMatchObject({ method: 'ks', ksMethod: 'exact', referenceCount: 600, currentCount: 600 });
    expect(fc).toMatchObject({ method: 'chisquare', kind: 'categorical' });
    const cat = (i: number) => (i % 5 === 0 ? 'p' : i % 3 === 0 ? 'q' : 'r');
    for (const bin of (fc as { bins: Array<{ category: string | null; referenceCount: number; currentCount: number }> }).bins) {
      expect(bin.referenceCount).toBe(ids.filter((i) => i < 600 && cat(i) === bin.category).length);
      expect(bin.currentCount).toBe(ids.filter((i) => i >= 400 && cat(i) === bin.category).length);
    }

    const checks = await runExpectations(wh, { name: 'drift_rows' }, [
      { kind: 'row_count', min: 1000 },
      { kind: 'in_set', column: 'c', values: ['p', 'q'] },
      { kind: 'between', column: 'b', min: 1, max: 11 },
      { kind: 'unique', columns: ['b', 'c'] },
    ]);
    expect(checks.map((r) => r.unexpectedCount)).toEqual([0, ids.filter((i) => cat(i) === 'r').length, ids.filter((i) => i % 13 === 0 || i % 13 === 12).length, 1000]);
    expect(checks[1]!.sample).toEqual(['r']);
    expect(checks[2]!.sample.sort()).toEqual([0, 12]);
  });
  it('trains the logistic baseline as scikit-learn does, with and without the sampled warm start, and scores holdouts as it does', async () => {
    const fixture = classifierFixture();
    const table = { name: 'classifier_rows' };
    await loadClassifierFixture(wh, table, fixture);
    const spec = { table, features: fixture.features, label: 'label', filter: { column: 'split', value: 'train' }, maxIterations: 25, tolerance: 1e-10 };
    const trainRows = fixture.rows.filter((r) => r.split === 'train').length;
    for (const [penalty, sklearn] of Object.entries(fixture.fits)) {
      const l2 = Number(penalty);
      // 1 500 training rows: a warm start from about 300 of them, against plain Newton from the prevalence.
      const sent: string[] = [];
      const recording = new Proxy(wh, {
        get: (target, key) => (key === 'query' ? (sql: string, params?: SqlParams) => (sent.push(sql), target.query(sql, params)) : Reflect.get(target, key, target)),
      });
      const warm = await trainLogisticRegression(recording, { ...spec, l2, warmStartRows: 300 });
      const plain = await trainLogisticRegression(wh, { ...spec, l2, warmStartRows: 0 });
      const samplePasses = sent.filter((sql) => sql.includes('aimo_sample')).length;
      const fullHessianPasses = sent.filter((sql) => !sql.includes('aimo_sample') && sql.includes('h_1_1')).length;
      expect(samplePasses).toBeGreaterThan(0);
      expect(fullHessianPasses).toBe(0);
      for (const model of [warm, plain]) {
        expect(model).toMatchObject({ converged: true, trainRows: trainRows });
        expect(Math.abs(model.intercept - sklearn.intercept)).toBeLessThan(1e-7);
        for (const f of fixture.features) expect(Math.abs(model.coefficients[f]! - sklearn.coefficients[f]!)).toBeLessThan(1e-7);
      }
      expect(Math.abs(warm.intercept - plain.intercept)).toBeLessThan(1e-10);
      for (const f of fixture.features) expect(Math.abs(warm.coefficients[f]! - plain.coefficients[f]!)).toBeLessThan(1e-10);
      expect(Math.abs(warm.trainLogLoss - plain.trainLogLoss)).toBeLessThan(1e-12);
    }

    const holdout = { table, filter: { column: 'split', value: 'holdout' }, label: 'label', score: q('score') };
    const metrics = await evaluateClassifier(wh, holdout);
    expect(metrics.rows).toBe(fixture.rows.length - trainRows);
    expect(Math.abs(metrics.auc - fixture.holdout.auc)).toBeLessThan(1e-12);
    expect(Math.abs(metrics.logLoss - fixture.holdout.logLoss)).toBeLessThan(1e-12);
    expect(Math.abs(metrics.brier - fixture.holdout.brier)).toBeLessThan(1e-12);
    expect(metrics.calibration.reduce((s, b) => s + b.count, 0)).toBe(metrics.rows);

    // Rows without a score are left out, a NULL segment is a group of its own, and ties rank together within each group.
    await wh.createOrReplaceTableAs(
      { name: 'classifier_segments' },
      `SELECT ${q('label')}, CASE WHEN MOD(${q('id')}, 10) = 4 THEN NULL ELSE ${q('score')} END AS ${q('score')},
              CASE WHEN MOD(${q('id')}, 3) = 0 THEN NULL WHEN MOD(${q('id')}, 3) = 1 THEN 'a' ELSE 'b' END AS ${q('segment')}
       FROM ${d.table(table)} WHERE ${q('split')} = 'holdout'`,
    );
    const bySegment = await evaluateBySegment(wh, { table: { name: 'classifier_segments' }, label: 'label', score: q('score'), segment: 'segment', minRows: 1 });
    const auc = (pairs: Array<{ s: number; y: number }>) => {
      let concordant = 0;
      const positives = pairs.filter((p) => p.y === 1);
      const negatives = pairs.filter((p) => p.y === 0);
      for (const p of positives) for (const n of negatives) concordant += p.s > n.s ? 1 : p.s === n.s ? 0.5 : 0;
      return concordant / (positives.length * negatives.length);
    };
    const holdoutRows = fixture.rows.filter((r) => r.split === 'holdout' && r.id % 10 !== 4);
    const segmentOf = (id: number) => (id % 3 === 0 ? '(null)' : id % 3 === 1 ? 'a' : 'b');
    expect(bySegment.groups.map((g) => g.value)).toEqual(['(null)', 'a', 'b']);
    for (const g of bySegment.groups) {
      const members = holdoutRows.filter((r) => segmentOf(r.id) === g.value).map((r) => ({ s: r.score, y: r.label }));
      expect(g.rows).toBe(members.length);
      expect(Math.abs(g.auc! - auc(members))).toBeLessThan(1e-12);
    }
  });
});
