import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The warehouse emulators aimo's tests run against, installed by the project
 * itself with pip into a git-ignored cache (.cache/emulators/<name>), at
 * pinned versions. Every transitive dependency is pinned too, in a
 * constraints file beside the test support code: an unpinned dependency
 * (fakesnow does not pin snowflake-connector-python) can break the install
 * overnight.
 *
 *   npx tsx scripts/provision-emulators.ts [bigquery] [snowflake]
 */
export const EMULATORS = {
  bigquery: {
    title: 'BigQuery emulator (bqemulator)',
    // numpy: bqemulator registers DuckDB Python UDFs at start-up, which need it, but does not declare it.
    requirements: ['bqemulator==1.4.0', 'numpy'],
    constraints: 'test/support/emulators/constraints/bigquery.txt',
    module: 'bqemulator',
  },
  snowflake: {
    title: 'Snowflake emulator (fakesnow server)',
    requirements: ['fakesnow[server]==0.12.1'],
    constraints: 'test/support/emulators/constraints/snowflake.txt',
    module: 'fakesnow',
  },
} as const;

export type EmulatorName = keyof typeof EMULATORS;
export const EMULATOR_NAMES = Object.keys(EMULATORS) as EmulatorName[];

/** What a test needs to start an emulator's Python code. */
export interface EmulatorRuntime {
  readonly name: EmulatorName;
  readonly python: string;
  /** The pip --target folder; goes on PYTHONPATH */
  readonly sitePackages: string;
  /** Environment for the emulator process: its own packages first, no user site-packages */
  readonly env: Record<string, string>;
}

export interface EnsureOptions<N extends EmulatorName = EmulatorName> {
  readonly projectRoot?: string;
  readonly names?: readonly N[];
  readonly env?: Record<string, string | undefined>;
  /** Told what is installed or reused, one line each */
  readonly report?: (line: string) => void;
}

export class EmulatorProvisioningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorProvisioningError';
  }
}

const MARKER = '.aimo-emulator.json';
const MIN_PYTHON: readonly [number, number] = [3, 11];
const LOCK_STALE_MS = 15 * 60 * 1000;

export function emulatorCacheDir(projectRoot: string, name: EmulatorName): string {
  return join(projectRoot, '.cache', 'emulators', name);
}

/**
 * Installs the named emulators (default: all) unless the cache already holds
 * exactly the pinned set for this Python, which is checked without running
 * pip, so a warm call costs a few milliseconds plus one `python3 --version`.
 * Safe to call from parallel test files: installs are serialised by a lock
 * directory and swapped in whole.
 */
export async function ensureEmulators<N extends EmulatorName = EmulatorName>(options: EnsureOptions<N> = {}): Promise<Record<N, EmulatorRuntime>> {
  const root = resolve(options.projectRoot ?? join(__dirname, '..'));
  const env = options.env ?? process.env;
  const report = options.report ?? (() => undefined);
  const names: readonly N[] = options.names ?? (EMULATOR_NAMES as N[]);
  const python = env['AIMO_PYTHON'] ?? 'python3';
  const pythonVersion = await checkPython(python);
  // Independent folders and locks: a cold machine installs both at once.
  const runtimes = await Promise.all(
    names.map(async (name): Promise<EmulatorRuntime & { name: N }> => {
      const target = emulatorCacheDir(root, name);
      const fingerprint = specFingerprint(root, name, pythonVersion);
      if (!isInstalled(target, fingerprint)) {
        await withLock(`${target}.lock`, async () => {
          if (isInstalled(target, fingerprint)) return; // another test file finished it while we waited
          await install(root, name, python, target, fingerprint, report);
        });
      } else {
        report(`${EMULATORS[name].title}: reusing ${target}`);
      }
      return { name, python, sitePackages: target, env: { PYTHONPATH: target, PYTHONNOUSERSITE: '1', PYTHONUNBUFFERED: '1' } };
    }),
  );
  return Object.fromEntries(runtimes.map((r) => [r.name, r])) as unknown as Record<N, EmulatorRuntime>;
}

async function checkPython(python: string): Promise<string> {
  const probe = await run(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
  if (probe.error || probe.code !== 0) {
    throw new EmulatorProvisioningError(
      `The warehouse emulators need Python ${MIN_PYTHON.join('.')}+ with pip, and '${python}' did not run ` +
        `(${probe.error?.message ?? lastLines(probe.stderr)}). Install python3 and pip, or set AIMO_PYTHON=/path/to/python3.`,
    );
  }
  const version = probe.stdout.trim();
  const [major, minor] = version.split('.').map(Number);
  if ((major ?? 0) < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && (minor ?? 0) < MIN_PYTHON[1])) {
    throw new EmulatorProvisioningError(
      `The warehouse emulators need Python ${MIN_PYTHON.join('.')}+ (bqemulator and fakesnow require it); '${python}' is ${version}. ` +
        `Install a newer python3, or set AIMO_PYTHON=/path/to/python3.11.`,
    );
  }
  return version;
}

async function install(
  root: string,
  name: EmulatorName,
  python: string,
  target: string,
  fingerprint: string,
  report: (line: string) => void,
): Promise<void> {
  const spec = EMULATORS[name];
  const pip = await run(python, ['-m', 'pip', '--version']);
  if (pip.error || pip.code !== 0) {
    throw new EmulatorProvisioningError(
      `pip is not available for '${python}' (${pip.error?.message ?? lastLines(pip.stderr)}): ` +
        `install it (e.g. 'apt-get install python3-pip' or 'python3 -m ensurepip'), or set AIMO_PYTHON to a Python that has it.`,
    );
  }
  const staging = `${target}.staging-${process.pid}`;
  report(`${spec.title}: installing ${spec.requirements.join(' ')} with pip into ${target} (once; later runs reuse it)`);
  const started = Date.now();
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const result = await run(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-input',
      '--target',
      staging,
      '--constraint',
      join(root, spec.constraints),
      ...spec.requirements,
    ],
    { PIP_ROOT_USER_ACTION: 'ignore' },
  );
  if (result.error || result.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new EmulatorProvisioningError(
      `pip could not install the ${spec.title}: ${result.error?.message ?? lastLines(result.stderr)}\n` +
        `It needs access to the Python package index (or a pip configured for a mirror).`,
    );
  }
  // The marker is written last, so a crash mid-install never looks installed.
  writeFileSync(join(staging, MARKER), JSON.stringify({ fingerprint, requirements: spec.requirements, installedAt: new Date().toISOString() }));
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  report(`${spec.title}: installed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

function specFingerprint(root: string, name: EmulatorName, pythonVersion: string): string {
  const spec = EMULATORS[name];
  const constraintsPath = join(root, spec.constraints);
  if (!existsSync(constraintsPath)) throw new EmulatorProvisioningError(`missing ${constraintsPath}: the pinned dependency list of the ${spec.title}`);
  return createHash('sha256')
    .update(JSON.stringify({ requirements: spec.requirements, constraints: readFileSync(constraintsPath, 'utf8'), python: pythonVersion }))
    .digest('hex');
}

function isInstalled(target: string, fingerprint: string): boolean {
  try {
    const marker = JSON.parse(readFileSync(join(target, MARKER), 'utf8')) as { fingerprint?: string };
    return marker.fingerprint === fingerprint;
  } catch {
    return false;
  }
}

/** A directory as a lock: mkdir is atomic. A lock older than any install is a crashed run's, and is taken over. */
async function withLock(lockDir: string, fn: () => Promise<void>): Promise<void> {
  mkdirSync(join(lockDir, '..'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > LOCK_STALE_MS) rmSync(lockDir, { recursive: true, force: true });
      } catch {
        // released between our mkdir and stat: try again
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
}

function run(command: string, args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => resolvePromise({ code: null, stdout, stderr, error }));
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function lastLines(text: string, n = 5): string {
  // pip's resolver reports conflicts with the machine's own site-packages; they do not concern a --target install.
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l && !/dependency resolver does not currently take into account|which is incompatible\.$/.test(l));
  return lines.slice(-n).join(' | ') || 'no output';
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((n) => !(n in EMULATORS));
  if (unknown.length > 0) {
    console.error(`[aimo] unknown emulator(s): ${unknown.join(', ')}; expected ${EMULATOR_NAMES.join(' or ')}`);
    process.exit(2);
  }
  try {
    const runtimes = await ensureEmulators({
      names: requested.length > 0 ? (requested as EmulatorName[]) : EMULATOR_NAMES,
      report: (line) => console.log(`[aimo] ${line}`),
    });
    for (const r of Object.values(runtimes)) console.log(`[aimo] ${EMULATORS[r.name].title}: ready (PYTHONPATH=${r.sitePackages})`);
  } catch (err) {
    console.error(`[aimo] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

if (require.main === module) void main();
