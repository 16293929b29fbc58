import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const composePath = join(__dirname, '..', 'docker-compose.yml');

interface Service {
  image?: string;
  build?: unknown;
  depends_on?: Record<string, { condition: string }>;
  command?: unknown;
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(composePath, 'utf8')) as { services: Record<string, Service> };

  it('parses with docker compose where the client exists', () => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (probe.status !== 0) return; // no compose plugin: the YAML checks below still run
    const result = spawnSync('docker', ['compose', '-f', composePath, 'config', '--quiet'], {
      encoding: 'utf8',
      env: { ...process.env, AIMO_HASH_SALT: 'compose-check-salt-0123' },
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs PostgreSQL, a one-shot schema setup, the server, the UI and the worker at pinned versions', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['aimo-worker', 'postgresql', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui']);
    for (const [name, service] of Object.entries(s)) {
      if (service.image) expect([name, service.image]).toEqual([name, expect.stringMatching(/:\d+\.\d+(\.\d+)?$/)]);
    }
    expect(s['temporal']!.image).toMatch(/^temporalio\/server:/);
    expect(s['temporal-schema']!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(s['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
    expect(JSON.stringify(compose)).not.toMatch(/auto-setup/);
    expect(s['temporal']!.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    expect(JSON.stringify(s['temporal-schema']!.command)).toMatch(/update-schema/);
    expect(s['aimo-worker']!.build).toBe('.');
  });
});
