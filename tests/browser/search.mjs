// mdBook's search, used the way a reader uses it: press `s`, type, read the result list.

import { watchedPage } from './browser.mjs';
import { STUCK_MS } from './chapters.mjs';

/**
 * Each query must list a chapter among its results: the first page of `expect` that the book
 * has (paths relative to the book root), so a case names the chapter about the term first and
 * a fallback after it, and switches by itself when that chapter is added to SUMMARY.md.
 * mdBook lists at most 30 results (sections, best first), so a fallback that merely mentions
 * the term may drop out once whole chapters are about it: keep the specific chapter first.
 */
export const SEARCH_CASES = [
  { query: 'kubelet', expect: ['part1/kubelet.html', 'part0/architecture.html'] },
  { query: 'runtime', expect: ['part1/runtime.html'] },
  { query: 'scheduler', expect: ['part2/scheduler.html'] },
  { query: 'toleration', expect: ['appendix/glossary.html'] },
];

/**
 * Searches for `query` from the introduction page. Returns the result pages and the problems;
 * the page is left open on the results (for a screenshot) and returned too.
 * @param {string[]} chapters the paths of the book's chapters
 */
export async function search(context, origin, { query, expect: candidates }, chapters) {
  const expect = candidates.find((path) => chapters.includes(path));
  if (expect === undefined) {
    throw new Error(`search case "${query}": the book has none of ${candidates.join(', ')}`);
  }
  const { page, problems } = await watchedPage(context);
  await page.goto(`${origin}/index.html`, { waitUntil: 'load', timeout: STUCK_MS });
  await page.keyboard.press('s');
  const box = page.locator('#mdbook-searchbar');
  await box.waitFor({ state: 'visible', timeout: STUCK_MS });
  // Typing before the index has loaded is fine: mdBook searches for the box's text when the
  // index arrives. Each keystroke fires the keyup handler that runs the search.
  await box.pressSequentially(query);
  await page.waitForFunction(
    (q) => {
      const header = document.getElementById('mdbook-searchresults-header');
      return header !== null && header.innerText.includes(q);
    },
    query,
    { timeout: STUCK_MS },
  );
  const results = await page.$$eval('#mdbook-searchresults li a[href]', (links) =>
    links.map((link) => new URL(link.href).pathname.replace(/^\//, '')),
  );
  if (!results.includes(expect)) {
    problems.push(
      `search for "${query}" does not list ${expect}; it lists ${results.length} results: ` +
        `${[...new Set(results)].join(', ') || 'none'}`,
    );
  }
  return { page, query, expect, results: results.length, problems };
}
