/**
 * Drives the real kiosk: the browser shell's Node side started as its own process (exactly as the
 * appliance runs it, in server-only mode) and Debian's Chromium through playwright-core. Each test
 * gets a fresh settings directory, also its HOME (FreeRDP's known certificates live there), so
 * nothing leaks between tests or runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.THINKIOSK_CHROMIUM ?? '/usr/bin/chromium';

export interface KioskProcess {
  /** Page URL with the launch key (`#key=`), usable any number of times. */
  url: string;
  settingsDir: string;
  output: () => string;
  /** The kiosk's Node process is still running. */
  alive: () => boolean;
  stop(): Promise<void>;
}

export interface KioskStartOptions {
  /** Contents of the boot partition's preset file. */
  preset?: string;
  env?: NodeJS.ProcessEnv;
  settingsDir?: string;
}

export async function startKiosk(options: KioskStartOptions = {}): Promise<KioskProcess> {
  const settingsDir = options.settingsDir ?? mkdtempSync(join(tmpdir(), 'thinkiosk-kiosk-'));
  const presetFile = join(settingsDir, 'thinkiosk.conf');
  if (options.preset !== undefined) writeFileSync(presetFile, options.preset);
  const child: ChildProcess = spawn(process.execPath, ['dist/app/shell/main.js', '--no-browser', '--windowed', '--settings-dir', settingsDir, '--preset', presetFile], {
    env: { ...process.env, LANG: 'C.UTF-8', HOME: settingsDir, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const bootUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiosk did not start:\n${output}`)), 15_000);
    const look = (): void => {
      const match = /kiosk page: (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.on('exit', (code) => reject(new Error(`kiosk exited (${code}):\n${output}`)));
  });
  const url = await keyedUrl(bootUrl);
  return {
    url, settingsDir, output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      if (!options.settingsDir) rmSync(settingsDir, { recursive: true, force: true });
    },
  };
}

/**
 * The shell prints the page with a one-time token (`#boot=`), as it hands it to its own Chromium;
 * the tests open the page many times, in browsers of their own, so they trade the token for the
 * key once, as the page does, and open the page with the key itself (`#key=`).
 */
async function keyedUrl(bootUrl: string): Promise<string> {
  const url = new URL(bootUrl);
  const token = new URLSearchParams(url.hash.slice(1)).get('boot');
  if (!token) throw new Error(`the kiosk printed a page without a token: ${bootUrl}`);
  const response = await fetch(new URL('/bootstrap', url), { method: 'POST', headers: { 'x-thinkiosk-bootstrap': token } });
  if (!response.ok) throw new Error(`the kiosk refused its own token: HTTP ${response.status}`);
  const { key } = (await response.json()) as { key: string };
  return `${url.origin}/#key=${key}`;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], headless: true });
}

/** Opens the kiosk page and fails the test on any page error (a stack trace the user would see). */
export async function openKioskPage(browser: Browser, kiosk: KioskProcess, viewport = { width: 1280, height: 800 }): Promise<{ page: Page; pageErrors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
  });
  await page.goto(kiosk.url);
  return { page, pageErrors };
}
