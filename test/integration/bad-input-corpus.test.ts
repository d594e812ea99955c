// The bad-input corpus (test/unit/model/bad-input-corpus.ts) on a real API server: a representative subset is
// refused by the CRD at `kubectl apply` naming the field, or ends in status Invalid with a Warning Event naming the
// field within one sync (no pods, no master), or is warned about / adjusted and reported. A retry adds no Event
// object (identical Warnings are aggregated), no sync fails or throws, and a good cluster beside them is untouched.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { BAD_MANIFESTS, type BadManifest, type Manifest } from '../unit/model/bad-input-corpus';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, kubectl } from './testenv';

const base = (): Manifest => structuredClone(reference('v2.0.1/minimal-postgres-manifest.yaml'));
const entry = (what: string): BadManifest => {
  const found = BAD_MANIFESTS.find((e) => e.what === what);
  assert.ok(found, what);
  return found;
};
const manifestOf = (e: BadManifest, name: string): Manifest => {
  const m = base();
  e.edit(m);
  if (e.outcome !== 'invalid' || !/cluster name|team prefix/.test(e.what)) m.metadata.name = name;
  return m;
};
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const CRD_SUBSET = [
  'PostgreSQL 19 (not released)',
  'numberOfInstances beyond int32',
  'IPv6 CIDR of colons only',
  'IPv4 prefix 33',
  'clone uid not a UUID',
  'standby with both WAL archives',
  'spiloRunAsUser negative',
  'pooler mode statement',
];
const INVALID_SUBSET = [
  'user name of 64 bytes',
  'database name with a dash',
  'database named postgres',
  'database owner with a space',
  'additional volume named pgdata',
  'service annotation key with a space',
  'init container named postgres',
  'volume size zero',
  'standby port not a number',
];

describe('bad-input corpus on the API server', () => {
  let client: KubeClient;
  let namespace: string;
  const config = referenceConfig('v2.0.1');
  const good = 'acid-good';
  const childVersions = async () => {
    const versions: Record<string, string> = {};
    for (const kind of ['StatefulSet', 'Service', 'Secret', 'Endpoints', 'PodDisruptionBudget'])
      for (const o of await client.list(kind, namespace, `${config.cluster_name_label}=${good}`))
        versions[`${kind}/${o.metadata!.name}`] = o.metadata!.resourceVersion!;
    return versions;
  };
  let before_: Record<string, string>;

  before(async () => {
    await installCrd();
    client = testClient();
    namespace = await createNamespace('corpus');
    const m = base();
    m.metadata.name = good;
    await applyManifest(m, namespace);
    assert.equal((await syncCluster(syncContext(client, config), namespace, good)).outcome, 'synced');
    before_ = await childVersions();
    assert.ok(Object.keys(before_).length >= 5, 'the good cluster has its children');
  });
  after(async () => {
    assert.deepEqual(await childVersions(), before_, "the good cluster's children are unchanged");
    client.close();
  });

  for (const what of CRD_SUBSET) {
    test(`refused by the CRD: ${what}`, async () => {
      const e = entry(what);
      const m = manifestOf(e, 'acid-crd');
      const result = await kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(m));
      assert.notEqual(result.code, 0, 'kubectl apply must fail');
      assert.match(result.stderr, new RegExp(escape(e.crdPath!)), result.stderr);
    });
  }

  INVALID_SUBSET.forEach((what, index) => {
    test(`Invalid in one sync, one Warning however often retried: ${what}`, async () => {
      const e = entry(what);
      const name = `acid-bad-${index}`;
      await applyManifest(manifestOf(e, name), namespace);
      const ctx = syncContext(client, config);
      const result = await syncCluster(ctx, namespace, name);
      assert.equal(result.outcome, 'invalid', JSON.stringify(result));
      assert.match(result.error ?? '', new RegExp(escape(e.path)));
      const cr = await client.get({ kind: 'postgresql', namespace, name });
      assert.equal(cr!.status.PostgresClusterStatus, 'Invalid');
      const warnings = async () =>
        (await client.list('Event', namespace)).filter(
          (ev) => ev.involvedObject?.name === name && ev.type === 'Warning' && ev.reason === 'InvalidManifest',
        );
      const first = await warnings();
      assert.equal(first.length, 1);
      assert.ok(first[0]!.message!.includes(e.path), first[0]!.message);
      // A retry that finds no record of the report (its status write lost) records the Warning again: aggregated.
      const patched = await kubectl([
        'patch',
        'postgresql',
        name,
        '-n',
        namespace,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":null}',
      ]);
      assert.equal(patched.code, 0, patched.stderr);
      assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'invalid');
      assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'invalid');
      const again = await warnings();
      assert.equal(again.length, 1, 'a retry adds no Event object');
      assert.equal(again[0]!.metadata!.name, first[0]!.metadata!.name);
      assert.ok((again[0]!.count ?? 1) >= 2, 'the repeat raised the count');
      for (const kind of ['StatefulSet', 'Service', 'Secret']) {
        const children = await client.list(kind, namespace, `${config.cluster_name_label}=${name}`);
        assert.deepEqual(
          children.map((o) => o.metadata!.name),
          [],
          `no ${kind}`,
        );
      }
    });
  });

  test('warned and adjusted values are reported once, naming the field; a retry adds no Event', async () => {
    const name = 'acid-adjusted';
    const m = base();
    m.metadata.name = name;
    entry('database owner not among the users').edit(m);
    entry('CPU limit below the request').edit(m);
    await applyManifest(m, namespace);
    const ctx = syncContext(client, config);
    assert.equal((await syncCluster(ctx, namespace, name)).outcome, 'synced');
    const cr = await client.get({ kind: 'postgresql', namespace, name });
    const warnings = cr!.status.warnings as string[];
    assert.ok(
      warnings.some((w) => w.startsWith('spec.databases.foo: owner "nobody"')),
      JSON.stringify(warnings),
    );
    assert.ok(
      warnings.includes('spec.resources.limits.cpu: 200m given, 500m used (raised to the request)'),
      JSON.stringify(warnings),
    );
    const sts = await client.get({ kind: 'StatefulSet', namespace, name });
    assert.equal(sts!.spec.template.spec.containers[0].resources.limits.cpu, '500m');
    const events = async () =>
      (await client.list('Event', namespace)).filter(
        (ev) => ev.involvedObject?.name === name && ev.reason === 'ManifestWarnings',
      );
    const first = await events();
    assert.equal(first.length, 1);
    assert.match(first[0]!.message!, /spec\.resources\.limits\.cpu/);
    for (let i = 0; i < 2; i++) assert.notEqual((await syncCluster(ctx, namespace, name)).outcome, 'failed');
    assert.equal((await events()).length, 1, 'a retry adds no Event object');
  });
});
