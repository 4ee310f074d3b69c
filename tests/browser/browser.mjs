// Starts the system's Chromium, headless, with a profile of its own, and watches every page
// for the two kinds of trouble a reader would hit: console errors and failed requests.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** The browser the test drives: Debian's `chromium` package (never a downloaded one). */
export const CHROMIUM = process.env.SKIFF_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, reproducible browser that never talks to the network on its own. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // CI runs as root, where Chromium's sandbox refuses to start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Wide enough that mdBook shows its sidebar, as most desktop readers see the book. */
const VIEWPORT = { width: 1280, height: 900 };

/**
 * Launches Chromium with a fresh user-data dir. Every request to anything but `origin` is
 * refused and recorded: the book must work offline, from its own files.
 * @param {string} origin the book server's origin
 * @param {object} [options] more launch options (the dashboard test trusts the cluster's own
 *   CA this way: `{ ignoreHTTPSErrors: true }`)
 */
export async function launchBrowser(origin, options = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'skiff-book-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: VIEWPORT,
    colorScheme: 'light',
    reducedMotion: 'reduce',
    ...options,
  });
  const offsite = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) {
      return route.continue();
    }
    offsite.push(url);
    return route.abort('blockedbyclient');
  });
  return {
    context,
    offsite,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens a new tab that records its console errors, uncaught exceptions and failed requests
 * in `page.problems` (strings a reader of the report can act on).
 * @param {import('playwright-core').BrowserContext} context
 */
export async function watchedPage(context) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`uncaught exception: ${error.message}`));
  page.on('requestfailed', (request) => {
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.push(`HTTP ${response.status()}: ${response.url()}`);
    }
  });
  return { page, problems };
}
