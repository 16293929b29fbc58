import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

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

/**
 * A PNG of a page some time after it loaded, for single-page apps (the
 * Temporal UI) that draw after their load event and keep polling, which
 * --screenshot and --virtual-time-budget cannot wait for. Drives the browser
 * over --remote-debugging-pipe (DevTools messages on file descriptors 3 and
 * 4, NUL-separated), so no WebSocket is needed. `fullPage` captures the whole
 * document rather than the window.
 */
export async function screenshotRendered(
  binary: string,
  url: string,
  file: string,
  options: { width: number; height: number; settleMs: number; fullPage?: boolean; timeoutMs?: number },
): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'aimo-chromium-'));
  const argv = ['--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${profile}`, '--remote-debugging-pipe', `--window-size=${options.width},${options.height}`, 'about:blank'];
  const child = spawn(binary, argv, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  let buffer = '';
  let nextId = 1;
  fromBrowser.setEncoding('utf8');
  fromBrowser.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffer.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      buffer = buffer.slice(end + 1);
      const waiting = message.id === undefined ? undefined : pending.get(message.id);
      if (!waiting) continue;
      pending.delete(message.id!);
      if (message.error) waiting.reject(new Error(message.error.message));
      else waiting.resolve(message.result ?? {});
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  const deadline = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${binary} exited (${code}) before the screenshot was taken`))));
  try {
    await Promise.race([
      exited,
      (async () => {
        const { targetInfos } = (await send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string }> };
        const page = targetInfos.find((t) => t.type === 'page');
        if (!page) throw new Error('the browser opened no page');
        const { sessionId } = (await send('Target.attachToTarget', { targetId: page.targetId, flatten: true })) as { sessionId: string };
        await send('Emulation.setDeviceMetricsOverride', { width: options.width, height: options.height, deviceScaleFactor: 1, mobile: false }, sessionId);
        await send('Page.enable', {}, sessionId);
        await send('Page.navigate', { url }, sessionId);
        await new Promise((r) => setTimeout(r, options.settleMs));
        let clip: Record<string, unknown> | undefined;
        if (options.fullPage) {
          const { cssContentSize } = (await send('Page.getLayoutMetrics', {}, sessionId)) as { cssContentSize: { width: number; height: number } };
          clip = { x: 0, y: 0, width: options.width, height: Math.ceil(cssContentSize.height), scale: 1 };
        }
        const { data } = (await send('Page.captureScreenshot', { format: 'png', ...(clip ? { clip, captureBeyondViewport: true } : {}) }, sessionId)) as { data: string };
        writeFileSync(file, Buffer.from(data, 'base64'));
        await send('Browser.close').catch(() => undefined);
      })(),
    ]);
  } finally {
    clearTimeout(deadline);
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    // The browser's helpers may still be writing to it for a moment: retried, and left to the OS if it still fails.
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch {
      /* a temporary directory */
    }
  }
}
