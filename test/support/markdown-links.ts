/**
 * Checks the relative links of the project's Markdown: every `[text](path)` target exists and every `#anchor`
 * names a heading (or an `<a id>`) of its target file. The README is the front door and reference material lives
 * in per-package `docs/` files, so a moved section must not leave a link pointing at where it used to be.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** A link that does not resolve, as `file:line` and the target written there. */
export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  reason: string;
}

/** Dependencies and build output, anywhere; a local hub's, agent's or sim's state, at the root (as .gitignore says). */
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist']);
const SKIPPED_ROOT_DIRS = new Set(['data', 'agent-data', 'sim-data', 'tmp']);

/** Every `.md` file under `root`, as paths relative to it (sorted), skipping dependencies and build output. */
export function markdownFiles(root: string, dir = root): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const skipped = SKIPPED_DIRS.has(entry.name) || (dir === root && SKIPPED_ROOT_DIRS.has(entry.name));
      if (!skipped) found.push(...markdownFiles(root, join(dir, entry.name)));
    } else if (entry.name.endsWith('.md')) {
      found.push(relative(root, join(dir, entry.name)));
    }
  }
  return found.sort();
}

/** The lines of a Markdown text that are prose: fenced code blocks are blanked, so line numbers stay true. */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/** A heading's anchor as GitHub renders it: lower case, punctuation dropped, spaces to hyphens (github-slugger). */
export function headingSlug(heading: string): string {
  const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '').trim().toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors a Markdown text offers: one per heading (repeats get `-1`, `-2`, … as on GitHub) and `<a id>`s. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const slug = headingSlug(heading[1]!);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  }
  return anchors;
}

/** Link targets of a Markdown text with their 1-based line: inline `](target)` and reference `[x]: target`. */
export function linksOf(text: string): Array<{ line: number; target: string }> {
  const links: Array<{ line: number; target: string }> = [];
  proseLines(text).forEach((raw, index) => {
    const line = raw.replace(/(`+)[\s\S]*?\1/g, ''); // code spans show syntax, they do not link
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: index + 1, target: match[1]! });
    const reference = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (reference) links.push({ line: index + 1, target: reference[1]! });
  });
  return links;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** Every broken relative link in `files` (paths relative to `root`). External URLs are not fetched. */
export function brokenLinks(root: string, files: string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsIn = (path: string) => {
    let anchors = anchorCache.get(path);
    if (!anchors) anchorCache.set(path, (anchors = anchorsOf(readFileSync(path, 'utf8'))));
    return anchors;
  };
  for (const file of files) {
    const source = join(root, file);
    for (const { line, target } of linksOf(readFileSync(source, 'utf8'))) {
      if (isExternal(target)) continue;
      const [pathPart = '', anchor] = target.split('#', 2);
      const path = pathPart === '' ? source : resolve(dirname(source), decodeURIComponent(pathPart));
      const report = (reason: string) => broken.push({ file, line, target, reason });
      if (!existsSync(path)) {
        report('no such file');
      } else if (anchor !== undefined) {
        if (statSync(path).isDirectory() || !path.endsWith('.md')) report('an anchor into a file that is not Markdown');
        else if (!anchorsIn(path).has(decodeURIComponent(anchor))) report(`no heading with anchor #${anchor} in ${relative(root, path)}`);
      }
    }
  }
  return broken;
}
