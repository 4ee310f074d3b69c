// What a reader sees on each chapter page: the sidebar's list of chapters, and on every page
// the diagrams, the code listings and a clean console.

import { watchedPage } from './browser.mjs';

/** A guard against a hung page, not a speed requirement: nothing waits this long normally. */
export const STUCK_MS = 30_000;

/**
 * The chapters the sidebar links to, in book order, as paths relative to the book root
 * (draft chapters have no link, so they are not in the list).
 * @returns {Promise<{ path: string, title: string }[]>}
 */
export async function chaptersFromSidebar(context, origin) {
  const { page, problems } = await watchedPage(context);
  await page.goto(`${origin}/index.html`, { waitUntil: 'load', timeout: STUCK_MS });
  // The sidebar also links to the current page's own headings (`header-in-summary`); only
  // the chapter links count.
  const chapterLinks = 'mdbook-sidebar-scrollbox a[href]:not(.header-in-summary)';
  await page.waitForSelector(chapterLinks, { timeout: STUCK_MS });
  const chapters = await page.$$eval(chapterLinks, (links) =>
    links.map((link) => ({
      path: new URL(link.href).pathname.replace(/^\//, ''),
      title: link.textContent.trim(),
    })),
  );
  await page.close();
  if (problems.length > 0) {
    throw new Error(`index.html: ${problems.join('; ')}`);
  }
  return chapters;
}

/**
 * Loads one chapter and inspects it. Returns what was found and the problems, each a sentence.
 * @param {{ path: string }} chapter
 */
export async function checkChapter(context, origin, chapter) {
  const { page, problems } = await watchedPage(context);
  await page.goto(`${origin}/${chapter.path}`, { waitUntil: 'load', timeout: STUCK_MS });
  // A diagram inside a closed <details> (a self-check answer) is not rendered until opened;
  // open them all so every image gets a size, as it would for a reader who clicks.
  await page.$$eval('details', (all) => all.forEach((details) => (details.open = true)));
  await page.waitForFunction(() => [...document.images].every((image) => image.complete), null, {
    timeout: STUCK_MS,
  });
  const found = await page.evaluate(inspectPage);
  await page.close();
  return { path: chapter.path, ...found, problems: [...problems, ...found.problems] };
}

/**
 * Runs inside the page. Kept self-contained: Playwright sends its source to the browser.
 */
function inspectPage() {
  const problems = [];
  const main = document.querySelector('main') ?? document.body;
  const heading = main.querySelector('h1');
  if (!heading) {
    problems.push('has no <h1> title in <main>');
  }

  // mdBook 0.5 gives each image a click-to-zoom copy inside a hidden `.img-wrapper`; the
  // copy has no size until clicked, so only the image shown in the text is measured.
  const diagrams = [...main.querySelectorAll('img')].filter(
    (image) =>
      new URL(image.src).pathname.endsWith('.svg') && image.closest('.img-wrapper') === null,
  );
  for (const image of diagrams) {
    const name = new URL(image.src).pathname.split('/').pop();
    const box = image.getBoundingClientRect();
    if (image.naturalWidth === 0) {
      problems.push(`diagram ${name} did not load (naturalWidth is 0)`);
    } else if (box.width === 0 || box.height === 0) {
      problems.push(`diagram ${name} is rendered ${box.width}x${box.height}`);
    }
    if (!image.alt.trim()) {
      problems.push(`diagram ${name} has no alt text`);
    }
  }

  const listings = [...main.querySelectorAll('pre > code')];
  listings.forEach((code, index) => {
    if (!code.textContent.trim()) {
      problems.push(`code block ${index + 1} is empty (an include that rendered nothing?)`);
    }
  });
  const rust = listings.filter((code) => code.classList.contains('language-rust'));
  rust.forEach((code) => {
    // highlight.js marks the block itself, then wraps keywords, strings... in hljs-* spans.
    const highlighted =
      code.classList.contains('hljs') && code.querySelector('span[class^="hljs-"]') !== null;
    if (!highlighted) {
      const start = code.textContent.trim().split('\n')[0];
      problems.push(`Rust block starting \`${start}\` is not syntax-highlighted`);
    }
  });

  return {
    title: heading?.textContent.trim() ?? '',
    diagrams: diagrams.length,
    codeBlocks: listings.length,
    rustBlocks: rust.length,
    problems,
  };
}

/**
 * The print page holds the whole book on one page; each chapter's title must be on it.
 * @param {string[]} titles the <h1> of every chapter
 */
export async function checkPrintPage(context, origin, titles) {
  const { page, problems } = await watchedPage(context);
  // print.html opens the print dialog on load; a headless browser has no one to click it.
  await page.addInitScript(() => {
    window.print = () => {};
  });
  await page.goto(`${origin}/print.html`, { waitUntil: 'load', timeout: STUCK_MS });
  const headings = await page.$$eval('main h1', (all) => all.map((h) => h.textContent.trim()));
  await page.close();
  for (const title of titles) {
    if (!headings.includes(title)) {
      problems.push(`print.html lacks the chapter title "${title}"`);
    }
  }
  return { headings: headings.length, problems };
}
