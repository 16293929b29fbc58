import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { FreshRefused, moveEarlierDemoState, PREVIOUS_RUN_DIR } from '../workers/fresh-demo';
import { freePort } from './support/processes';
import { spawnStack } from './support/stack-process';

/** A data folder as a finished demo leaves it (the contents stand in for the real files: only their names and places matter here). */
function earlierDemo(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'aimo-fresh-'));
  writeFileSync(join(dir, 'warehouse.duckdb'), `warehouse of ${label}`);
  writeFileSync(join(dir, 'temporal.sqlite'), `history of ${label}`);
  mkdirSync(join(dir, 'reports'));
  writeFileSync(join(dir, 'reports', 'rollout-paid-search-cac-demo.md'), `report of ${label}`);
  writeFileSync(join(dir, 'temporal-dev-server.log'), 'the server log stays');
  return dir;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('npm run demo -- --fresh', () => {
  it('says what it moves, moves the warehouse, the history and the reports aside, and keeps one earlier run', async () => {
    const dir = earlierDemo('run 1');
    const config = loadConfig({ AIMO_DATA_DIR: dir, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` }, dir);
    const said: string[] = [];
    const moved = await moveEarlierDemoState(config, (line) => said.push(line));
    expect(moved.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['reports', 'temporal.sqlite', 'warehouse.duckdb']);
    expect(said[0]).toMatch(/^--fresh: moving the earlier demo's state to .*previous-run: warehouse\.duckdb \(1 kB\), temporal\.sqlite \(1 kB\), reports \(1 file\(s\)\)$/);
    const previous = join(dir, PREVIOUS_RUN_DIR);
    expect(readFileSync(join(previous, 'warehouse.duckdb'), 'utf8')).toBe('warehouse of run 1');
    expect(readFileSync(join(previous, 'reports', 'rollout-paid-search-cac-demo.md'), 'utf8')).toBe('report of run 1');
    expect(existsSync(join(dir, 'warehouse.duckdb'))).toBe(false);
    expect(existsSync(join(dir, 'temporal-dev-server.log'))).toBe(true);

    // The next --fresh replaces that earlier run with the one since, and says so.
    writeFileSync(join(dir, 'warehouse.duckdb'), 'warehouse of run 2');
    const again: string[] = [];
    await moveEarlierDemoState(config, (line) => again.push(line));
    expect(again[0]).toContain('(replacing the one an earlier --fresh left there): warehouse.duckdb');
    expect(readdirSync(previous)).toEqual(['warehouse.duckdb']);
    expect(readFileSync(join(previous, 'warehouse.duckdb'), 'utf8')).toBe('warehouse of run 2');

    const nothing: string[] = [];
    expect(await moveEarlierDemoState(config, (line) => nothing.push(line))).toEqual([]);
    expect(nothing).toEqual([`--fresh: ${dir} holds no earlier demo; starting as on a first run`]);
  });

  it('stops nothing it did not start: with a server at the Temporal address it refuses and moves nothing', async () => {
    const dir = earlierDemo('a running stack');
    const blocker = createServer();
    const port = await listen(blocker);
    try {
      const config = loadConfig({ AIMO_DATA_DIR: dir, TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, dir);
      await expect(moveEarlierDemoState(config, () => undefined)).rejects.toThrow(FreshRefused);
      await expect(moveEarlierDemoState(config, () => undefined)).rejects.toThrow(`a Temporal server already listens at 127.0.0.1:${port}`);
      const remote = loadConfig({ AIMO_DATA_DIR: dir, TEMPORAL_ADDRESS: 'temporal.example:7233' }, dir);
      await expect(moveEarlierDemoState(remote, () => undefined)).rejects.toThrow('is a server aimo does not own');

      // The same through the entry point: exit 2, the reason on stderr, the earlier demo where it was.
      const run = spawnStack(dir, { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, AIMO_METRICS_PORT: String(await freePort()) }, () => undefined, ['--demo', '--fresh']);
      const exit = await run.exited;
      expect(exit.code).toBe(2);
      expect(exit.stderr).toContain(`aimo cannot start: --fresh moves the Temporal history aside, but a Temporal server already listens at 127.0.0.1:${port}`);
      expect(exit.stderr).not.toMatch(/\n\s+at /);
      expect(readFileSync(join(dir, 'warehouse.duckdb'), 'utf8')).toBe('warehouse of a running stack');
      expect(existsSync(join(dir, PREVIOUS_RUN_DIR))).toBe(false);
    } finally {
      blocker.close();
    }
  });
});
