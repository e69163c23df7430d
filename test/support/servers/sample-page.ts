import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page, Request, Response } from 'playwright-core';
import { sha256 } from '../bytes.js';

/** A file of random bytes the page uploads, and what the server must have stored of it. */
export interface TestFile {
  name: string;
  path: string;
  size: number;
  sha256: string;
}

/** Writes `size` random bytes to `dir/name`. */
export async function writeTestFile(dir: string, name: string, size: number): Promise<TestFile> {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { name, path, size, sha256: sha256(bytes) };
}

/**
 * The sample's upload page at `appUrl`'s origin (with `query`) in a fresh browser context (its own
 * localStorage), once it is ready to take files. Page errors and console errors go to `errors`;
 * Chromium logs every 4xx as "Failed to load resource", which tus-js-client retries where it may.
 */
export async function openSamplePage(
  browser: Browser,
  appUrl: string,
  query: string,
  errors: string[],
  viewport?: { width: number; height: number },
): Promise<Page> {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
  });
  await page.goto(`${new URL(appUrl).origin}/${query}`);
  await page.locator('body[data-ready]').waitFor();
  return page;
}

/** Every request the page sends to the endpoint at `appUrl`, and every answer, in order. */
export function recordEndpointTraffic(page: Page, appUrl: string): { requests: Request[]; responses: Response[] } {
  const requests: Request[] = [];
  const responses: Response[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(appUrl)) requests.push(request);
  });
  page.on('response', (response) => {
    if (response.url().startsWith(appUrl)) responses.push(response);
  });
  return { requests, responses };
}
