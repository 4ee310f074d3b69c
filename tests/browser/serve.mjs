// A tiny static file server for the built book, on 127.0.0.1 and a port the OS picks.
//
// Why not open the pages as file:// URLs? mdBook's search loads its index with a <script>
// element, and the sidebar, the theme and the print page all behave differently off HTTP;
// a reader gets the book over HTTP, so the test does too.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

/** The Content-Type for each kind of file mdBook writes. */
const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves `root` until the returned `close()` is called.
 * @param {string} root the book's HTML directory
 * @returns {Promise<{ origin: string, close: () => Promise<void> }>}
 */
export async function serveDirectory(root) {
  const server = createServer((request, response) => {
    respond(root, request.url ?? '/', response).catch((error) => {
      response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end(String(error));
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function respond(root, url, response) {
  const file = await resolveFile(root, new URL(url, 'http://localhost').pathname);
  if (file === null) {
    response.writeHead(404, { 'Content-Type': 'text/plain' });
    response.end(`not found: ${url}`);
    return;
  }
  const body = await readFile(file);
  const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
  response.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  response.end(body);
}

/** The file a URL path names inside `root` (a directory means its index.html), or null. */
async function resolveFile(root, pathname) {
  const relative = normalize(decodeURIComponent(pathname)).replace(/^[/\\]+/, '');
  // `normalize` has already folded `..`; anything still climbing out of root is refused.
  if (relative.split(sep).includes('..')) {
    return null;
  }
  let file = join(root, relative);
  try {
    if ((await stat(file)).isDirectory()) {
      file = join(file, 'index.html');
      await stat(file);
    }
    return file;
  } catch {
    return null;
  }
}
