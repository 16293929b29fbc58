import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The browsers looked for on PATH, in this order, after CHROMIUM_PATH. */
const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export class ChromiumMissing extends Error {
  constructor(tried: string[]) {
    super(
      `no headless Chromium found (tried ${tried.join(', ')}): install Debian's package with \`apt-get update && apt-get install -y chromium\` ` +
        '(as root; .ci/run does it), or set CHROMIUM_PATH to a Chromium or Chrome binary',
    );
    this.name = 'ChromiumMissing';
  }
}

/** The browser to drive: CHROMIUM_PATH, else the first of chromium, chromium-browser, google-chrome on PATH. */
export function locateChromium(env: NodeJS.ProcessEnv = process.env): string {
  const tried: string[] = [];
  const configured = env['CHROMIUM_PATH'];
  if (configured) {
    if (existsSync(configured)) return configured;
    tried.push(`CHROMIUM_PATH=${configured} (no such file)`);
  }
  for (const name of CANDIDATES) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    const path = found.stdout.trim();
    if (found.status === 0 && path) return path;
    tried.push(name);
  }
  throw new ChromiumMissing(tried);
}

/**
 * One headless run of the browser: its own profile directory (so runs in
 * parallel do not share a lock), no sandbox (containers run it as root), no GPU.
 */
function runHeadless(binary: string, args: string[], timeoutMs: number): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'aimo-chromium-'));
  const argv = ['--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${profile}`, ...args];
  return new Promise<string>((resolve, reject) => {
    execFile(binary, argv, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`${binary} failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** The page's DOM after its scripts ran, as the browser serialises it. */
export function dumpDom(binary: string, url: string, options: { timeoutMs?: number; virtualTimeBudgetMs?: number } = {}): Promise<string> {
  const budget = options.virtualTimeBudgetMs ? [`--virtual-time-budget=${options.virtualTimeBudgetMs}`] : [];
  return runHeadless(binary, [...budget, '--dump-dom', url], options.timeoutMs ?? 60_000);
}

/** A PNG of the page at the given window size. */
export async function screenshot(
  binary: string,
  url: string,
  file: string,
  options: { width: number; height: number; timeoutMs?: number; virtualTimeBudgetMs?: number; scale?: number },
): Promise<void> {
  const budget = options.virtualTimeBudgetMs ? [`--virtual-time-budget=${options.virtualTimeBudgetMs}`] : [];
  const scale = options.scale ? [`--force-device-scale-factor=${options.scale}`] : [];
  await runHeadless(binary, [...budget, ...scale, `--window-size=${options.width},${options.height}`, `--screenshot=${file}`, url], options.timeoutMs ?? 90_000);
  if (!existsSync(file)) throw new Error(`the browser wrote no screenshot to ${file}`);
}
