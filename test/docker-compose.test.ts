import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../config';
import { parseEnv } from '../config/env';
import { loadWebhookConfig } from '../config/webhooks';
import { workerIsPolling } from '../workers/healthcheck';

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
  volumes?: string[];
  healthcheck?: { test: string[]; interval?: string; start_period?: string; retries?: number };
}

/** The webhook server's own settings, read by config/webhooks.ts rather than config/env.ts. */
const WEBHOOK_VARIABLES = ['AIMO_WEBHOOK_SECRETS', 'AIMO_WEBHOOK_HOST'];
const TEST_WEBHOOK_SECRETS = `ci:${'s'.repeat(40)}`;

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
    const main = Object.fromEntries(Object.entries(env).filter(([k]) => !WEBHOOK_VARIABLES.includes(k)));
    const parsed = parseEnv(main) as Record<string, unknown>;
    expect(Object.fromEntries(Object.keys(main).map((k) => [k, parsed[k]]))).toEqual(main);

    const documented = new Set([...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    expect(Object.keys(env).filter((k) => !documented.has(k))).toEqual([]);

    // The webhook server listens on the config's port inside the container; that is the one published.
    expect(worker.ports).toEqual([`${String(parsed['AIMO_WEBHOOK_PORT'])}:${String(parsed['AIMO_WEBHOOK_PORT'])}`]);
    expect(env['TEMPORAL_ADDRESS']).toBe('temporal:7233');
    expect(env['AIMO_DEV_SERVER']).toBe('never');
  });

  it('serves webhooks on the published port once secrets are set: passed through, on a non-loopback host', () => {
    const worker = compose.services['aimo-worker']!;
    const raw = worker.environment ?? {};
    expect(Object.keys(raw)).toEqual(expect.arrayContaining(WEBHOOK_VARIABLES));
    // Unset on the host, the secrets are empty and the stack serves no webhooks (it says so at start).
    expect(interpolate(String(raw['AIMO_WEBHOOK_SECRETS']), { AIMO_HASH_SALT: TEST_SALT })).toBe('');
    const env = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [k, interpolate(String(v), { AIMO_HASH_SALT: TEST_SALT, AIMO_WEBHOOK_SECRETS: TEST_WEBHOOK_SECRETS })]),
    );
    const webhooks = loadWebhookConfig(loadConfig(env, '/tmp'), env);
    expect(webhooks.secrets).toEqual({ ci: 's'.repeat(40) });
    expect(webhooks.host).not.toMatch(/^(127\.|localhost$|::1$)/);
    expect(worker.ports).toEqual([`${webhooks.port}:${webhooks.port}`]);
  });

  it('gives the worker a health check that asks whether its worker polls, run from the compiled code', () => {
    const check = compose.services['aimo-worker']!.healthcheck;
    expect(check?.test).toEqual(['CMD', 'node', 'dist/workers/healthcheck.js']);
    expect(check?.start_period).toBeDefined();
    const metrics = [
      '# TYPE temporal_num_pollers gauge',
      'temporal_num_pollers{namespace="default",poller_type="activity_task",service_name="temporal-core-sdk",task_queue="aimo"} 5',
      'temporal_num_pollers{namespace="default",poller_type="workflow_task",service_name="temporal-core-sdk",task_queue="aimo-llm"} 2',
    ];
    expect(workerIsPolling(metrics.join('\n'), 'aimo')).toBe(false);
    expect(workerIsPolling([...metrics, 'temporal_num_pollers{namespace="default",poller_type="workflow_task",service_name="temporal-core-sdk",task_queue="aimo"} 0'].join('\n'), 'aimo')).toBe(false);
    expect(workerIsPolling([...metrics, 'temporal_num_pollers{namespace="default",poller_type="workflow_task",service_name="temporal-core-sdk",task_queue="aimo"} 3'].join('\n'), 'aimo')).toBe(true);
  });

  it("mounts the worker's data volume at the folder the image gives to the user it runs as", () => {
    const worker = compose.services['aimo-worker']!;
    expect(worker.volumes).toEqual(['aimo-data:/data']);
    expect(interpolate(String(worker.environment?.['AIMO_DATA_DIR']), {})).toBe('/data');
    const runtime = runtimeStage();
    const chown = runtime.findIndex((l) => /^RUN .*mkdir -p \/data.*chown node:node \/data/.test(l));
    const user = runtime.findIndex((l) => l === 'USER node');
    expect(chown).toBeGreaterThan(-1);
    expect(user).toBeGreaterThan(chown);
  });
});

/** The Dockerfile's instructions, one per line, comments dropped. */
function dockerfile(): string[] {
  return readFileSync(join(root, 'Dockerfile'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** The instructions of the last stage: what the image runs. */
function runtimeStage(): string[] {
  const lines = dockerfile();
  const last = lines.map((l, i) => (l.startsWith('FROM ') ? i : -1)).filter((i) => i >= 0).pop()!;
  return lines.slice(last);
}

describe('the image', () => {
  it('runs the worker compiled to JavaScript: built in its own stage, started with node, no compiler at start', () => {
    const lines = dockerfile();
    expect(lines.filter((l) => l.startsWith('FROM '))).toHaveLength(2);
    expect(lines).toContain('RUN npm run build');
    const runtime = runtimeStage();
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime.find((l) => l.startsWith('CMD '))).toBe('CMD ["node", "dist/workers/main.js"]');
    expect(runtime.join('\n')).not.toMatch(/tsx|ts-node|\btsc\b/);
    expect(runtime.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(/node", "dist\/workers\/healthcheck\.js"/);
    expect(runtime).toContain('RUN npm ci --omit=dev --ignore-scripts=false && npm cache clean --force');

    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['build']).toMatch(/^tsc -p tsconfig\.build\.json/);
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: Record<string, unknown>; include: string[]; exclude: string[] };
    expect(build.compilerOptions).toMatchObject({ noEmit: false, outDir: 'dist', rootDir: '.' });
    expect(build.include).toEqual(expect.arrayContaining(['workers', 'workflows', 'platform', 'config']));
    expect(build.exclude).toEqual(expect.arrayContaining(['test']));
    // The entry points the image starts exist as sources the build compiles.
    for (const entry of ['workers/main.ts', 'workers/healthcheck.ts']) expect(() => readFileSync(join(root, entry))).not.toThrow();
  });

  it('keeps secrets out of the image: .env and its variants are in .dockerignore, the example is not', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.env', '.env.*', '!.env.example', 'node_modules', 'data', '.git']));
    // `COPY . .` in the build stage: everything not ignored reaches it, so the rule must come before any exception.
    expect(ignored.indexOf('.env.*')).toBeLessThan(ignored.indexOf('!.env.example'));
    expect(dockerfile().filter((l) => /^(COPY|ADD) .*\.env/.test(l))).toEqual([]);
  });
});
