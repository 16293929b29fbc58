import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { AIMO_SEARCH_ATTRIBUTES } from '../domain/rollout/definitions';

const INDEXED_VALUE_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * Registers aimo's search attributes if the namespace lacks them. The dev
 * server's start-up flags only apply to a fresh database, so an existing one
 * (or a real cluster) is brought up to date here. Returns the names it added.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = AIMO_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  await registerSearchAttributes(connection, namespace, missing.map((k) => k.name));
  return missing.map((k) => k.name);
}

/** Adds search attributes without listing first (the time-skipping test server cannot list them). */
export async function registerSearchAttributes(connection: Connection, namespace: string, names: readonly string[] = AIMO_SEARCH_ATTRIBUTES.map((k) => k.name)): Promise<void> {
  const searchAttributes: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const key of AIMO_SEARCH_ATTRIBUTES) if (names.includes(key.name)) searchAttributes[key.name] = INDEXED_VALUE_TYPE[key.type]!;
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Another process may have added them between our list and add.
    if (!/already exists/i.test(String(err))) throw err;
  }
}
