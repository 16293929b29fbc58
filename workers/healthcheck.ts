/**
 * The container's health check: healthy while aimo's worker polls its task
 * queue for workflow tasks, as the SDK's own Prometheus metrics report it
 * (temporal_num_pollers). A process that is up but whose worker stopped or
 * never started is unhealthy. Reads only the environment, so it runs as
 * `node dist/workers/healthcheck.js` without loading aimo's config.
 */
export function workerIsPolling(metrics: string, taskQueue: string): boolean {
  return metrics.split('\n').some((line) => {
    const m = /^temporal_num_pollers\{([^}]*)\}\s+(\d+(?:\.\d+)?)/.exec(line);
    if (!m || Number(m[2]) <= 0) return false;
    const labels = m[1]!;
    return labels.includes('poller_type="workflow_task"') && labels.includes(`task_queue="${taskQueue}"`);
  });
}

async function main(): Promise<number> {
  const port = process.env['AIMO_METRICS_PORT'] || '9464';
  const taskQueue = process.env['AIMO_TASK_QUEUE'] || 'aimo';
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) {
      console.error(`unhealthy: metrics answered ${response.status}`);
      return 1;
    }
    if (!workerIsPolling(await response.text(), taskQueue)) {
      console.error(`unhealthy: no worker polls task queue "${taskQueue}" for workflow tasks`);
      return 1;
    }
    return 0;
  } catch (err) {
    console.error(`unhealthy: no metrics on port ${port} (${err instanceof Error ? err.message : String(err)})`);
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
