// Bad manifests are either refused by the CRD schema at `kubectl apply`, or end in status Invalid with a Warning
// Event naming the field; no child object is ever touched and nothing is lost.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, kubectl } from './testenv';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = Record<string, any>;
const base = (): Manifest => structuredClone(reference('v2.0.1/minimal-postgres-manifest.yaml'));
const withSpec = (patch: Manifest): Manifest => {
  const m = base();
  m.spec = { ...m.spec, ...patch };
  return m;
};
const withoutSpec = (field: string): Manifest => {
  const m = base();
  delete m.spec[field];
  return m;
};
const named = (name: string): Manifest => {
  const m = base();
  m.metadata.name = name;
  return m;
};

/** Refused by the API server at apply time: the error must name the field. */
const refused: Array<[string, Manifest, RegExp]> = [
  ['missing teamId', withoutSpec('teamId'), /spec\.teamId: Required value/],
  ['missing volume', withoutSpec('volume'), /spec\.volume: Required value/],
  ['negative numberOfInstances', withSpec({ numberOfInstances: -1 }), /spec\.numberOfInstances: Invalid value: -1/],
  [
    'numberOfInstances of the wrong type',
    withSpec({ numberOfInstances: 'two' }),
    /spec\.numberOfInstances: Invalid value: "string"/,
  ],
  ['teamId of the wrong type', withSpec({ teamId: 42 }), /spec\.teamId: Invalid value: "integer"/],
  ['bad volume size', withSpec({ volume: { size: '1 GB' } }), /spec\.volume\.size: Invalid value: "1 GB"/],
  [
    'unknown user flag',
    withSpec({ users: { app: ['superman'] } }),
    /spec\.users\.app\[0\]: Unsupported value: "superman"/,
  ],
  [
    'bad CIDR',
    withSpec({ allowedSourceRanges: ['10.0.0.0/33'] }),
    /spec\.allowedSourceRanges\[0\]: Invalid value: "10\.0\.0\.0\/33"/,
  ],
  [
    'bad clone timestamp',
    withSpec({ clone: { cluster: 'acid-source', timestamp: 'yesterday' } }),
    /spec\.clone\.timestamp: Invalid value: "yesterday"/,
  ],
  [
    'bad PostgreSQL version',
    withSpec({ postgresql: { version: 'latest' } }),
    /spec\.postgresql\.version: Unsupported value: "latest"/,
  ],
  [
    'PostgreSQL version not released',
    withSpec({ postgresql: { version: '19' } }),
    /spec\.postgresql\.version: Unsupported value: "19"/,
  ],
  [
    'IPv6 CIDR of colons only',
    withSpec({ allowedSourceRanges: [':::::/64'] }),
    /spec\.allowedSourceRanges\[0\]: Invalid value: ":::::\/64"/,
  ],
  [
    'numberOfInstances beyond int32',
    withSpec({ numberOfInstances: 2 ** 31 }),
    /spec\.numberOfInstances: Invalid value: 2147483648/,
  ],
  ['misspelled field', withSpec({ numberOfInstance: 2 }), /unknown field "spec\.numberOfInstance"/],
  [
    'bad CPU request',
    withSpec({ resources: { requests: { cpu: 'lots' } } }),
    /spec\.resources\.requests\.cpu: Invalid value: "lots"/,
  ],
];

/** Accepted by the API server, found invalid by the operator: status Invalid, message naming the field. */
const invalid: Array<[string, Manifest, RegExp, boolean?]> = [
  ['name that is not DNS-1035', named('acid.minimal'), /metadata\.name: name must confirm to DNS-1035/],
  [
    'name longer than 58 characters',
    named(`acid-${'x'.repeat(54)}`),
    /metadata\.name: name cannot be longer than 58 characters/,
  ],
  ['empty teamId', withSpec({ teamId: '' }), /spec\.teamId: team name is empty/],
  ['bad user name', withSpec({ users: { 'Bad-User': [] } }), /spec\.users\.Bad-User: invalid username: "Bad-User"/],
  [
    'conflicting user flags',
    withSpec({ users: { app: ['login', 'NOLOGIN'] } }),
    /spec\.users\.app: invalid flags for user "app": conflicting user flags: "LOGIN" and "NOLOGIN"/,
  ],
  [
    'name without the team prefix',
    named('minimal-cluster'),
    /metadata\.name: name must match \{TEAM\}-\{NAME\} format/,
    true,
  ],
  [
    'clone source that is not DNS-1035',
    withSpec({ clone: { cluster: 'Source_Cluster' } }),
    /spec\.clone\.cluster: clone cluster name must confirm to DNS-1035/,
  ],
];

describe('bad manifests', () => {
  let client: KubeClient;
  let namespace: string;
  before(async () => {
    await installCrd();
    client = testClient();
    namespace = await createNamespace('bad');
  });
  after(() => client.close());

  for (const [what, manifest, message] of refused) {
    test(`refused by the CRD schema: ${what}`, async () => {
      const result = await kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(manifest));
      assert.notEqual(result.code, 0, 'kubectl apply must fail');
      assert.match(result.stderr, message);
    });
  }

  for (const [what, manifest, message, prefixRule] of invalid) {
    test(`status Invalid: ${what}`, async () => {
      const ns = await createNamespace('invalid');
      await applyManifest(manifest, ns);
      const config = { ...referenceConfig('v2.0.1'), enable_team_id_clustername_prefix: prefixRule === true };
      const name = manifest.metadata.name as string;
      const result = await syncCluster(syncContext(client, config), ns, name);
      assert.equal(result.outcome, 'invalid');
      assert.match(result.error ?? '', message);
      const cr = await client.get({ kind: 'postgresql', namespace: ns, name });
      assert.equal(cr!.status.PostgresClusterStatus, 'Invalid');
      assert.match(cr!.status.conditions.find((c: { type: string }) => c.type === 'Ready').message, message);
      const events = await client.list('Event', ns);
      assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'InvalidManifest' && message.test(e.message)));
      for (const kind of ['StatefulSet', 'Service', 'Secret', 'Endpoints', 'PodDisruptionBudget']) {
        const children = (await client.list(kind, ns)).filter(
          (o) => o.metadata!.labels?.[config.cluster_name_label] === name,
        );
        assert.deepEqual(
          children.map((o) => o.metadata!.name),
          [],
          `no ${kind} for an invalid manifest`,
        );
      }
      client.counter.reset();
      assert.equal((await syncCluster(syncContext(client, config), ns, name)).outcome, 'invalid');
      assert.equal(client.counter.writes(), 0, 'a second sync of an unchanged invalid manifest writes nothing');
    });
  }

  test('an invalid update leaves the running objects intact and says why', async () => {
    const ns = await createNamespace('invalid');
    const name = 'acid-minimal-cluster';
    await applyManifest(base(), ns);
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    assert.equal((await syncCluster(ctx, ns, name)).outcome, 'synced');
    const stsBefore = await client.get({ kind: 'StatefulSet', namespace: ns, name });
    const secretsBefore = await client.list('Secret', ns, `cluster-name=${name}`);
    await applyManifest(withSpec({ numberOfInstances: 3, users: { 'Bad-User': [] } }), ns);
    client.counter.reset();
    const result = await syncCluster(ctx, ns, name);
    assert.equal(result.outcome, 'invalid');
    assert.deepEqual(
      Object.keys(client.counter.snapshot()).filter((verb) => verb === 'apply' || verb === 'delete'),
      [],
    );
    const stsAfter = await client.get({ kind: 'StatefulSet', namespace: ns, name });
    assert.equal(stsAfter!.metadata!.resourceVersion, stsBefore!.metadata!.resourceVersion);
    assert.equal(stsAfter!.spec.replicas, 2);
    const secretsAfter = await client.list('Secret', ns, `cluster-name=${name}`);
    assert.deepEqual(
      secretsAfter.map((s) => [s.metadata!.name, s.data.password]),
      secretsBefore.map((s) => [s.metadata!.name, s.data.password]),
    );
    const cr = await client.get({ kind: 'postgresql', namespace: ns, name });
    assert.equal(cr!.status.PostgresClusterStatus, 'Invalid');
  });

  test('kubectl explain shows the schema descriptions', async () => {
    const result = await kubectl(['explain', 'postgresql.spec.volume']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /persistent volume/i);
    assert.match(result.stdout, /size\s+<string> -required-/);
  });
});
