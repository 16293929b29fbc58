import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTemporalBinary, TemporalBinaryNotFound } from '../platform/temporal-binaries';

function fakeExecutable(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('finding the Temporal binaries', () => {
  const root = mkdtempSync(join(tmpdir(), 'aimo-bin-'));
  const noPip = { AIMO_PYTHON: join(root, 'no-python'), AIMO_TEMPORAL_DOWNLOAD: 'never', PATH: '/nonexistent' };

  it('prefers the env var, then PATH, then the project cache', () => {
    const explicit = fakeExecutable(join(root, 'explicit'), 'temporal');
    const onPath = fakeExecutable(join(root, 'pathdir'), 'temporal');
    fakeExecutable(join(root, '.cache', 'temporal', 'bin'), 'temporal');
    const lines: string[] = [];
    const report = (l: string) => lines.push(l);
    expect(resolveTemporalBinary('cli', { projectRoot: root, env: { ...noPip, AIMO_TEMPORAL_CLI: explicit, PATH: join(root, 'pathdir') }, report }))
      .toMatchObject({ source: 'env', executable: { type: 'existing-path', path: explicit } });
    expect(resolveTemporalBinary('cli', { projectRoot: root, env: { ...noPip, PATH: join(root, 'pathdir') }, report }))
      .toMatchObject({ source: 'path', executable: { path: onPath } });
    expect(resolveTemporalBinary('cli', { projectRoot: root, env: noPip, report })).toMatchObject({ source: 'cache' });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/from AIMO_TEMPORAL_CLI/);
  });

  it('says what it tried and what to install when there is no binary and no pip', () => {
    const empty = mkdtempSync(join(tmpdir(), 'aimo-empty-'));
    let error: unknown;
    try {
      resolveTemporalBinary('testServer', { projectRoot: empty, env: noPip });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TemporalBinaryNotFound);
    const message = (error as Error).message;
    expect(message).toMatch(/no pip/);
    expect(message).toMatch(/install Python 3 with pip/);
    expect(message).toMatch(/AIMO_TEMPORAL_TEST_SERVER=\/path\/to\/temporal-test-server/);
  });

  it('rejects an env var that points nowhere, naming it', () => {
    expect(() => resolveTemporalBinary('cli', { projectRoot: root, env: { ...noPip, AIMO_TEMPORAL_CLI: '/no/such/temporal' } }))
      .toThrow(/AIMO_TEMPORAL_CLI=\/no\/such\/temporal: no executable file there/);
  });

  it('falls back to the SDK download when allowed', () => {
    const empty = mkdtempSync(join(tmpdir(), 'aimo-empty-'));
    const resolved = resolveTemporalBinary('cli', { projectRoot: empty, env: { ...noPip, AIMO_TEMPORAL_DOWNLOAD: 'auto' } });
    expect(resolved.source).toBe('sdk-download');
    expect(resolved.executable.type).toBe('cached-download');
  });
});
