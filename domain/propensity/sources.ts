import type { RolloutPlan } from '../plan';
import { tableRef, type TableRef } from '../table-ref';

export type SourceName = 'users' | 'identities' | 'consent' | 'sessions' | 'events' | 'orders' | 'spend';

/** The table a plan maps a source to. */
export function sourceTable(plan: RolloutPlan, source: SourceName): TableRef {
  return tableRef(plan.sources[source], plan.sources.schema);
}
