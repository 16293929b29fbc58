import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export const HISTORIES_DIR = join(__dirname, '..', 'histories');

/** The release whose histories the tests record: package.json's version. */
export const CURRENT_RELEASE = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Saves a finished workflow's history under test/histories/<this release>/
 * for the replay tests when AIMO_RECORD_HISTORIES=1 (run the workflow tests
 * with it after a deliberate change to workflow code, and commit the files).
 * Histories of earlier releases are never rewritten: they are what running
 * workflows of those releases look like.
 */
export async function recordHistory(client: Client, workflowId: string, name: string): Promise<void> {
  if (process.env['AIMO_RECORD_HISTORIES'] !== '1') return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const dir = join(HISTORIES_DIR, CURRENT_RELEASE);
  mkdirSync(dir, { recursive: true });
  // The workflow id travels with the history: workflows that derive child ids from their own replay only under it.
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ workflowId, ...history }, null, 1));
}

export interface CommittedHistory {
  /** The release that recorded it, e.g. 0.1.0 */
  readonly release: string;
  readonly name: string;
  readonly workflowId: string;
  readonly history: temporal.api.history.v1.IHistory;
}

/** Every release's recorded histories, oldest release first. */
export function committedHistories(): CommittedHistory[] {
  const releases = readdirSync(HISTORIES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return releases.flatMap((release) =>
    readdirSync(join(HISTORIES_DIR, release))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((file) => {
        const { workflowId, ...history } = JSON.parse(readFileSync(join(HISTORIES_DIR, release, file), 'utf8')) as { workflowId?: string };
        const name = file.replace(/\.json$/, '');
        return { release, name, workflowId: workflowId ?? name, history: temporal.api.history.v1.History.fromObject(history) };
      }),
  );
}
