// No import cycle anywhere in lib/ (type-only imports included): the layers import downwards only, and the rooms of
// lib/sync share their types through lib/sync/context.ts instead of through each other.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseCircular, parseDependencyTree, type DependencyTree } from 'dpdm';

/** @returns the cycles of a directed graph given as node -> nodes it points to, each as `a -> b -> a` */
function cyclesOf(graph: Map<string, Set<string>>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('imports in lib/', () => {
  let tree: DependencyTree;
  before(async () => {
    tree = await parseDependencyTree('lib/**/*.ts', {
      context: process.cwd(),
      transform: false,
      tsconfig: 'tsconfig.json',
    });
  });

  it('form no cycle between files', () => {
    assert.ok(Object.keys(tree).length > 100, `only ${Object.keys(tree).length} files of lib/ were read`);
    assert.deepEqual(
      parseCircular(tree).map((cycle) => cycle.join(' -> ')),
      [],
    );
  });

  it('form no cycle between the rooms of lib/sync', () => {
    const room = (file: string) => /^lib\/sync\/([^/]+)\//.exec(file)?.[1];
    const graph = new Map<string, Set<string>>();
    for (const [file, deps] of Object.entries(tree)) {
      const from = room(file);
      if (!from) continue;
      for (const dep of deps ?? []) {
        const to = dep.id ? room(dep.id) : undefined;
        if (to && to !== from) graph.set(from, (graph.get(from) ?? new Set()).add(to));
      }
    }
    assert.ok(graph.size >= 4, `only ${graph.size} rooms import another room: were the imports read?`);
    assert.deepEqual(cyclesOf(graph), []);
  });

  it('finds a cycle where there is one (the check itself)', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    assert.deepEqual(cyclesOf(graph), ['a -> b -> c -> a']);
  });

  it('never reach functions/', () => {
    const up = Object.entries(tree).flatMap(([file, deps]) =>
      (deps ?? []).filter((d) => d.id?.startsWith('functions/')).map((d) => `${file} -> ${d.id}`),
    );
    assert.deepEqual(up, []);
  });
});
