import { AIMO_SCHEMA } from '../naming';
import { tableRef, type TableRef } from '../table-ref';

/** Identity of one rollout, passed to every activity so names derive from it. */
export interface RolloutContext {
  readonly workflowId: string;
  readonly useCase: string;
  /** Table-name prefix (see rolloutTablePrefix) */
  readonly tablePrefix: string;
}

/** A table one run writes: aimo.<use case>_<workflow hash>_<name>, so a retried or replayed step writes the same table. */
export function runTable(ctx: RolloutContext, name: string): TableRef {
  return tableRef(`${ctx.tablePrefix}_${name}`, AIMO_SCHEMA);
}
