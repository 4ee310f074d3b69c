// Opens the built skiff book in headless Chromium and checks what a reader sees.
//
//   node book-test.mjs <book dir> <screenshot dir>
//
// Serves <book dir> (target/book) on 127.0.0.1, then checks that every chapter in the sidebar
// loads with no console error and no failed request, that its SVG diagrams load and have a
// size, that its listings are present and its Rust highlighted; that search finds the
// chapters in SEARCH_CASES; and that print.html holds every chapter. Saves three screenshots,
// report.json and pages.tsv (one chapter per line: path, code blocks; read by
// tests/browser.rs) into <screenshot dir>. Prints a report; exits 1 if anything is wrong.
// `cargo test --test browser` (tests/browser.rs) builds the book and runs this.

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { launchBrowser } from './browser.mjs';
import { chaptersFromSidebar, checkChapter, checkPrintPage, STUCK_MS } from './chapters.mjs';
import { search, SEARCH_CASES } from './search.mjs';
import { serveDirectory } from './serve.mjs';

/** The chapter pages photographed, and the element scrolled to the top first (if any). */
const SCREENSHOTS = [
  { file: 'architecture.png', path: 'part0/architecture.html', focus: null },
  // The section where the lab's first listing (the CRI trait) begins.
  { file: 'runtime.png', path: 'part1/runtime.html', focus: '#the-kubelet-asks-the-runtime-does' },
];
/** The search whose result list is photographed (one of SEARCH_CASES). */
const SCREENSHOT_SEARCH = { file: 'search.png', query: 'kubelet' };

async function main([bookDir, shotDir]) {
  if (!bookDir || !shotDir) {
    throw new Error('usage: node book-test.mjs <book dir> <screenshot dir>');
  }
  await mkdir(shotDir, { recursive: true });
  const server = await serveDirectory(resolve(bookDir));
  const browser = await launchBrowser(server.origin);
  try {
    const report = await checkBook(browser.context, server.origin, shotDir);
    report.problems.push(...browser.offsite.map((url) => `request to the network: ${url}`));
    return report;
  } finally {
    await browser.close();
    await server.close();
  }
}

async function checkBook(context, origin, shotDir) {
  const chapters = await chaptersFromSidebar(context, origin);
  const pages = [];
  for (const chapter of chapters) {
    pages.push(await checkChapter(context, origin, chapter));
  }
  const print = await checkPrintPage(
    context,
    origin,
    pages.map((page) => page.title),
  );
  const searches = [];
  for (const searchCase of SEARCH_CASES) {
    const result = await search(
      context,
      origin,
      searchCase,
      chapters.map((chapter) => chapter.path),
    );
    if (searchCase.query === SCREENSHOT_SEARCH.query) {
      await screenshot(result.page, join(shotDir, SCREENSHOT_SEARCH.file));
    }
    await result.page.close();
    delete result.page;
    searches.push(result);
  }
  for (const shot of SCREENSHOTS) {
    await screenshotChapter(context, origin, shot, join(shotDir, shot.file));
  }
  const problems = [
    ...pages.flatMap((page) => page.problems.map((p) => `${page.path}: ${p}`)),
    ...print.problems,
    ...searches.flatMap((s) => s.problems),
  ];
  return { pages, print, searches, problems };
}

async function screenshotChapter(context, origin, { path, focus }, file) {
  const page = await context.newPage();
  await page.goto(`${origin}/${path}`, { waitUntil: 'load', timeout: STUCK_MS });
  if (focus !== null) {
    await page
      .locator(focus)
      .evaluate(
        (element) => {
          element.scrollIntoView({ block: 'start' });
          // mdBook's menu bar stays on top of the page; keep the heading below it.
          const menuBar = document.getElementById('mdbook-menu-bar');
          window.scrollBy(0, -(menuBar?.offsetHeight ?? 0) - 16);
        },
        null,
        { timeout: STUCK_MS },
      );
  }
  await screenshot(page, file);
  await page.close();
}

async function screenshot(page, file) {
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
}

function printReport(report, shotDir) {
  for (const page of report.pages) {
    const verdict = page.problems.length === 0 ? 'ok  ' : 'FAIL';
    console.log(
      `${verdict} ${page.path}: "${page.title}", ${page.diagrams} diagrams, ` +
        `${page.codeBlocks} code blocks (${page.rustBlocks} Rust)`,
    );
  }
  console.log(`print.html: ${report.print.headings} chapter titles`);
  for (const s of report.searches) {
    console.log(`search "${s.query}": ${s.results} results, expecting ${s.expect}`);
  }
  console.log(`screenshots and report.json in ${shotDir}`);
  if (report.problems.length === 0) {
    console.log(`the book reads well: ${report.pages.length} pages checked`);
  } else {
    console.log(`\n${report.problems.length} problems:`);
    report.problems.forEach((problem) => console.log(`  - ${problem}`));
  }
}

const args = process.argv.slice(2);
try {
  const report = await main(args);
  await writeFile(join(args[1], 'report.json'), JSON.stringify(report, null, 2));
  const rows = report.pages.map((page) => `${page.path}\t${page.codeBlocks}\n`);
  await writeFile(join(args[1], 'pages.tsv'), rows.join(''));
  printReport(report, args[1]);
  process.exitCode = report.problems.length === 0 ? 0 : 1;
} catch (error) {
  console.error(`the browser test could not finish: ${error.stack ?? error}`);
  process.exitCode = 2;
}
