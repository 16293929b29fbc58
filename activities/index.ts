import type { ActivityDependencies } from './dependencies';
import { withFailureMapping } from './failures';
import { createSeedActivities } from './seed';

export type { ActivityDependencies } from './dependencies';

/** Every activity aimo registers, built from its dependencies (real clients in the worker, test doubles nowhere but paid APIs). */
export function createActivities(deps: ActivityDependencies) {
  return withFailureMapping({
    ...createSeedActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
