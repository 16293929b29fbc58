import type { RegisteredUseCase } from '../domain/rollout/contract';
import { contentUseCase } from './content/use-case';
import { propensityUseCase } from './propensity/use-case';

/** Every use case the rollout workflow runs, by plan kind; the first is the default. A new use case is one line here. */
export const USE_CASES: readonly RegisteredUseCase[] = [propensityUseCase, contentUseCase];
