import type { Client } from '@temporalio/client';

/**
 * Ids of the open (running) workflow executions of the client's namespace,
 * of one workflow type if given. Read with ListOpenWorkflowExecutions rather
 * than a visibility query: every server answers it, the time-skipping test
 * server included, and it needs no search attribute to be indexed yet.
 */
export async function openWorkflowIds(client: Client, workflowType?: string): Promise<string[]> {
  const ids: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listOpenWorkflowExecutions({
      namespace: client.options.namespace,
      maximumPageSize: 1000,
      ...(nextPageToken ? { nextPageToken } : {}),
      ...(workflowType ? { typeFilter: { name: workflowType } } : {}),
    });
    for (const execution of page.executions ?? []) {
      if (execution.execution?.workflowId) ids.push(execution.execution.workflowId);
    }
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return ids;
}
