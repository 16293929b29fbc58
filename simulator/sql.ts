import type { Share } from './model';

/**
 * Small SQL builders for the simulator. Only the simulator's own constants
 * (model shares, category names) and validated numbers become SQL text;
 * anything a caller passes in travels as a bound `@param`.
 */

const SAFE_LITERAL = /^[A-Za-z0-9_ .+:@-]*$/;

/** A string constant of the simulator's model as a SQL literal */
export function lit(value: string): string {
  if (!SAFE_LITERAL.test(value)) throw new Error(`not a simulator constant: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/** A finite number as SQL text */
export function num(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return String(value);
}

/** An integer as SQL text */
export function int(value: number): string {
  if (!Number.isInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
}

/** Inverse CDF of a categorical distribution: `u` (a uniform in (0, 1)) to one of the values */
export function categorical(u: string, shares: readonly Share[]): string {
  return caseOverCumulative(
    u,
    shares.map((s) => s.share),
    shares.map((s) => lit(s.value)),
  );
}

/** Like `categorical`, for values that are already SQL expressions (e.g. integers or params) */
export function caseOverCumulative(u: string, shares: readonly number[], values: readonly string[]): string {
  const total = shares.reduce((a, b) => a + b, 0);
  if (!(total > 0) || shares.length !== values.length || shares.length === 0) throw new Error('categorical needs positive shares, one per value');
  let cumulative = 0;
  const branches = values.slice(0, -1).map((v, i) => {
    cumulative += shares[i]! / total;
    return `WHEN ${u} < ${num(cumulative)} THEN ${v}`;
  });
  return branches.length ? `(CASE ${branches.join(' ')} ELSE ${values[values.length - 1]} END)` : values[0]!;
}

/** A value chosen uniformly from a list of constants */
export function pick(u: string, values: readonly string[]): string {
  return `([${values.map(lit).join(', ')}][1 + CAST(floor(${u} * ${values.length}) AS INTEGER)])`;
}

/** `CASE key WHEN a THEN x ... END` over constants or expressions */
export function lookup(key: string, entries: readonly (readonly [string, string])[], otherwise = 'NULL'): string {
  return `(CASE ${key} ${entries.map(([k, v]) => `WHEN ${k} THEN ${v}`).join(' ')} ELSE ${otherwise} END)`;
}

/**
 * A timestamp `seconds` after `epochSeconds` (the period start). Built from
 * integer microseconds: several times faster than adding INTERVALs.
 */
export function timestampAt(epochSeconds: number, seconds: string): string {
  return `make_timestamp(CAST(${int(epochSeconds)} AS BIGINT) * 1000000 + CAST(${seconds} AS BIGINT) * 1000000)`;
}

/** Seconds since the period start of a time of day on day `day`: people shop between 06:00 and 23:30, most in the afternoon */
export function dayAndTimeSeconds(day: string, u1: string, u2: string): string {
  return `(CAST(${day} AS BIGINT) * 86400 + CAST(floor(86400 * (0.25 + 0.73 * (${u1} + ${u2}) / 2)) AS BIGINT))`;
}
