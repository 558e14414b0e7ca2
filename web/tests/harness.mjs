// Test harness: a real `scanpro serve` on a free port with a temporary data dir, Debian's
// Chromium driven by playwright-core, the document corpus, axe-core, and the independent
// checkers (pdfinfo, pdftotext, qpdf). A missing browser, binary, checker or corpus file fails
// loudly; nothing is skipped.

import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repoRoot, 'target');
export const screenshotDir = join(targetDir, 'screenshots');
const chromiumPath = process.env.SCANPRO_CHROMIUM || '/usr/bin/chromium';
const scanproPath = process.env.SCANPRO_BIN || join(targetDir, 'debug', 'scanpro');

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

export function corpus(relative) {
  const root = process.env.SCANPRO_CORPUS || resolve(repoRoot, '../shared/corpus');
  const path = join(root, relative);
  if (!existsSync(path)) throw new Error(`corpus file ${path} is missing (set SCANPRO_CORPUS)`);
  return path;
}

export function scratchDir(prefix = 'scanpro-web-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Per-client limits raised out of the way: the tests make many guests, uploads and jobs quickly
 * from one address. A test of a limit sets it in its own `env`.
 */
const ROOMY_LIMITS = {
  SCANPRO_METRICS_LISTEN: '127.0.0.1:0',
  SCANPRO_RATE_LIMIT_PER_MINUTE: '0',
  SCANPRO_ADDRESS_WRITES_PER_MINUTE: '0',
  SCANPRO_NEW_GUESTS_PER_MINUTE: '0',
  SCANPRO_MAX_ACTIVE_JOBS: '0',
  SCANPRO_GUEST_STORAGE_MB: '0',
};

/** A free loopback port, for servers whose address must be known before they start. */
export async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/**
 * A real OpenID Connect provider on loopback (crates/testkit/oidc, installed by
 * `scripts/install-deps --test`) whose client `scanpro` may return to `redirectUri`.
 */
export async function startOidcProvider(redirectUri) {
  const dir = join(repoRoot, 'crates/testkit/oidc');
  if (!existsSync(join(dir, 'node_modules/oidc-provider'))) throw new Error(`${dir}: run scripts/install-deps --test`);
  const port = await freePort();
  const child = spawn(process.execPath, ['provider.mjs', String(port), redirectUri], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  await new Promise((ready, reject) => {
    child.once('exit', (code) => reject(new Error(`the OpenID Connect provider exited with ${code}`)));
    lines.once('line', (line) => (line.trim() === 'ready' ? ready() : reject(new Error(line))));
  });
  lines.on('line', () => {});
  return { issuer: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** A running `scanpro serve`; `stop()` ends it and removes its data dir. */
export async function startServer(env = {}, { listen = '127.0.0.1:0' } = {}) {
  if (!existsSync(scanproPath)) throw new Error(`${scanproPath} is missing: build it with cargo build -p scanpro (or set SCANPRO_BIN)`);
  const dataRoot = scratchDir('scanpro-web-data-');
  const child = spawn(scanproPath, ['serve', '--listen', listen, '--data-dir', join(dataRoot, 'data')], {
    env: { ...process.env, SCANPRO_LOG_LEVEL: 'warn', ...ROOMY_LIMITS, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolveBase, reject) => {
    const timer = setTimeout(() => reject(new Error('scanpro serve did not start within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`scanpro serve exited early with ${code}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /^scanpro: listening on (http:\/\/\S+)$/.exec(line.trim());
      if (match) resolveBase(match[1]);
      else reject(new Error(`unexpected first line from scanpro serve: ${line}`));
    });
  });
  lines.on('line', () => {});
  return {
    base,
    dataDir: join(dataRoot, 'data'),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataRoot, { recursive: true, force: true });
    },
  };
}

/** Makes an account with `scanpro admin create-user` on the server's data dir. */
export function createUser(server, email, password, role = 'user') {
  execFileSync(scanproPath, ['admin', '--data-dir', server.dataDir, 'create-user', '--email', email, '--role', role], {
    input: `${password}\n`,
    env: { ...process.env, SCANPRO_LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

export async function launchBrowser() {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is missing at ${chromiumPath}: install Debian's chromium (scripts/install-deps --test)`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/** A fresh browser profile (its own cookie, hence its own guest, and its own localStorage). */
export async function newContext(browser, server, options = {}) {
  return browser.newContext({ baseURL: server.base, viewport: DESKTOP, locale: 'en-GB', acceptDownloads: true, ...options });
}

/** Opens `path` and waits until the app has drawn it. */
export async function open(page, path) {
  await page.goto(path);
  await page.waitForSelector('body[data-ready="true"]');
}

export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page) {
  const hasAxe = await page.evaluate(() => typeof window.axe === 'object');
  if (!hasAxe) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Runs an independent checker; its absence fails the test. */
export function run(program, args) {
  try {
    return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error(`${program} is required for the browser tests`);
    // qpdf --check exits 3 for warnings only.
    if (program === 'qpdf' && error.status === 3) return error.stdout;
    throw error;
  }
}

export function pageCount(pdf) {
  const match = /^Pages:\s+(\d+)/m.exec(run('pdfinfo', [pdf]));
  if (!match) throw new Error(`pdfinfo gave no page count for ${pdf}`);
  return Number(match[1]);
}

export function rotations(pdf) {
  const pages = String(pageCount(pdf));
  return [...run('pdfinfo', ['-f', '1', '-l', pages, pdf]).matchAll(/^Page\s+\d+ rot:\s+(\d+)/gm)].map((m) => Number(m[1]));
}

export function pageText(pdf, page) {
  return run('pdftotext', ['-f', String(page), '-l', String(page), '-layout', pdf, '-']).replace(/\s+/g, ' ').trim();
}

export function qpdfCheck(pdf) {
  run('qpdf', ['--check', pdf]);
}

/** The catalogue as the server reports it. */
export async function catalogue(server) {
  const response = await fetch(`${server.base}/api/v1/tools`);
  if (!response.ok) throw new Error(`GET /api/v1/tools: ${response.status}`);
  return (await response.json()).tools;
}
