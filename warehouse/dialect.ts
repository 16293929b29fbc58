import { assertIdentifier, type TableRef } from '../domain/table-ref';

export type DialectName = 'duckdb' | 'bigquery' | 'snowflake';
export type SqlType = 'string' | 'int' | 'float' | 'bool' | 'date' | 'timestamp';

/**
 * The one place where SQL differs between warehouses. Everything else in aimo
 * writes portable SQL and asks the dialect for the fragments that differ.
 * Arguments named `expr` are SQL expressions built by aimo itself (never user
 * values); identifiers are validated before they are quoted.
 */
export interface Dialect {
  readonly name: DialectName;
  quote(identifier: string): string;
  /** Fully qualified, quoted table name */
  table(ref: TableRef): string;
  type(t: SqlType): string;
  cast(expr: string, t: SqlType): string;
  /** Lower-case hex SHA-256 of a string expression */
  sha256Hex(expr: string): string;
  /** Salted hash for PII; the salt is a bound parameter name (without @) */
  saltedHash(expr: string, saltParam: string): string;
  /** A stable pseudo-uniform number in [0, 1) derived from a string expression */
  unitHash(expr: string): string;
  /**
   * A condition true on a stable pseudo-random share (about `fraction`) of
   * the rows, decided by the values of `exprs` (rows with equal values fall
   * together). Cheaper than unitHash — the warehouse's own non-cryptographic
   * hash, no string building where it can be avoided — and meant for
   * approximate work such as a warm start, never for splits that must match
   * across warehouses.
   */
  hashSample(exprs: readonly string[], fraction: number): string;
  /**
   * 1 / (1 + e^−expr), never an overflow error, NULL for a NULL expr. Where
   * the warehouse's EXP overflows to infinity (DuckDB) `expr` appears once;
   * elsewhere (BigQuery raises an error on EXP overflow) three times, in a
   * CASE that never exponentiates a positive number.
   */
  logistic(expr: string): string;
  /** Approximate number of distinct non-null values (HyperLogLog) */
  approxCountDistinct(expr: string): string;
  /**
   * SUM of a float expression that does not depend on the order the
   * warehouse adds the rows in: each value is cut to 9 decimals and summed
   * as a fixed-point decimal, exactly, then read back as a float. A parallel
   * float SUM can differ in its last bits between two runs of the same
   * query, and a stored result must not.
   */
  exactSum(expr: string): string;
  addDays(expr: string, days: string | number): string;
  dateDiffDays(later: string, earlier: string): string;
  currentTimestamp(): string;
  createOrReplaceTableAs(target: TableRef, select: string): string;
  createOrReplaceView(target: TableRef, select: string): string;
  dropTableIfExists(target: TableRef): string;
  createSchemaIfNotExists(schema: string): string;
  /**
   * A SELECT of a schema's base tables (the schema bound as @schema):
   * `table_schema`, `table_name` and `created_at` (null where the warehouse
   * keeps no creation time).
   */
  listTables(schema: string): string;
  /** A SELECT of a schema's views (bound as @schema): `table_schema`, `table_name`, `view_definition` */
  listViews(schema: string): string;
  /** True where a string expression contains a match of the regular expression bound as @param */
  regexpContains(expr: string, patternParam: string): string;
  /** The text at a path of object keys (each a validated identifier) in a JSON string expression; NULL where absent */
  jsonText(expr: string, path: readonly string[]): string;
  /** Upsert the rows of `source` (a SELECT) into `target`, matching on `keys` */
  merge(target: TableRef, source: string, keys: readonly string[], columns: readonly string[]): string;
}

/** Resolution of hashSample's share: 2^20 buckets */
const SAMPLE_BUCKETS = 1_048_576;

abstract class BaseDialect implements Dialect {
  abstract readonly name: DialectName;
  protected abstract readonly quoteChar: string;
  protected abstract readonly types: Record<SqlType, string>;

  quote(identifier: string): string {
    assertIdentifier(identifier);
    return `${this.quoteChar}${identifier}${this.quoteChar}`;
  }

  abstract table(ref: TableRef): string;

  type(t: SqlType): string {
    return this.types[t];
  }

  cast(expr: string, t: SqlType): string {
    return `CAST(${expr} AS ${this.type(t)})`;
  }

  abstract sha256Hex(expr: string): string;

  saltedHash(expr: string, saltParam: string): string {
    assertIdentifier(saltParam, 'salt parameter');
    return this.sha256Hex(`(@${saltParam} || ${this.cast(expr, 'string')})`);
  }

  abstract unitHash(expr: string): string;
  abstract hashSample(exprs: readonly string[], fraction: number): string;

  logistic(expr: string): string {
    return `CASE WHEN ${expr} >= 0 THEN 1.0 / (1.0 + EXP(-(${expr}))) ELSE EXP(${expr}) / (1.0 + EXP(${expr})) END`;
  }

  /** The sample's share as a threshold on a hash bucket in [0, SAMPLE_BUCKETS) */
  protected sampleThreshold(exprs: readonly string[], fraction: number): number {
    if (exprs.length === 0) throw new Error('hashSample needs at least one expression');
    if (!(fraction > 0 && fraction <= 1)) throw new Error(`hashSample fraction must be within (0, 1], got ${fraction}`);
    return Math.max(1, Math.round(fraction * SAMPLE_BUCKETS));
  }

  approxCountDistinct(expr: string): string {
    return `APPROX_COUNT_DISTINCT(${expr})`;
  }

  exactSum(expr: string): string {
    return this.cast(`SUM(CAST(${expr} AS ${this.fixedPoint}))`, 'float');
  }

  /** A decimal type of 9 fractional digits with room for sums of squares of money over millions of rows */
  protected abstract readonly fixedPoint: string;

  abstract addDays(expr: string, days: string | number): string;
  abstract dateDiffDays(later: string, earlier: string): string;

  currentTimestamp(): string {
    return 'CURRENT_TIMESTAMP';
  }

  createOrReplaceTableAs(target: TableRef, select: string): string {
    return `CREATE OR REPLACE TABLE ${this.table(target)} AS ${select}`;
  }

  createOrReplaceView(target: TableRef, select: string): string {
    return `CREATE OR REPLACE VIEW ${this.table(target)} AS ${select}`;
  }

  dropTableIfExists(target: TableRef): string {
    return `DROP TABLE IF EXISTS ${this.table(target)}`;
  }

  createSchemaIfNotExists(schema: string): string {
    return `CREATE SCHEMA IF NOT EXISTS ${this.quote(schema)}`;
  }

  listTables(schema: string): string {
    const created = this.creationTimeColumn ? `t.${this.creationTimeColumn}` : 'NULL';
    return (
      `SELECT t.table_schema AS table_schema, t.table_name AS table_name, ${created} AS created_at` +
      ` FROM ${this.informationSchema('TABLES', assertIdentifier(schema, 'schema name'))} t WHERE t.table_type = 'BASE TABLE' AND ${this.inSchema('t')}`
    );
  }

  // Views from VIEWS rather than from TABLES: fakesnow's TABLES holds base tables only.
  listViews(schema: string): string {
    return (
      `SELECT v.table_schema AS table_schema, v.table_name AS table_name, v.view_definition AS view_definition` +
      ` FROM ${this.informationSchema('VIEWS', assertIdentifier(schema, 'schema name'))} v WHERE ${this.inSchema('v')}`
    );
  }

  /** Where the warehouse's INFORMATION_SCHEMA view of that name lists the schema's objects */
  protected abstract informationSchema(view: 'TABLES' | 'VIEWS', schema: string): string;
  /** The TABLES column holding a table's creation time, where the warehouse keeps one */
  protected abstract readonly creationTimeColumn: string | undefined;

  /** Rows of the schema bound as @schema */
  protected inSchema(alias: string): string {
    return `${alias}.table_schema = @schema`;
  }

  regexpContains(expr: string, patternParam: string): string {
    assertIdentifier(patternParam, 'pattern parameter');
    return `regexp_matches(${expr}, @${patternParam})`;
  }

  jsonText(expr: string, path: readonly string[]): string {
    return `json_extract_string(${expr}, '${jsonPath(path)}')`;
  }

  merge(target: TableRef, source: string, keys: readonly string[], columns: readonly string[]): string {
    if (keys.length === 0) throw new Error('merge needs at least one key column');
    const q = (c: string): string => this.quote(c);
    const on = keys.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ');
    const updatable = columns.filter((c) => !keys.includes(c));
    const all = [...keys, ...updatable];
    const update = updatable.length
      ? ` WHEN MATCHED THEN UPDATE SET ${updatable.map((c) => `${q(c)} = s.${q(c)}`).join(', ')}`
      : '';
    return (
      `MERGE INTO ${this.table(target)} AS t USING (${source}) AS s ON ${on}${update}` +
      ` WHEN NOT MATCHED THEN INSERT (${all.map(q).join(', ')}) VALUES (${all.map((c) => `s.${q(c)}`).join(', ')})`
    );
  }

  protected days(days: string | number): string {
    if (typeof days === 'number') {
      if (!Number.isInteger(days)) throw new Error(`days must be an integer, got ${days}`);
      return String(days);
    }
    return days;
  }
}

/** `$.a.b` from validated keys: nothing but identifiers reaches the SQL text. */
function jsonPath(path: readonly string[]): string {
  if (path.length === 0) throw new Error('a JSON path needs at least one key');
  return `$.${path.map((key) => assertIdentifier(key, 'JSON key')).join('.')}`;
}

export class DuckDbDialect extends BaseDialect {
  readonly name = 'duckdb' as const;
  protected readonly quoteChar = '"';
  protected readonly types: Record<SqlType, string> = {
    string: 'VARCHAR',
    int: 'BIGINT',
    float: 'DOUBLE',
    bool: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  };
  protected readonly fixedPoint = 'DECIMAL(38, 9)';

  table(ref: TableRef): string {
    return ref.schema ? `${this.quote(ref.schema)}.${this.quote(ref.name)}` : this.quote(ref.name);
  }

  sha256Hex(expr: string): string {
    return `sha256(${expr})`;
  }

  unitHash(expr: string): string {
    return `(CAST(('0x' || substr(sha256(${this.cast(expr, 'string')}), 1, 8)) AS UBIGINT) / 4294967296.0)`;
  }

  override logistic(expr: string): string {
    // EXP(709+) is infinity here, and 1 / (1 + ∞) = 0: one evaluation of expr instead of three (the CASE is not factored).
    return `1.0 / (1.0 + EXP(-(${expr})))`;
  }

  hashSample(exprs: readonly string[], fraction: number): string {
    const threshold = this.sampleThreshold(exprs, fraction);
    // DuckDB's hash() takes any number of typed values: no text is built per row.
    return `(hash(${exprs.join(', ')}) % ${SAMPLE_BUCKETS}) < ${threshold}`;
  }

  addDays(expr: string, days: string | number): string {
    return `(${expr} + to_days(CAST(${this.days(days)} AS INTEGER)))`;
  }

  dateDiffDays(later: string, earlier: string): string {
    return `date_diff('day', ${earlier}, ${later})`;
  }

  // DuckDB keeps no creation time; its information_schema spans every attached database.
  protected readonly creationTimeColumn = undefined;

  protected informationSchema(view: 'TABLES' | 'VIEWS'): string {
    return `information_schema.${view.toLowerCase()}`;
  }

  protected override inSchema(alias: string): string {
    return `${alias}.table_catalog = current_database() AND ${super.inSchema(alias)}`;
  }
}

export class BigQueryDialect extends BaseDialect {
  readonly name = 'bigquery' as const;
  protected readonly quoteChar = '`';
  protected readonly types: Record<SqlType, string> = {
    string: 'STRING',
    int: 'INT64',
    float: 'FLOAT64',
    bool: 'BOOL',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  };
  // NUMERIC: 29 integer digits and 9 decimals, summed exactly.
  protected readonly fixedPoint = 'NUMERIC';

  constructor(
    private readonly project: string,
    private readonly dataset: string,
  ) {
    super();
    if (!/^[a-z][a-z0-9-]{4,29}$/.test(project)) {
      throw new Error(`BigQuery project ${JSON.stringify(project)} is not a valid project id`);
    }
    assertIdentifier(dataset, 'BigQuery dataset');
  }

  table(ref: TableRef): string {
    return `\`${this.project}.${assertIdentifier(ref.schema ?? this.dataset)}.${assertIdentifier(ref.name)}\``;
  }

  sha256Hex(expr: string): string {
    return `TO_HEX(SHA256(${expr}))`;
  }

  unitHash(expr: string): string {
    return `(CAST(CONCAT('0x', SUBSTR(TO_HEX(SHA256(${this.cast(expr, 'string')})), 1, 8)) AS INT64) / 4294967296.0)`;
  }

  hashSample(exprs: readonly string[], fraction: number): string {
    const threshold = this.sampleThreshold(exprs, fraction);
    const text = exprs.map((e) => `IFNULL(${this.cast(e, 'string')}, '')`).join(", '|', ");
    // MOD of a negative fingerprint is negative: ABS after MOD cannot overflow, ABS before it could.
    return `ABS(MOD(FARM_FINGERPRINT(CONCAT(${text})), ${SAMPLE_BUCKETS})) < ${threshold}`;
  }

  addDays(expr: string, days: string | number): string {
    return `DATE_ADD(${expr}, INTERVAL ${this.days(days)} DAY)`;
  }

  dateDiffDays(later: string, earlier: string): string {
    return `DATE_DIFF(${later}, ${earlier}, DAY)`;
  }

  override currentTimestamp(): string {
    return 'CURRENT_TIMESTAMP()';
  }

  override createSchemaIfNotExists(schema: string): string {
    return `CREATE SCHEMA IF NOT EXISTS \`${this.project}.${assertIdentifier(schema)}\``;
  }

  override regexpContains(expr: string, patternParam: string): string {
    assertIdentifier(patternParam, 'pattern parameter');
    return `REGEXP_CONTAINS(${expr}, @${patternParam})`;
  }

  override jsonText(expr: string, path: readonly string[]): string {
    return `JSON_VALUE(${expr}, '${jsonPath(path)}')`;
  }

  protected readonly creationTimeColumn = 'creation_time';

  /** A dataset's own INFORMATION_SCHEMA: no region qualifier and no project-wide scan. */
  protected informationSchema(view: 'TABLES' | 'VIEWS', schema: string): string {
    return `\`${this.project}.${assertIdentifier(schema)}.INFORMATION_SCHEMA.${view}\``;
  }
}

export class SnowflakeDialect extends BaseDialect {
  readonly name = 'snowflake' as const;
  protected readonly quoteChar = '"';
  protected readonly types: Record<SqlType, string> = {
    string: 'VARCHAR',
    int: 'NUMBER(38,0)',
    float: 'DOUBLE',
    bool: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP_NTZ',
  };
  protected readonly fixedPoint = 'NUMBER(38, 9)';

  constructor(
    private readonly database: string,
    private readonly schema: string,
  ) {
    super();
    assertIdentifier(database, 'Snowflake database');
    assertIdentifier(schema, 'Snowflake schema');
  }

  table(ref: TableRef): string {
    return `${this.quote(this.database)}.${this.quote(ref.schema ?? this.schema)}.${this.quote(ref.name)}`;
  }

  sha256Hex(expr: string): string {
    return `SHA2(${expr}, 256)`;
  }

  unitHash(expr: string): string {
    // Divide as DOUBLE: NUMBER division keeps only about six decimals in Snowflake, which would
    // round values near a split boundary differently from DuckDB and BigQuery.
    return `(CAST(TO_NUMBER(SUBSTR(SHA2(${this.cast(expr, 'string')}, 256), 1, 8), 'XXXXXXXX') AS DOUBLE) / 4294967296.0)`;
  }

  hashSample(exprs: readonly string[], fraction: number): string {
    const threshold = this.sampleThreshold(exprs, fraction);
    // Snowflake's HASH takes any number of typed values; MOD first, so ABS cannot overflow.
    return `ABS(MOD(HASH(${exprs.join(', ')}), ${SAMPLE_BUCKETS})) < ${threshold}`;
  }

  addDays(expr: string, days: string | number): string {
    return `DATEADD(day, ${this.days(days)}, ${expr})`;
  }

  dateDiffDays(later: string, earlier: string): string {
    return `DATEDIFF(day, ${earlier}, ${later})`;
  }

  override createSchemaIfNotExists(schema: string): string {
    return `CREATE SCHEMA IF NOT EXISTS ${this.quote(this.database)}.${this.quote(schema)}`;
  }

  override regexpContains(expr: string, patternParam: string): string {
    assertIdentifier(patternParam, 'pattern parameter');
    return `(REGEXP_INSTR(${expr}, @${patternParam}) > 0)`;
  }

  override jsonText(expr: string, path: readonly string[]): string {
    return `JSON_EXTRACT_PATH_TEXT(${expr}, '${path.map((key) => assertIdentifier(key, 'JSON key')).join('.')}')`;
  }

  protected readonly creationTimeColumn = 'created';

  protected informationSchema(view: 'TABLES' | 'VIEWS'): string {
    return `${this.quote(this.database)}.INFORMATION_SCHEMA.${view}`;
  }

  /**
   * Ignoring case, as SnowflakeWarehouse.describe does: fakesnow stores every
   * schema name upper-case. listTables keeps the exact match where there is one.
   */
  protected override inSchema(alias: string): string {
    return `UPPER(${alias}.table_schema) = UPPER(@schema)`;
  }
}
