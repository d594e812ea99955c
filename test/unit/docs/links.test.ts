// Every relative link of the README, the CHANGELOG and docs/ leads to a file of the repository, and every #anchor
// to a heading of that file (GitHub's anchor rule: lower case, punctuation dropped, spaces to hyphens).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { REPO_ROOT } from '../reference';

const pages = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(`${REPO_ROOT}docs`)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** @returns the anchors of a Markdown file's headings */
function anchors(path: string): Set<string> {
  const text = readFileSync(`${REPO_ROOT}${path}`, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set(
    [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('documentation links', () => {
  for (const page of pages) {
    it(`${page}: every relative link resolves`, () => {
      const text = readFileSync(`${REPO_ROOT}${page}`, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [file, anchor] = target!.split('#');
        const path = file ? normalize(join(dirname(page), file)) : page;
        assert.ok(existsSync(`${REPO_ROOT}${path}`), `${page}: ${target} (no ${path})`);
        if (anchor && path.endsWith('.md')) assert.ok(anchors(path).has(anchor), `${page}: ${target} (no heading)`);
      }
    });
  }
});
