import { compileParams } from '../warehouse/params';
import { BigQueryDialect, DuckDbDialect, SnowflakeDialect } from '../warehouse/dialect';
import { DuckDbWarehouse } from '../warehouse/duckdb';

describe('compileParams', () => {
  it('rewrites placeholders per style and leaves quoted text alone', () => {
    const sql = `SELECT '@not' AS "a@b", @x + @y -- @comment\n, @x`;
    expect(compileParams(sql, { x: 1, y: 2 }, 'dollar').sql).toBe(`SELECT '@not' AS "a@b", $x + $y -- @comment\n, $x`);
    const positional = compileParams(sql, { x: 1, y: 2 }, 'positional');
    expect(positional.sql).toBe(`SELECT '@not' AS "a@b", ? + ? -- @comment\n, ?`);
    expect(positional.ordered).toEqual([1, 2, 1]);
  });

  it('names a missing parameter', () => {
    expect(() => compileParams('SELECT @missing', {}, 'at')).toThrow(/@missing/);
  });
});

describe('dialects', () => {
  const duck = new DuckDbDialect();
  const bq = new BigQueryDialect('my-project', 'aimo');
  const sf = new SnowflakeDialect('ANALYTICS', 'AIMO');

  it('quote and qualify validated identifiers only', () => {
    expect(duck.table({ name: 'users', schema: 'raw' })).toBe('"raw"."users"');
    expect(bq.table({ name: 'users' })).toBe('`my-project.aimo.users`');
    expect(sf.table({ name: 'users' })).toBe('"ANALYTICS"."AIMO"."users"');
    for (const bad of ['users; DROP TABLE x', 'a"b', '1abc', '']) {
      expect(() => duck.quote(bad)).toThrow(/not a valid SQL identifier/);
    }
  });

  it('read text from JSON documents at a path of validated keys', async () => {
    expect(duck.jsonText('doc', ['window', 'to'])).toBe(`json_extract_string(doc, '$.window.to')`);
    expect(bq.jsonText('doc', ['window', 'to'])).toBe(`JSON_VALUE(doc, '$.window.to')`);
    expect(sf.jsonText('doc', ['window', 'to'])).toBe(`JSON_EXTRACT_PATH_TEXT(doc, 'window.to')`);
    expect(() => duck.jsonText('doc', ["a') OR 1=1 --"])).toThrow(/not a valid SQL identifier/);
    expect(() => bq.jsonText('doc', [])).toThrow(/at least one key/);
    const wh = await DuckDbWarehouse.open(':memory:');
    try {
      const rows = await wh.query<{ to: string | null; missing: string | null }>(
        `SELECT ${duck.jsonText('@doc', ['window', 'to'])} AS "to", ${duck.jsonText('@doc', ['window', 'from'])} AS missing`,
        { doc: JSON.stringify({ window: { to: '2026-11-30' } }) },
      );
      expect(rows).toEqual([{ to: '2026-11-30', missing: null }]);
    } finally {
      await wh.close();
    }
  });

  it('write the dialect-specific fragments', () => {
    expect(bq.sha256Hex('x')).toBe('TO_HEX(SHA256(x))');
    expect(sf.sha256Hex('x')).toBe('SHA2(x, 256)');
    // Snowflake NUMBER division keeps ~6 decimals; the emulator (DuckDB underneath) would not show it.
    expect(sf.unitHash('x')).toMatch(/^\(CAST\(TO_NUMBER\(.*'XXXXXXXX'\) AS DOUBLE\) \/ 4294967296\.0\)$/);
    expect(sf.addDays('d', 7)).toBe('DATEADD(day, 7, d)');
    expect(bq.dateDiffDays('a', 'b')).toBe('DATE_DIFF(a, b, DAY)');
  });

  it('run on DuckDB: hashing, unit hash, dates and an idempotent merge', async () => {
    const wh = await DuckDbWarehouse.open(':memory:');
    try {
      const [row] = await wh.query<{ h: string; salted: string; u: number; d: Date; n: number }>(
        `SELECT ${duck.sha256Hex("'abc'")} AS h, ${duck.saltedHash("'abc'", 'salt')} AS salted,
                ${duck.unitHash("'abc'")} AS u, ${duck.addDays("DATE '2024-02-28'", 2)} AS d,
                ${duck.dateDiffDays("DATE '2024-03-01'", "DATE '2024-02-01'")} AS n`,
        { salt: 's1' },
      );
      expect(row!.h).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(row!.salted).not.toBe(row!.h);
      expect(row!.u).toBeCloseTo(0xba7816bf / 2 ** 32, 12);
      expect(row!.d.toISOString().slice(0, 10)).toBe('2024-03-01');
      expect(row!.n).toBe(29);

      await wh.execute('CREATE TABLE t (k INTEGER, v VARCHAR)');
      const upsert = () =>
        wh.merge({ name: 't' }, `SELECT 1 AS k, @v AS v UNION ALL SELECT 2, 'b'`, ['k'], ['k', 'v'], { v: 'a' });
      await upsert();
      await upsert();
      expect(await wh.query('SELECT * FROM t ORDER BY k')).toEqual([
        { k: 1, v: 'a' },
        { k: 2, v: 'b' },
      ]);
    } finally {
      await wh.close();
    }
  });

  it('reports a missing table as a non-retryable error that names it', async () => {
    const wh = await DuckDbWarehouse.open(':memory:');
    try {
      await expect(wh.columns({ name: 'orders', schema: 'raw' })).rejects.toMatchObject({
        type: 'MissingTable',
        message: expect.stringContaining('raw.orders'),
      });
    } finally {
      await wh.close();
    }
  });
});
