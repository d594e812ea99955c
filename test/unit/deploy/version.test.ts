// The version lives in one place, package.json's "version": the chart, the kustomize images, the default image of
// `npm run deploy`, the image build and the changelog must all follow it (issue 18, releases).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { defaultOptions, packageVersion } from '../../../scripts/deploy/options';
import { REPO_ROOT as repoRoot } from '../reference';

const read = (path: string) => readFileSync(`${repoRoot}${path}`, 'utf8');
const version = packageVersion();
const IMAGE = 'postgres-operator-functions';

/** Every `image:` value of a parsed YAML tree. */
function images(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) images(item, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'image' && typeof value === 'string') out.push(value);
      else images(value, out);
    }
  }
  return out;
}

describe('one version', () => {
  it('is a semantic version, the same in package-lock.json', () => {
    assert.match(version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    assert.equal((JSON.parse(read('package-lock.json')) as { version: string }).version, version);
  });

  it("the chart's version and appVersion are package.json's", () => {
    const chart = parse(read('charts/postgres-operator-functions/Chart.yaml')) as Record<string, string>;
    assert.equal(chart.version, version);
    assert.equal(chart.appVersion, version);
  });

  it("every operator image of the kustomize layouts is tagged with package.json's version", () => {
    let seen = 0;
    for (const layout of readdirSync(`${repoRoot}config`)) {
      for (const file of readdirSync(`${repoRoot}config/${layout}`).filter((f) => f.endsWith('.yaml'))) {
        for (const doc of parseAllDocuments(read(`config/${layout}/${file}`))) {
          for (const image of images(doc.toJS())) {
            if (!image.startsWith(`${IMAGE}:`)) continue;
            assert.equal(image, `${IMAGE}:${version}`, `config/${layout}/${file}`);
            seen++;
          }
        }
      }
    }
    assert.ok(seen > 0, 'no operator image found in config/');
  });

  it('npm run deploy defaults to that image, and npm run image builds it', () => {
    assert.equal(defaultOptions().image, `${IMAGE}:${version}`);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    assert.match(
      scripts.image!,
      /--build-arg VERSION=\$npm_package_version -t postgres-operator-functions:\$npm_package_version/,
    );
    // The Dockerfile takes the version as a build argument and writes no version of its own.
    const dockerfile = read('Dockerfile');
    assert.match(dockerfile, /^ARG VERSION=/m);
    assert.match(dockerfile, /org\.opencontainers\.image\.version=\$VERSION/);
    assert.doesNotMatch(dockerfile, /postgres-operator-functions:\d/);
  });

  it('CHANGELOG.md has a section for the version, or Unreleased first', () => {
    const changelog = read('CHANGELOG.md');
    const sections = [...changelog.matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1]!);
    assert.ok(sections.length > 0, 'no "## [version]" section');
    assert.ok(
      sections.includes(version) || sections[0] === 'Unreleased',
      `CHANGELOG.md names neither ${version} nor Unreleased first: ${sections.join(', ')}`,
    );
  });
});
