// The connection pooler's objects and settings: names, labels, env, pool sizes, resources and Service variants as
// Zalando v1.15.1 makes them (pkg/cluster/connection_pooler.go), from its complete manifest.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildPoolerDeployment, buildPoolerService, poolerResources } from '../../../lib/builders/pooler';
import { poolerEnabled, poolerSettings } from '../../../lib/model/pooler';
import type { PostgresqlSpec } from '../../../lib/model/postgresql';
import { buildEdited, referenceConfig } from '../reference';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const config = referenceConfig('v2.0.1');
const withPooler = (spec: Json, overrides: Record<string, string> = {}) =>
  buildEdited('v2.0.1/complete-postgres-manifest.yaml', referenceConfig('v2.0.1', overrides), (raw) =>
    Object.assign(raw.spec, { enableConnectionPooler: undefined, enableReplicaConnectionPooler: undefined }, spec),
  );
const envOf = (deployment: Json) =>
  Object.fromEntries(
    (deployment.spec.template.spec.containers[0].env as Json[]).map((e) => [e.name, e.value ?? e.valueFrom]),
  );
const named = (objects: Json[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

describe('pooler switches', () => {
  const spec = (extra: Json) => ({ teamId: 'acid', ...extra }) as PostgresqlSpec;
  it('master: the flag wins, else a connectionPooler section turns it on', () => {
    assert.equal(poolerEnabled(spec({}), 'master'), false);
    assert.equal(poolerEnabled(spec({ connectionPooler: {} }), 'master'), true);
    assert.equal(poolerEnabled(spec({ connectionPooler: {}, enableConnectionPooler: false }), 'master'), false);
    assert.equal(poolerEnabled(spec({ enableConnectionPooler: true }), 'master'), true);
  });
  it('replica: only enableReplicaConnectionPooler', () => {
    assert.equal(poolerEnabled(spec({ connectionPooler: {} }), 'replica'), false);
    assert.equal(poolerEnabled(spec({ enableReplicaConnectionPooler: true }), 'replica'), true);
  });
});

describe('pooler settings', () => {
  it('splits maxDBConnections over the instances (Zalando: default = max/2, min = reserve = default/2)', () => {
    const s = poolerSettings(
      { connectionPooler: { numberOfInstances: 3, maxDBConnections: 100 } } as PostgresqlSpec,
      config,
    );
    assert.deepEqual(s.pool, { maxDBConnections: 33, defaultSize: 16, minSize: 8, reserveSize: 8 });
    assert.equal(s.instances, 3);
  });
  it('takes the config defaults', () => {
    const s = poolerSettings({} as PostgresqlSpec, config);
    assert.deepEqual(
      [s.user, s.schema, s.mode, s.image, s.instances, s.pool.maxDBConnections],
      ['pooler', 'pooler', 'transaction', 'ghcr.io/zalando/postgres-operator/pgbouncer:v2.0.1', 2, 30],
    );
  });
  it('refuses the superuser, the replication user and protected roles as the pooler user, with a note', () => {
    for (const [user, why] of [
      ['postgres', 'the superuser'],
      ['standby', 'the replication user'],
      ['admin', 'a protected role'],
    ]) {
      const s = poolerSettings({ connectionPooler: { user } } as PostgresqlSpec, config);
      assert.equal(s.user, 'pooler');
      assert.match(
        s.notes[0]!,
        new RegExp(`^spec.connectionPooler.user: "${user}" given, "pooler" used \\(it is ${why}`),
      );
    }
    assert.equal(poolerSettings({ connectionPooler: { user: 'bouncer' } } as PostgresqlSpec, config).user, 'bouncer');
  });
});

describe('pooler objects', () => {
  it('none without a pooler; master and replica Deployment and Service with one', () => {
    const off = withPooler({});
    assert.equal(off.objects.filter((o) => o.metadata.name.includes('pooler')).length, 0);
    const on = withPooler({ enableConnectionPooler: true, enableReplicaConnectionPooler: true });
    const names = on.objects
      .filter((o) => o.metadata.name.includes('pooler'))
      .map((o) => `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(names.sort(), [
      'Deployment/acid-test-cluster-pooler',
      'Deployment/acid-test-cluster-pooler-repl',
      'Secret/pooler.acid-test-cluster.credentials.postgresql.acid.zalan.do',
      'Service/acid-test-cluster-pooler',
      'Service/acid-test-cluster-pooler-repl',
    ]);
  });

  it('the Deployment: labels, selector, env pointing at the role Service and the pooler Secret', () => {
    const { cluster } = withPooler({ enableReplicaConnectionPooler: true });
    const d = buildPoolerDeployment(cluster, config, 'replica') as Json;
    assert.deepEqual(d.spec.selector.matchLabels, {
      application: 'db-connection-pooler',
      'cluster-name': 'acid-test-cluster',
      'connection-pooler': 'acid-test-cluster-pooler-repl',
    });
    assert.equal(d.metadata.labels['spilo-role'], 'replica');
    assert.equal(d.metadata.labels.team, 'acid');
    const env = envOf(d);
    assert.equal(env.PGHOST, 'acid-test-cluster-repl');
    assert.deepEqual(env.PGUSER, {
      secretKeyRef: { name: 'pooler.acid-test-cluster.credentials.postgresql.acid.zalan.do', key: 'username' },
    });
    assert.equal(env.CONNECTION_POOLER_MAX_CLIENT_CONN, '10000');
    assert.deepEqual(d.spec.template.spec.securityContext, { runAsUser: 100, runAsGroup: 101 });
    assert.equal(envOf(buildPoolerDeployment(cluster, config, 'master') as Json).PGHOST, 'acid-test-cluster');
  });

  it('anti-affinity keeps pooler pods apart by their own labels', () => {
    const overrides = { enable_pod_antiaffinity: 'true', pod_antiaffinity_topology_key: 'zone' };
    const { cluster } = withPooler({ enableConnectionPooler: true }, overrides);
    const d = buildPoolerDeployment(cluster, referenceConfig('v2.0.1', overrides), 'master') as Json;
    const term = d.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
    assert.equal(term.labelSelector.matchLabels['connection-pooler'], 'acid-test-cluster-pooler');
    assert.equal(term.topologyKey, 'zone');
  });

  it('resources: the manifest, else the config defaults; a limit under its request raised', () => {
    const { cluster } = withPooler({
      connectionPooler: { resources: { requests: { cpu: '2' }, limits: { memory: '0' } } },
    });
    assert.deepEqual(poolerResources(cluster, config), {
      requests: { cpu: '2', memory: '100Mi' },
      limits: { cpu: '2', memory: '100Mi' },
    });
    const none = referenceConfig('v2.0.1', {
      connection_pooler_default_cpu_limit: '',
      connection_pooler_default_memory_request: '',
    });
    assert.deepEqual(poolerResources(withPooler({ enableConnectionPooler: true }).cluster, none), {
      requests: { cpu: '500m' },
      limits: { memory: '100Mi' },
    });
  });

  it('Service: ClusterIP by default, a load balancer with source ranges and a DNS name, NodePort wins', () => {
    const { cluster } = withPooler({
      enableConnectionPooler: true,
      enableMasterPoolerLoadBalancer: true,
      allowedSourceRanges: ['10.0.0.0/8'],
    });
    const plain = buildPoolerService(cluster, config, 'replica') as Json;
    assert.equal(plain.spec.type, 'ClusterIP');
    assert.deepEqual(plain.spec.selector, { 'connection-pooler': 'acid-test-cluster-pooler-repl' });
    const lb = buildPoolerService(cluster, config, 'master') as Json;
    assert.equal(lb.spec.type, 'LoadBalancer');
    assert.deepEqual(lb.spec.loadBalancerSourceRanges, ['10.0.0.0/8']);
    assert.equal(
      lb.metadata.annotations['external-dns.alpha.kubernetes.io/hostname'],
      'acid-test-cluster-pooler.default.db.example.com',
    );
    const np = withPooler({
      enableMasterPoolerLoadBalancer: true,
      enableMasterPoolerNodePort: true,
      masterPoolerNodePort: 30432,
    });
    const nodePort = buildPoolerService(np.cluster, config, 'master') as Json;
    assert.equal(nodePort.spec.type, 'NodePort');
    assert.equal(nodePort.spec.ports[0].nodePort, 30432);
  });

  it('the pooler role gets a Secret; a manifest user of that name is skipped as a system user', () => {
    const built = withPooler({ enableConnectionPooler: true, users: { pooler: [] } });
    assert.ok(named(built.objects, 'Secret', 'pooler.acid-test-cluster.credentials.postgresql.acid.zalan.do'));
    assert.ok(
      built.notes.some((n) => /system user "pooler"/.test(n)),
      built.notes.join('\n'),
    );
  });
});
