// Syncing under Zalando's operator's own CRD (v1.15.1), which it registers again each time it starts: its status
// schema takes only strings, so the API server refuses conditions, warnings and observedGeneration (422). The sync
// must still succeed, keep its status readable, say why once, and make no request when nothing changed.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { resetStatusSchemaMemory } from '../../lib/sync/cluster/status';
import { peerBuild, peerFile } from '../../scripts/testenv/peer';
import { parse } from 'yaml';
import { applyManifest, installCrd, referenceConfig, repoRoot, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

const name = 'acid-minimal-cluster';

/** Replaces the CRD whole (a PUT: an apply would merge the two schemas) and waits until it serves that schema. */
async function replaceCrd(file: string, client: KubeClient, stringOnly: boolean): Promise<void> {
  const result = await kubectl(['replace', '-f', file]);
  assert.equal(result.code, 0, result.stderr);
  for (let i = 0; i < 100; i++) {
    const crd = await client.get({ kind: 'CustomResourceDefinition', name: 'postgresqls.acid.zalan.do' });
    const status = crd?.spec.versions[0].schema.openAPIV3Schema.properties.status;
    if (Boolean(status?.additionalProperties) === stringOnly) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the apiserver swaps its validators after the update
}

describe("under Zalando's CRD (status: strings only)", () => {
  let client: KubeClient;
  let namespace = '';
  before(async () => {
    await installCrd();
    client = testClient();
    namespace = await createNamespace('zalando-crd');
  });
  after(async () => {
    await replaceCrd(`${repoRoot}manifests/postgresql.crd.yaml`, client, false);
    client.close();
    await deleteNamespace(namespace);
  });

  test('the sync succeeds, stores the structured fields as JSON text, warns once, and a repeat writes nothing', async () => {
    const zalandoCrd = join(peerBuild().source, 'manifests/postgresql.crd.yaml');
    const copy = join(tmpdir(), `zalando-crd-${process.pid}.yaml`);
    writeFileSync(copy, readFileSync(zalandoCrd));
    await replaceCrd(copy, client, true);
    resetStatusSchemaMemory();

    await applyManifest(parse(peerFile('manifests/minimal-postgres-manifest.yaml')), namespace);
    const ctx = syncContext(client, { ...referenceConfig('v2.0.1'), enable_database_access: false });
    const first = await syncCluster(ctx, namespace, name);
    assert.equal(first.outcome, 'synced', first.error);
    assert.equal(first.status, 'Creating');

    const stored = await client.get({ kind: 'postgresql', namespace, name });
    assert.equal(stored!.status.PostgresClusterStatus, 'Creating');
    assert.equal(typeof stored!.status.conditions, 'string');
    const conditions = JSON.parse(stored!.status.conditions) as { type: string }[];
    assert.deepEqual(conditions.map((c) => c.type).slice(0, 3), ['Ready', 'Progressing', 'Degraded']);

    const warned = (await client.list('Event', namespace)).filter((e) => e.reason === 'StatusSchemaRestricted');
    assert.equal(warned.length, 1);
    assert.equal(warned[0]!.type, 'Warning');
    assert.match(warned[0]!.message, /status\.conditions/);

    const writes = client.counter.writes();
    const second = await syncCluster(ctx, namespace, name);
    assert.equal(second.outcome, 'synced', second.error);
    assert.deepEqual(second.actions, []);
    assert.equal(client.counter.writes(), writes, 'the second sync makes no write request');

    // A fresh process (no memory of the refusal) still converges: one refused patch, then the JSON-text form.
    resetStatusSchemaMemory();
    const third = await syncCluster(ctx, namespace, name);
    assert.equal(third.outcome, 'synced', third.error);
    assert.equal(client.counter.writes(), writes, 'an unchanged status is not written in either form');

    // Back under this operator's CRD, the next change is written structured again.
    await replaceCrd(`${repoRoot}manifests/postgresql.crd.yaml`, client, false);
    resetStatusSchemaMemory();
    await kubectl([
      'patch',
      'postgresql',
      '-n',
      namespace,
      name,
      '--type=merge',
      '-p',
      '{"spec":{"numberOfInstances":3}}',
    ]);
    const fourth = await syncCluster(ctx, namespace, name);
    assert.equal(fourth.outcome, 'synced', fourth.error);
    const structured = await client.get({ kind: 'postgresql', namespace, name });
    assert.ok(Array.isArray(structured!.status.conditions), JSON.stringify(structured!.status));
    assert.equal(typeof structured!.status.observedGeneration, 'number');
  });
});
