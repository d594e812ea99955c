// The repository stands alone: no file reads or cites documents outside it (a user's clone has nothing beside it).
// Facts from elsewhere are cited by their upstream URL, or vendored under test/fixtures with their licence.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

/** Paths and citations that point outside the repository. */
const OUTSIDE = [
  /\.\.\/shared\b/, // the team's shared folder beside the checkout
  /\bresearch\/[\w-]+\.md\b/, // its research notes, as a path
  /\bresearch [\w-]+\.md\b/, // ... or by name ("research runtime.md §3.2")
  /\bdesign\.md\b/, // the team's design notes
];

describe('the repository stands alone', () => {
  it('no tracked file refers to ../shared or to the research notes kept there', () => {
    const files = execFileSync('git', ['ls-files'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => /\.(ts|js|mjs|sh|md|ya?ml|json)$/.test(f) && !f.endsWith('package-lock.json'))
      .filter((f) => f !== 'test/unit/lint/stands-alone.test.ts');
    const found: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // deleted in the working tree
      }
      text.split('\n').forEach((line, i) => {
        if (OUTSIDE.some((pattern) => pattern.test(line))) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(found, [], 'cite an upstream URL instead, or vendor the file under test/fixtures');
  });
});
