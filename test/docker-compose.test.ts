import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseEnv } from '../config/env';

const root = join(__dirname, '..');
const composePath = join(root, 'docker-compose.yml');
/** What a user must set before `docker compose up` (the file refuses to start without it). */
const TEST_SALT = 'compose-check-salt-0123';

interface Service {
  image?: string;
  build?: unknown;
  depends_on?: Record<string, { condition: string }>;
  command?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
}

/**
 * Whether this machine can run `docker compose` at all, decided once at load time so that a
 * machine without it reports the check as skipped, with the reason in its name, instead of
 * passing it unseen. The YAML checks further down need no Docker and always run.
 */
function composeUnavailable(): string | undefined {
  const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (probe.error) return `running docker failed (${probe.error.message})`;
  if (probe.status !== 0) return (probe.stderr || probe.stdout).trim().split('\n')[0] || `docker compose version exited with ${probe.status}`;
  return undefined;
}
const unavailable = composeUnavailable();

/**
 * Compose's own interpolation for the two forms the file uses: `${NAME:-default}` and
 * `${NAME:?message}`; anything else is an error, so a new form is noticed here.
 */
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string | undefined) => {
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    if (op === '-') return arg ?? '';
    throw new Error(`${name} is unset${op === '?' ? `: ${arg}` : ''}`);
  });
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(composePath, 'utf8')) as { services: Record<string, Service> };

  (unavailable ? it.skip : it)(
    unavailable ? `docker compose not installed: ${unavailable} (docker compose config not run)` : 'docker compose config accepts the file',
    () => {
      const result = spawnSync('docker', ['compose', '-f', composePath, 'config', '--quiet'], {
        encoding: 'utf8',
        env: { ...process.env, AIMO_HASH_SALT: TEST_SALT },
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );

  it('runs PostgreSQL, a one-shot schema setup, the server, the UI and the worker at pinned versions', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['aimo-worker', 'postgresql', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui']);
    for (const [name, service] of Object.entries(s)) {
      if (service.image) expect([name, service.image]).toEqual([name, expect.stringMatching(/:\d+\.\d+(\.\d+)?$/)]);
    }
    expect(s['postgresql']!.image).toMatch(/^postgres:/);
    expect(s['temporal']!.image).toMatch(/^temporalio\/server:/);
    expect(s['temporal-schema']!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(s['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
    expect(JSON.stringify(compose)).not.toMatch(/auto-setup/);
    expect(s['temporal']!.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    expect(JSON.stringify(s['temporal-schema']!.command)).toMatch(/update-schema/);
    expect(s['aimo-worker']!.build).toBe('.');
  });

  it("gives the worker only settings aimo's configuration reads and accepts, each documented in .env.example", () => {
    const worker = compose.services['aimo-worker']!;
    const raw = worker.environment ?? {};
    expect(Object.keys(raw).length).toBeGreaterThan(0);
    // With nothing set on the host: the defaults the file gives, and the salt it demands.
    const env = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(String(v), { AIMO_HASH_SALT: TEST_SALT })]));
    expect(env['AIMO_HASH_SALT']).toBe(TEST_SALT);
    expect(() => interpolate(String(raw['AIMO_HASH_SALT']), {})).toThrow(/AIMO_HASH_SALT is unset/);

    // parseEnv keeps only the variables it knows and throws on a bad value, so a misspelt name
    // comes back undefined and a value the config rejects fails here rather than at `docker compose up`.
    const parsed = parseEnv(env) as Record<string, unknown>;
    expect(Object.fromEntries(Object.keys(env).map((k) => [k, parsed[k]]))).toEqual(env);

    const documented = new Set([...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    expect(Object.keys(env).filter((k) => !documented.has(k))).toEqual([]);

    // The webhook server listens on the config's port inside the container; that is the one published.
    expect(worker.ports).toEqual([`${String(parsed['AIMO_WEBHOOK_PORT'])}:${String(parsed['AIMO_WEBHOOK_PORT'])}`]);
    expect(env['TEMPORAL_ADDRESS']).toBe('temporal:7233');
    expect(env['AIMO_DEV_SERVER']).toBe('never');
  });
});
