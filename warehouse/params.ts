import { NonRetryableError } from '../domain/errors';

/** A value bound into a query; never concatenated into SQL text. */
export type SqlValue = string | number | bigint | boolean | null | Date;
export type SqlParams = Readonly<Record<string, SqlValue>>;

export type PlaceholderStyle = 'dollar' | 'at' | 'positional';

export interface CompiledQuery {
  readonly sql: string;
  /** Values in placeholder order (positional style) */
  readonly ordered: SqlValue[];
  /** Only the parameters the query uses (named styles) */
  readonly named: Record<string, SqlValue>;
}

/**
 * aimo writes SQL once with `@name` placeholders. Each warehouse binds its own
 * way (DuckDB `$name`, BigQuery `@name`, Snowflake `?`), so the adapter
 * rewrites placeholders here, skipping string literals, quoted identifiers and
 * comments so that an `@` inside them is left alone.
 */
export function compileParams(sql: string, params: SqlParams, style: PlaceholderStyle): CompiledQuery {
  let out = '';
  const ordered: SqlValue[] = [];
  const named: Record<string, SqlValue> = {};
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = closingQuote(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_]/.test(sql[j]!)) j++;
      const name = sql.slice(i + 1, j);
      if (!Object.prototype.hasOwnProperty.call(params, name)) {
        throw new NonRetryableError('MissingQueryParameter', `query parameter @${name} has no value; pass it in params`);
      }
      const value = params[name]!;
      named[name] = value;
      if (style === 'dollar') out += `$${name}`;
      else if (style === 'at') out += `@${name}`;
      else {
        out += '?';
        ordered.push(value);
      }
      i = j;
      continue;
    }
    out += ch;
    i++;
  }
  return { sql: out, ordered, named };
}

function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '\\' && quote !== '"') {
      i += 2;
      continue;
    }
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}
