import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export const HISTORIES_DIR = join(__dirname, '..', 'histories');

/**
 * Saves a finished workflow's history for the replay tests when
 * AIMO_RECORD_HISTORIES=1 (run the workflow tests with it after a deliberate
 * change to workflow code, and commit the files).
 */
export async function recordHistory(client: Client, workflowId: string, name: string): Promise<void> {
  if (process.env['AIMO_RECORD_HISTORIES'] !== '1') return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // The workflow id travels with the history: workflows that derive child ids from their own replay only under it.
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), JSON.stringify({ workflowId, ...history }, null, 1));
}

export function committedHistories(): Array<{ name: string; workflowId: string; history: temporal.api.history.v1.IHistory }> {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const { workflowId, ...history } = JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as { workflowId?: string };
      const name = file.replace(/\.json$/, '');
      return { name, workflowId: workflowId ?? name, history: temporal.api.history.v1.History.fromObject(history) };
    });
}
