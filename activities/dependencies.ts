import type { Client } from '@temporalio/client';
import type { Warehouse } from '../warehouse/warehouse';

/** What activities need from the outside world; the worker passes real clients, tests pass their own. */
export interface ActivityDependencies {
  readonly warehouse: Warehouse;
  /** Secret used to hash PII; never logged */
  readonly hashSalt: string;
  /** Where reports and result files are written */
  readonly dataDir: string;
  /** For activities that manage schedules or start workflows */
  readonly temporalClient?: Client;
}
