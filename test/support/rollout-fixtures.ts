import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPlan, type RolloutPlan, type RolloutPlanInput } from '../../domain/plan';
import { generateDataset } from '../../simulator';
import { DuckDbWarehouse } from '../../warehouse/duckdb';

export const TEST_SALT = 'test-salt-0123456789abcdef';

/** A fresh in-memory warehouse with the simulated dataset (same seed, same data, every run). */
export async function seededWarehouse(users = 20_000, seed = 7): Promise<DuckDbWarehouse> {
  const warehouse = await DuckDbWarehouse.open(':memory:');
  await generateDataset(warehouse, { seed, users });
  return warehouse;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'aimo-data-'));
}

/** The demo plan with test overrides: a 14-day experiment checked daily, no scale-out unless asked. */
export function testPlan(overrides: Partial<RolloutPlanInput> = {}): RolloutPlanInput {
  const demo = JSON.parse(readFileSync(join(__dirname, '..', '..', 'plans', 'demo-paid-search-cac.json'), 'utf8')) as RolloutPlanInput;
  return {
    ...demo,
    experiment: { ...demo.experiment, duration: '14 days', checkEvery: '1 day' },
    scale: { targets: [], maxConcurrent: 2 },
    ...overrides,
  };
}

/** A propensity plan validated as the rollout validates it, defaults filled in. */
export function parsedPlan(input: unknown): RolloutPlan {
  const checked = checkPlan(input);
  if (!checked.ok) throw new Error(checked.problems.join('\n'));
  if (checked.plan.kind !== 'propensity') throw new Error(`expected a propensity plan, got kind ${checked.plan.kind}`);
  return checked.plan;
}
