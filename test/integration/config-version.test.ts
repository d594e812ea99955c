// A warm function reuses the operator config it parsed, when the event names that ConfigMap version
// (`configversion`, sent by the bridge): no GET; any other version, or none, is read.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { loadOperatorConfig } from '../../lib/sync/operator/config';
import { testClient } from './operator';
import { createNamespace } from './testenv';

let client: KubeClient;
before(() => {
  client = testClient();
});
after(() => client.close());

test('the config of a known ConfigMap version is reused without a GET; a new version is read', async () => {
  const namespace = await createNamespace('cfgver');
  const location = { namespace, name: 'postgres-operator' };
  const written = await client.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: location,
    data: { workers: '3' },
  });
  const version = written.metadata!.resourceVersion!;
  const env = {};

  client.counter.reset();
  const first = await loadOperatorConfig(client, location, env, version);
  assert.equal(client.counter.total(), 1, 'not parsed before in this process: read');
  assert.ok(first.ok && first.config.workers === 3);

  client.counter.reset();
  const again = await loadOperatorConfig(client, location, env, version);
  assert.equal(client.counter.total(), 0, 'the same version: no request');
  assert.deepEqual(again, first);
  assert.ok(again.ok);
  again.config.workers = 99; // a caller's copy: the next one is unchanged
  assert.ok((await loadOperatorConfig(client, location, env, version)).ok);
  assert.equal(
    ((await loadOperatorConfig(client, location, env, version)) as typeof first & { ok: true }).config.workers,
    3,
  );

  const changed = await client.apply({ ...written, metadata: location, data: { workers: '5' } });
  client.counter.reset();
  const stale = await loadOperatorConfig(client, location, env, version);
  assert.equal(client.counter.total(), 0, 'the event names the old version: what the sender saw');
  assert.ok(stale.ok && stale.config.workers === 3);
  const fresh = await loadOperatorConfig(client, location, env, changed.metadata!.resourceVersion);
  assert.equal(client.counter.total(), 1);
  assert.ok(fresh.ok && fresh.config.workers === 5);
  client.counter.reset();
  const unnamed = await loadOperatorConfig(client, location, env);
  assert.equal(client.counter.total(), 1, 'an event without a version is always read');
  assert.ok(unnamed.ok && unnamed.config.workers === 5);
});
