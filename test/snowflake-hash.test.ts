import { createHash } from 'node:crypto';
import type { SqlValue } from '../warehouse/params';
import type { SnowflakeWarehouse } from '../warehouse/snowflake';
import { openEmulatedSnowflake, startSnowflakeEmulator, type SnowflakeEmulator } from './support/emulators/snowflake';

/**
 * Snowflake's unitHash (holdout splits, experiment arms, canaries) is
 * TO_NUMBER(SUBSTR(SHA2(x, 256), 1, 8), 'XXXXXXXX') / 2^32. fakesnow has no
 * hexadecimal TO_NUMBER, so the JSON bridge (fakesnow_json_bridge.py) supplies
 * one; every other test of that path would then check the bridge against
 * itself. Here the emulator's answers are compared with values computed
 * without it: Node's crypto and BigInt for the hash and the hex conversion,
 * and the SHA-256 examples published with the standard (FIPS 180-2), whose
 * numbers are written out below.
 */

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
/** The first 32 bits of the digest as an integer, by BigInt's own hex parser. */
const leading32 = (text: string): number => Number(BigInt(`0x${sha256Hex(text).slice(0, 8)}`));

describe('Snowflake hashing on fakesnow, checked against independent values', () => {
  let emulator: SnowflakeEmulator;
  let wh: SnowflakeWarehouse;

  beforeAll(async () => {
    emulator = await startSnowflakeEmulator();
    wh = await openEmulatedSnowflake(emulator.accessUrl);
  });

  afterAll(async () => {
    await wh?.close();
    await emulator?.stop();
  });

  /** One row per input, in input order: SELECT <columns(@v)> for each bound value, UNION ALL. */
  async function perInput<T>(inputs: readonly string[], columns: (param: string) => string): Promise<T[]> {
    const q = (c: string) => wh.dialect.quote(c);
    const params: Record<string, SqlValue> = {};
    const selects = inputs.map((text, i) => {
      params[`v${i}`] = text;
      return `SELECT ${i} AS ${q('i')}, ${columns(`@v${i}`)}`;
    });
    const rows = await wh.query<T & { i: number }>(`SELECT * FROM (${selects.join(' UNION ALL ')}) ORDER BY ${q('i')}`, params);
    expect(rows.map((r) => r.i)).toEqual(inputs.map((_, i) => i));
    return rows;
  }

  it("reads SHA-256's first 32 bits through the dialect's own unitHash SQL, as Node computes them", async () => {
    const d = wh.dialect;
    const q = (c: string) => d.quote(c);
    // Ids like the ones aimo hashes, plus text that exercises UTF-8 and an empty string, and the first
    // id whose digest starts with a zero byte, so leading zeros must be read as digits, not dropped.
    const zeroLed = Array.from({ length: 5000 }, (_, i) => `arm:user-${i}`).find((t) => sha256Hex(t).startsWith('00'))!;
    const inputs = [...Array.from({ length: 150 }, (_, i) => `arm:user-${i}`), zeroLed, '', 'café ☕', 'Ünïcødé-ß-日本語', 'x'.repeat(2000)];
    const rows = await perInput<{ hex8: string; n: number; u: number }>(
      inputs,
      (v) => `SUBSTR(${d.sha256Hex(d.cast(v, 'string'))}, 1, 8) AS ${q('hex8')}, TO_NUMBER(SUBSTR(${d.sha256Hex(d.cast(v, 'string'))}, 1, 8), 'XXXXXXXX') AS ${q('n')}, ${d.unitHash(v)} AS ${q('u')}`,
    );
    // Both halves of the range, so a conversion that read the digits as signed or as fewer bits would show.
    const expected = inputs.map(leading32);
    expect(expected.some((n) => n >= 2 ** 31) && expected.some((n) => n < 2 ** 31)).toBe(true);
    expect(expected.some((n) => n < 2 ** 24)).toBe(true);
    expect(rows.map((r) => r.hex8)).toEqual(inputs.map((t) => sha256Hex(t).slice(0, 8)));
    expect(rows.map((r) => r.n)).toEqual(expected);
    // n / 2^32 is exact in a double, so the emulator's unitHash must equal it bit for bit.
    expect(rows.map((r) => r.u)).toEqual(expected.map((n) => n / 2 ** 32));
  });

  it('matches the SHA-256 examples published with the standard', async () => {
    const d = wh.dialect;
    const q = (c: string) => d.quote(c);
    // FIPS 180-2, appendix B: SHA-256("abc") = ba7816bf..., SHA-256 of the 448-bit message = 248d6a61...;
    // SHA-256("") = e3b0c442... The numbers are those prefixes read as hexadecimal, written out by hand.
    const vectors = [
      { text: 'abc', hex8: 'ba7816bf', n: 3128432319 },
      { text: 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', hex8: '248d6a61', n: 613247585 },
      { text: '', hex8: 'e3b0c442', n: 3820012610 },
    ];
    const rows = await perInput<{ sha: string; n: number; u: number }>(
      vectors.map((v) => v.text),
      (v) => `${d.sha256Hex(d.cast(v, 'string'))} AS ${q('sha')}, TO_NUMBER(SUBSTR(${d.sha256Hex(d.cast(v, 'string'))}, 1, 8), 'XXXXXXXX') AS ${q('n')}, ${d.unitHash(v)} AS ${q('u')}`,
    );
    expect(rows.map((r) => ({ hex8: r.sha.slice(0, 8), n: r.n, u: r.u }))).toEqual(vectors.map((v) => ({ hex8: v.hex8, n: v.n, u: v.n / 4294967296 })));
    expect(rows[0]!.sha).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('converts eight hexadecimal digits at the edges of the range', async () => {
    const q = (c: string) => wh.dialect.quote(c);
    // Lower-case, as SHA2 returns them: zero, one, each nibble's top, the signed 32-bit boundary, the maximum.
    const digits = ['00000000', '00000001', '0000000f', '000000f0', '00ff00ff', '7fffffff', '80000000', 'deadbeef', 'fffffffe', 'ffffffff'];
    const rows = await perInput<{ n: number }>(digits, (v) => `TO_NUMBER(${v}, 'XXXXXXXX') AS ${q('n')}`);
    expect(rows.map((r) => r.n)).toEqual(digits.map((h) => Number(BigInt(`0x${h}`))));
    expect(rows.map((r) => r.n).slice(-4)).toEqual([2147483648, 3735928559, 4294967294, 4294967295]);
  });
});
