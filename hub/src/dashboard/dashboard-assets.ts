/**
 * The dashboard's files, read once at start into a table by URL name: the hand-written shell, styles and ES modules
 * in `./assets/`, and uPlot's browser build and stylesheet resolved from the hub's own dependency (`uplot` in
 * hub/package.json) and served under `vendor/`. A name outside the table does not exist.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAsset {
  body: Buffer;
  contentType: string;
  etag: string;
  cacheControl: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The chart library's files, served as `vendor/<name>` (index.html loads both). */
const VENDOR_FILES: Readonly<Record<string, string>> = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

const ASSETS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'assets');

// Our files change with the hub: the browser revalidates each time (cheap: 304 by ETag). uPlot changes only with
// the installed package version, so a day of caching is safe.
const REVALIDATE = 'no-cache';
const VENDOR_CACHE = 'public, max-age=86400';

function asset(body: Buffer, name: string, cacheControl: string): DashboardAsset {
  const contentType = CONTENT_TYPES[extname(name)] ?? 'application/octet-stream';
  return { body, contentType, cacheControl, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

export function loadDashboardAssets(): Map<string, DashboardAsset> {
  const table = new Map<string, DashboardAsset>();
  for (const path of filesUnder(ASSETS_DIR)) {
    const name = relative(ASSETS_DIR, path).split(sep).join('/');
    if (CONTENT_TYPES[extname(name)]) table.set(name, asset(readFileSync(path), name, REVALIDATE));
  }
  for (const [name, specifier] of Object.entries(VENDOR_FILES)) {
    // Resolved the way Node resolves the hub's own imports, wherever npm placed the package (hoisted or not).
    table.set(`vendor/${name}`, asset(readFileSync(fileURLToPath(import.meta.resolve(specifier))), name, VENDOR_CACHE));
  }
  return table;
}
