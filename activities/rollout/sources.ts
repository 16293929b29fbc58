import type { RolloutPlan } from '../../domain/plan';
import { tableRef, type TableRef } from '../../warehouse/identifiers';

export type SourceName = 'users' | 'identities' | 'consent' | 'sessions' | 'events' | 'orders' | 'spend';

/** The table a plan maps a source to. */
export function sourceTable(plan: RolloutPlan, source: SourceName): TableRef {
  return tableRef(plan.sources[source], plan.sources.schema);
}
