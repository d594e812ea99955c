// LISTs come in pages (`limit` / `continue`): a namespace with more objects than a page holds is read whole, in as
// many requests as pages.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LIST_PAGE_SIZE, type KubeClient } from '../../lib/k8s/client';
import { testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

describe('paginated LIST', () => {
  let client: KubeClient;
  let namespace = '';
  before(async () => {
    client = testClient();
    namespace = await createNamespace('list-pages');
  });
  after(async () => {
    // On the apiserver-only plane a deleted namespace keeps its objects (no namespace controller): remove them, or
    // later tests that list every namespace would read a thousand ConfigMaps more.
    await kubectl(['delete', 'configmap', '--all', '-n', namespace, '--wait=false']);
    client.close();
    await deleteNamespace(namespace);
  });

  test(`${LIST_PAGE_SIZE * 2 + 3} objects: all of them, in three requests`, async () => {
    const total = LIST_PAGE_SIZE * 2 + 3;
    for (let start = 0; start < total; start += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, total - start) }, (_, i) =>
          client.create({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `cm-${start + i}`, namespace, labels: { paged: 'yes' } },
          }),
        ),
      );
    }
    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', namespace } });
    client.counter.reset();
    const listed = await client.list('ConfigMap', namespace, 'paged=yes');
    assert.equal(listed.length, total);
    assert.equal(new Set(listed.map((c) => c.metadata?.name)).size, total, 'no object twice');
    assert.ok(listed.every((c) => c.kind === 'ConfigMap' && c.apiVersion === 'v1'));
    assert.equal(client.counter.byResource.get('list ConfigMap'), 3);
  });
});
