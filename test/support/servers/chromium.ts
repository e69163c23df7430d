import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; `CHROMIUM_PATH` names another build. */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Headless, and quiet: no update checks, sync or other traffic of its own on a machine without internet. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

const HOW_TO_FIX =
  'The browser tests need Chromium. Install Debian\'s package (as root: apt-get update && apt-get install -y chromium), ' +
  'or set CHROMIUM_PATH to a Chromium or Chrome executable.';

/**
 * The Chromium executable. When there is none, installs Debian's `chromium` package if this runs
 * as root with apt-get, as the S3 tests install their server; otherwise throws, saying what to
 * install. The browser tests never skip.
 */
export function findChromium(): string {
  const found = CANDIDATES.find((path): path is string => !!path && existsSync(path));
  if (found) return found;
  const failure = installChromium();
  const installed = CANDIDATES.find((path): path is string => !!path && existsSync(path));
  if (installed) return installed;
  throw new Error(`Chromium was not found (looked at ${CANDIDATES.filter(Boolean).join(', ')}). ${failure}\n${HOW_TO_FIX}`);
}

/** Tries `apt-get install -y chromium`; returns why it could not, or '' when it ran. */
function installChromium(): string {
  if (process.getuid?.() !== 0) return 'Not root, so it was not installed automatically.';
  if (!existsSync('/usr/bin/apt-get')) return 'There is no apt-get here to install it with.';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update'], { env, stdio: 'pipe', timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, stdio: 'pipe', timeout: 600_000 });
    return '';
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim().split('\n').slice(-10).join('\n');
    return `apt-get install -y chromium failed:\n${stderr || (error as Error).message}`;
  }
}

/** Launches headless Chromium with a fresh, temporary profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
}
