/**
 * The README is the front door; reference material lives in one file per subject under each package's `docs/`.
 * These tests keep that layout navigable: every relative link and anchor resolves, the README links every docs
 * file, and every docs file links back to the README.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { anchorsOf, brokenLinks, headingSlug, linksOf, markdownFiles } from './support/markdown-links.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FILES = markdownFiles(ROOT);
const DOCS = FILES.filter((file) => /^[^/]+\/docs\/[^/]+\.md$/.test(file));

describe('documentation links', () => {
  it('finds the README and the per-package docs files', () => {
    expect(FILES).toContain('README.md');
    expect(DOCS).toEqual(expect.arrayContaining(['hub/docs/error-codes.md', 'proto/docs/mqtt-topics.md', 'test/docs/benchmarks.md']));
  });

  it('every relative link of every Markdown file points at an existing file and heading', () => {
    expect(brokenLinks(ROOT, FILES)).toEqual([]);
  });

  it('the README\'s "Where to read on" links every docs file, and every docs file starts with its title and a link back', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## Where to read on\n');
    expect(start, 'README.md has no "Where to read on" section').toBeGreaterThan(0);
    const end = readme.indexOf('\n## ', start + 1);
    const listed = new Set(linksOf(readme.slice(start, end < 0 ? undefined : end)).map((link) => link.target.split('#')[0]));
    for (const doc of DOCS) {
      expect(listed.has(doc), `README.md's "Where to read on" does not link ${doc}`).toBe(true);
      const [title, blank, backLink] = readFileSync(join(ROOT, doc), 'utf8').split('\n');
      expect({ doc, title: /^# \S/.test(title ?? ''), blank }).toEqual({ doc, title: true, blank: '' });
      expect(backLink, `${doc} has no link back to the README on its third line`).toMatch(/\]\((\.\.\/)+README\.md(#[^)]*)?\)/);
    }
  });
});

describe('link checker', () => {
  function fixture(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'fedfleet-links-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  }

  it('reports a missing file and a missing anchor, and accepts what exists', () => {
    const root = fixture({
      'README.md': [
        '# Title', '', '[ok](a/docs/x.md#federated-learning-npm-run-benchfl) [ok2](#title) [web](https://example.com/#nothing)',
        '[gone](a/docs/y.md) [stale](a/docs/x.md#error-codes) `[code](not/a/link.md)`', '```', '[fenced](nowhere.md)', '```',
        '[old anchor](#federated-learning)',
      ].join('\n'),
      'a/docs/x.md': '# X\n\n[back](../../README.md#title)\n\n## Federated learning: `npm run bench:fl`\n',
    });
    expect(brokenLinks(root, markdownFiles(root)).map(({ file, line, target }) => `${file}:${line} ${target}`)).toEqual([
      'README.md:4 a/docs/y.md', 'README.md:4 a/docs/x.md#error-codes', 'README.md:8 #federated-learning',
    ]);
  });

  it('slugs headings as GitHub does, numbering repeats', () => {
    expect(headingSlug('Duplicate detection: `npm run bench:dedupe`')).toBe('duplicate-detection-npm-run-benchdedupe');
    expect(headingSlug('MQTT topics and ACL')).toBe('mqtt-topics-and-acl');
    expect([...anchorsOf('# A\n## A\n```\n# not a heading\n```\n<a id="x"></a>')]).toEqual(['a', 'a-1', 'x']);
  });
});
