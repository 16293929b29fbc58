import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TableRef } from '../../domain/table-ref';
import type { Warehouse } from '../../warehouse/warehouse';

/**
 * A small fixed data set with scikit-learn's answers on it (written by
 * `python scripts/anchors/anchors.py classifier-fixture`): logistic fits at
 * two penalties, and AUC, log loss and Brier of a given two-decimal score
 * (many ties) on the holdout rows.
 */
export interface ClassifierFixture {
  readonly features: string[];
  readonly rows: Array<{ id: number; x1: number; x2: number; x3: number; label: number; score: number; split: 'train' | 'holdout' }>;
  /** By penalty λ (scikit-learn's C = 1/λ) on standardised features */
  readonly fits: Record<string, { intercept: number; coefficients: Record<string, number> }>;
  readonly holdout: { auc: number; logLoss: number; brier: number };
}

export function classifierFixture(): ClassifierFixture {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'sklearn-classifier.json'), 'utf8')) as ClassifierFixture;
}

/** Writes the fixture's rows into a table with portable SQL: a typed empty table, then batches of INSERT … VALUES. */
export async function loadClassifierFixture(wh: Warehouse, table: TableRef, fixture: ClassifierFixture): Promise<void> {
  const d = wh.dialect;
  const q = (c: string) => d.quote(c);
  const columns = ['id', 'x1', 'x2', 'x3', 'label', 'score', 'split'] as const;
  await wh.createOrReplaceTableAs(
    table,
    `SELECT ${d.cast('0', 'int')} AS ${q('id')}, ${d.cast('0', 'float')} AS ${q('x1')}, ${d.cast('0', 'int')} AS ${q('x2')}, ${d.cast('0', 'int')} AS ${q('x3')},
            ${d.cast('0', 'int')} AS ${q('label')}, ${d.cast('0', 'float')} AS ${q('score')}, ${d.cast("''", 'string')} AS ${q('split')} LIMIT 0`,
  );
  for (let start = 0; start < fixture.rows.length; start += 250) {
    const values = fixture.rows
      .slice(start, start + 250)
      .map((r) => `(${r.id}, ${r.x1}, ${r.x2}, ${r.x3}, ${r.label}, ${r.score}, '${r.split}')`)
      .join(', ');
    await wh.execute(`INSERT INTO ${d.table(table)} (${columns.map(q).join(', ')}) VALUES ${values}`);
  }
}
