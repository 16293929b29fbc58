/**
 * The throughput bench's one activity: as little work as an activity can do,
 * so what the bench measures is the worker's and the server's cost per
 * activity (dispatch, interceptors, completion), not the activity's own.
 */
export function createThroughputActivities() {
  return {
    async increment(value: number): Promise<number> {
      return value + 1;
    },
  };
}

export type ThroughputActivities = ReturnType<typeof createThroughputActivities>;
