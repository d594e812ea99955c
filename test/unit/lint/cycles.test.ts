// No import cycle anywhere in lib/ (type-only imports included): the layers import downwards only, and the rooms of
// lib/sync share their types through lib/sync/context.ts instead of through each other's entry points.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCircular, parseDependencyTree } from 'dpdm';

describe('imports in lib/', () => {
  it('form no cycle', async () => {
    const tree = await parseDependencyTree('lib/**/*.ts', {
      context: process.cwd(),
      transform: false,
      tsconfig: 'tsconfig.json',
    });
    assert.ok(Object.keys(tree).length > 100, `only ${Object.keys(tree).length} files of lib/ were read`);
    assert.deepEqual(
      parseCircular(tree).map((cycle) => cycle.join(' -> ')),
      [],
    );
  });

  it('never reach functions/', async () => {
    const tree = await parseDependencyTree('lib/**/*.ts', {
      context: process.cwd(),
      transform: false,
      tsconfig: 'tsconfig.json',
    });
    const up = Object.entries(tree).flatMap(([file, deps]) =>
      (deps ?? []).filter((d) => d.id?.startsWith('functions/')).map((d) => `${file} -> ${d.id}`),
    );
    assert.deepEqual(up, []);
  });
});
