// Explicit Zalando-compatibility assertions on the built objects (as v1.15.1 builds them in
// https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/k8sres.go), beyond the golden files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredObject } from '../../../lib/builders';
import { buildEdited, referenceConfig, UID, type ReferenceManifest } from '../reference';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const V1_MINIMAL: ReferenceManifest = 'v1.0.0/minimal-postgres-manifest.yaml';
const V2_MINIMAL: ReferenceManifest = 'v2.0.1/minimal-postgres-manifest.yaml';

function find(objects: readonly DesiredObject[], kind: string, name: string): Json {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found as Json;
}
const names = (objects: readonly DesiredObject[], kind: string) =>
  objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
const statefulSet = (objects: readonly DesiredObject[]) => objects.find((o) => o.kind === 'StatefulSet') as Json;
const podSpec = (objects: readonly DesiredObject[]) => statefulSet(objects).spec.template.spec as Json;
const postgres = (objects: readonly DesiredObject[]) => podSpec(objects).containers[0] as Json;
const env = (objects: readonly DesiredObject[]) =>
  postgres(objects).env as Array<{ name: string; value?: string; valueFrom?: Json }>;
const envValue = (objects: readonly DesiredObject[], name: string) => env(objects).find((e) => e.name === name)?.value;
const masterService = (objects: readonly DesiredObject[]) =>
  objects.find((o) => o.kind === 'Service' && !o.metadata.name.endsWith('-repl')) as Json;
const replicaService = (objects: readonly DesiredObject[]) =>
  objects.find((o) => o.kind === 'Service' && o.metadata.name.endsWith('-repl')) as Json;
const decode = (text: string) => Buffer.from(text, 'base64').toString('utf8');

describe('v1.0.0 minimal manifest under the v1.0.0 ConfigMap', () => {
  const { objects, shared } = buildEdited(V1_MINIMAL, referenceConfig('v1.0.0'));

  it('names the objects like Zalando', () => {
    find(objects, 'StatefulSet', 'acid-minimal-cluster');
    find(objects, 'Service', 'acid-minimal-cluster');
    find(objects, 'Service', 'acid-minimal-cluster-repl');
    find(objects, 'Endpoints', 'acid-minimal-cluster');
    find(objects, 'PodDisruptionBudget', 'postgres-acid-minimal-cluster-pdb');
    assert.equal(statefulSet(objects).spec.serviceName, 'acid-minimal-cluster');
  });

  it('labels with cluster_labels, cluster_name_label "version" and team', () => {
    const expected = { application: 'spilo', version: 'acid-minimal-cluster', team: 'ACID' };
    assert.deepEqual(statefulSet(objects).metadata.labels, expected);
    assert.deepEqual(statefulSet(objects).spec.template.metadata.labels, expected);
    assert.deepEqual(statefulSet(objects).spec.selector.matchLabels, {
      application: 'spilo',
      version: 'acid-minimal-cluster',
    });
    for (const object of objects) {
      assert.equal(object.metadata.labels?.application, 'spilo', `${object.kind} ${object.metadata.name}`);
      assert.equal(object.metadata.labels?.version, 'acid-minimal-cluster', `${object.kind} ${object.metadata.name}`);
      assert.equal(object.metadata.labels?.['cluster-name'], undefined);
    }
  });

  it('names Secrets by the template {username}.{cluster}.credentials, _ becoming -', () => {
    assert.deepEqual(names(objects, 'Secret').sort(), [
      'foo-user.acid-minimal-cluster.credentials',
      'postgres.acid-minimal-cluster.credentials',
      'standby.acid-minimal-cluster.credentials',
      'zalando.acid-minimal-cluster.credentials',
    ]);
    const foo = find(objects, 'Secret', 'foo-user.acid-minimal-cluster.credentials');
    assert.equal(foo.type, 'Opaque');
    assert.equal(decode(foo.data.username), 'foo_user');
    assert.equal(decode(foo.data.password), 'foo_user-password');
  });

  it('runs the pods as pod_service_account_name and creates that account', () => {
    assert.equal(podSpec(objects).serviceAccountName, 'zalando-postgres-operator');
    assert.equal(find(shared, 'ServiceAccount', 'zalando-postgres-operator').metadata.namespace, 'default');
    const binding = find(shared, 'RoleBinding', 'zalando-postgres-operator');
    // No namespace in the subject, as Zalando v1.15.1 (RBAC reads it as the RoleBinding's own).
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'zalando-postgres-operator' }]);
  });

  it('makes the master Service a LoadBalancer (enable_master_load_balancer: "true") and leaves the replica ClusterIP', () => {
    assert.equal(masterService(objects).spec.type, 'LoadBalancer');
    assert.equal(replicaService(objects).spec.type, 'ClusterIP');
  });

  it('sets the Spilo env vars in Zalando order', () => {
    const order = [
      'SCOPE',
      'PGROOT',
      'POD_IP',
      'POD_NAMESPACE',
      'PGUSER_SUPERUSER',
      'PGPASSWORD_SUPERUSER',
      'PGUSER_STANDBY',
      'PGPASSWORD_STANDBY',
      'PAM_OAUTH2',
      'SPILO_CONFIGURATION',
      'DCS_ENABLE_KUBERNETES_API',
    ];
    const all = env(objects).map((e) => e.name);
    const positions = order.map((name) => all.indexOf(name));
    for (const [i, name] of order.entries()) assert.ok(positions[i]! >= 0, `${name} missing from ${all.join(',')}`);
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      `order: ${all.join(',')}`,
    );
    assert.equal(new Set(all).size, all.length, 'no duplicate names');
    assert.equal(envValue(objects, 'SCOPE'), 'acid-minimal-cluster');
    assert.equal(envValue(objects, 'PGROOT'), '/home/postgres/pgdata/pgroot');
    assert.equal(envValue(objects, 'PGUSER_SUPERUSER'), 'postgres');
    assert.equal(envValue(objects, 'PGUSER_STANDBY'), 'standby');
    assert.equal(envValue(objects, 'DCS_ENABLE_KUBERNETES_API'), 'true');
    const byName = Object.fromEntries(env(objects).map((e) => [e.name, e]));
    assert.deepEqual(byName.POD_IP?.valueFrom, { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } });
    assert.deepEqual(byName.POD_NAMESPACE?.valueFrom, {
      fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' },
    });
    assert.deepEqual(byName.PGPASSWORD_SUPERUSER?.valueFrom, {
      secretKeyRef: { name: 'postgres.acid-minimal-cluster.credentials', key: 'password' },
    });
    assert.deepEqual(byName.PGPASSWORD_STANDBY?.valueFrom, {
      secretKeyRef: { name: 'standby.acid-minimal-cluster.credentials', key: 'password' },
    });
    assert.equal(envValue(objects, 'KUBERNETES_SCOPE_LABEL'), 'version');
    assert.equal(envValue(objects, 'KUBERNETES_ROLE_LABEL'), 'spilo-role');
  });

  it('uses the image of docker_image and the pgdata claim template', () => {
    assert.equal(postgres(objects).image, 'registry.opensource.zalan.do/acid/spilo-cdp-10:1.4-p8');
    const claim = statefulSet(objects).spec.volumeClaimTemplates[0];
    assert.equal(claim.metadata.name, 'pgdata');
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    assert.equal(claim.spec.resources.requests.storage, '1Gi');
    assert.deepEqual(postgres(objects).volumeMounts[0], { mountPath: '/home/postgres/pgdata', name: 'pgdata' });
  });
});

describe('v1.0.0 minimal manifest under the v2.0.1 ConfigMap', () => {
  const { objects, shared } = buildEdited(V1_MINIMAL, referenceConfig('v2.0.1'));

  it('names Secrets by the v2.0.1 template', () => {
    assert.deepEqual(
      names(objects, 'Secret').sort(),
      ['foo-user', 'postgres', 'standby', 'zalando'].map(
        (u) => `${u}.acid-minimal-cluster.credentials.postgresql.acid.zalan.do`,
      ),
    );
  });

  it('labels with cluster-name', () => {
    assert.deepEqual(statefulSet(objects).metadata.labels, {
      application: 'spilo',
      'cluster-name': 'acid-minimal-cluster',
      team: 'ACID',
    });
    assert.equal(envValue(objects, 'KUBERNETES_SCOPE_LABEL'), 'cluster-name');
  });

  it('runs the pods as postgres-pod', () => {
    assert.equal(podSpec(objects).serviceAccountName, 'postgres-pod');
    find(shared, 'ServiceAccount', 'postgres-pod');
  });

  it('makes ClusterIP Services; the replica selects replicas, the master has no selector', () => {
    assert.equal(masterService(objects).spec.type, 'ClusterIP');
    assert.equal(replicaService(objects).spec.type, 'ClusterIP');
    assert.deepEqual(replicaService(objects).spec.selector, {
      application: 'spilo',
      'cluster-name': 'acid-minimal-cluster',
      'spilo-role': 'replica',
    });
    assert.equal(masterService(objects).spec.selector, undefined);
    assert.equal(masterService(objects).metadata.annotations, undefined);
    assert.deepEqual(masterService(objects).spec.ports, [
      { name: 'postgresql', port: 5432, protocol: 'TCP', targetPort: 5432 },
    ]);
    const endpoints = find(objects, 'Endpoints', 'acid-minimal-cluster');
    assert.equal(endpoints.subsets, undefined);
    assert.equal(endpoints.metadata.labels['spilo-role'], 'master');
  });

  it('has the master and critical-operation PDBs', () => {
    const pdb = find(objects, 'PodDisruptionBudget', 'postgres-acid-minimal-cluster-pdb');
    assert.deepEqual(pdb.spec, {
      minAvailable: 1,
      selector: {
        matchLabels: { application: 'spilo', 'cluster-name': 'acid-minimal-cluster', 'spilo-role': 'master' },
      },
    });
    const critical = find(objects, 'PodDisruptionBudget', 'postgres-acid-minimal-cluster-critical-op-pdb');
    assert.deepEqual(critical.spec, {
      maxUnavailable: 0,
      selector: {
        matchLabels: { application: 'spilo', 'cluster-name': 'acid-minimal-cluster', 'critical-operation': 'true' },
      },
    });
  });
});

describe('v2.0.1 minimal manifest under the v2.0.1 ConfigMap', () => {
  const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'));

  it('writes SPILO_CONFIGURATION exactly', () => {
    assert.equal(
      envValue(objects, 'SPILO_CONFIGURATION'),
      '{"postgresql":{},"bootstrap":{"initdb":[{"auth-host":"md5"},{"auth-local":"trust"}],"dcs":{"failsafe_mode":false}}}',
    );
  });

  it('passes the version as PGVERSION', () => {
    assert.equal(envValue(objects, 'PGVERSION'), '18');
  });

  it('takes the default resources; min_cpu_limit 250m and min_memory_limit 250Mi do not lower them', () => {
    assert.deepEqual(postgres(objects).resources, {
      requests: { cpu: '100m', memory: '100Mi' },
      limits: { cpu: '1', memory: '500Mi' },
    });
  });

  it('uses the shipped image, OnDelete updates, 2 replicas and a 300 s grace period', () => {
    const sts = statefulSet(objects);
    assert.equal(postgres(objects).image, 'ghcr.io/zalando/spilo-18:4.1-p2');
    assert.deepEqual(sts.spec.updateStrategy, { type: 'OnDelete' });
    assert.equal(sts.spec.replicas, 2);
    assert.equal(sts.spec.template.spec.terminationGracePeriodSeconds, 300);
    assert.deepEqual(sts.spec.template.spec.volumes, [{ emptyDir: { medium: 'Memory' }, name: 'dshm' }]);
  });
});

describe('number of instances', () => {
  it('is clamped by max_instances with a note', () => {
    const { objects, notes } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1', { max_instances: '1' }));
    assert.equal(statefulSet(objects).spec.replicas, 1);
    assert.deepEqual(notes, ['adjusted number of instances from 2 to 1 (min: -1, max: 1)']);
  });

  it('is raised to min_instances with a note', () => {
    const { objects, notes } = buildEdited(
      V2_MINIMAL,
      referenceConfig('v2.0.1', { min_instances: '3', max_instances: '5' }),
    );
    assert.equal(statefulSet(objects).spec.replicas, 3);
    assert.deepEqual(notes, ['adjusted number of instances from 2 to 3 (min: 3, max: 5)']);
  });

  it('is left alone within the limits', () => {
    const { objects, notes } = buildEdited(
      V2_MINIMAL,
      referenceConfig('v2.0.1', { min_instances: '1', max_instances: '3' }),
    );
    assert.equal(statefulSet(objects).spec.replicas, 2);
    assert.deepEqual(notes, []);
  });

  it('is not clamped when the ignore annotation is "true"', () => {
    const config = referenceConfig('v2.0.1', {
      max_instances: '1',
      ignore_instance_limits_annotation_key: 'ignore-limits',
    });
    const ignored = buildEdited(V2_MINIMAL, config, (raw) => {
      raw.metadata.annotations = { 'ignore-limits': 'true' };
    });
    assert.equal(statefulSet(ignored.objects).spec.replicas, 2);
    assert.deepEqual(ignored.notes, []);
    const notIgnored = buildEdited(V2_MINIMAL, config, (raw) => {
      raw.metadata.annotations = { 'ignore-limits': 'false' };
    });
    assert.equal(statefulSet(notIgnored.objects).spec.replicas, 1);
  });

  it('is 1 for a standby cluster', () => {
    const { objects, notes } = buildEdited('v2.0.1/standby-manifest.yaml', referenceConfig('v2.0.1'), (raw) => {
      raw.spec.numberOfInstances = 3;
    });
    assert.equal(statefulSet(objects).spec.replicas, 1);
    assert.equal(notes.length, 1);
  });

  it('0 instances makes the PDBs non-blocking', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'), (raw) => {
      raw.spec.numberOfInstances = 0;
    });
    assert.equal(statefulSet(objects).spec.replicas, 0);
    assert.equal(find(objects, 'PodDisruptionBudget', 'postgres-acid-minimal-cluster-pdb').spec.minAvailable, 0);
    assert.equal(
      find(objects, 'PodDisruptionBudget', 'postgres-acid-minimal-cluster-critical-op-pdb').spec.maxUnavailable,
      '100%',
    );
  });

  it('enable_pod_disruption_budget "false" makes the PDBs non-blocking', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1', { enable_pod_disruption_budget: 'false' }));
    assert.equal(find(objects, 'PodDisruptionBudget', 'postgres-acid-minimal-cluster-pdb').spec.minAvailable, 0);
    assert.equal(envValue(objects, 'KUBERNETES_BOOTSTRAP_LABELS'), undefined);
  });
});

describe('load balancers', () => {
  const types = (objects: readonly DesiredObject[]) => [
    masterService(objects).spec.type,
    replicaService(objects).spec.type,
  ];
  const lbConfig = (master: boolean, replica: boolean) =>
    referenceConfig('v2.0.1', {
      enable_master_load_balancer: String(master),
      enable_replica_load_balancer: String(replica),
    });

  it('follow the config when the manifest says nothing', () => {
    assert.deepEqual(types(buildEdited(V2_MINIMAL, lbConfig(true, true)).objects), ['LoadBalancer', 'LoadBalancer']);
    assert.deepEqual(types(buildEdited(V2_MINIMAL, lbConfig(false, false)).objects), ['ClusterIP', 'ClusterIP']);
  });

  it('the manifest enable* fields win over the config', () => {
    const { objects } = buildEdited(V2_MINIMAL, lbConfig(true, false), (raw) => {
      raw.spec.enableMasterLoadBalancer = false;
      raw.spec.enableReplicaLoadBalancer = true;
    });
    assert.deepEqual(types(objects), ['ClusterIP', 'LoadBalancer']);
  });

  it('the deprecated useLoadBalancer / replicaLoadBalancer win over the config', () => {
    const { objects } = buildEdited(V1_MINIMAL, lbConfig(false, false), (raw) => {
      raw.spec.useLoadBalancer = true;
      raw.spec.replicaLoadBalancer = true;
    });
    assert.deepEqual(types(objects), ['LoadBalancer', 'LoadBalancer']);
  });

  it('the deprecated fields are ignored once either enable* field is set', () => {
    const { objects } = buildEdited(V1_MINIMAL, lbConfig(false, false), (raw) => {
      raw.spec.enableReplicaLoadBalancer = false;
      raw.spec.useLoadBalancer = true;
      raw.spec.replicaLoadBalancer = true;
    });
    assert.deepEqual(types(objects), ['ClusterIP', 'ClusterIP']);
    const both = buildEdited(V1_MINIMAL, lbConfig(false, false), (raw) => {
      raw.spec.enableMasterLoadBalancer = false;
      raw.spec.useLoadBalancer = true;
    });
    assert.deepEqual(types(both.objects), ['ClusterIP', 'ClusterIP']);
  });

  it('allowedSourceRanges default to 127.0.0.1/32 and are copied when given', () => {
    const empty = buildEdited(V2_MINIMAL, lbConfig(true, true));
    assert.deepEqual(masterService(empty.objects).spec.loadBalancerSourceRanges, ['127.0.0.1/32']);
    assert.deepEqual(replicaService(empty.objects).spec.loadBalancerSourceRanges, ['127.0.0.1/32']);
    const nulled = buildEdited(V2_MINIMAL, lbConfig(true, true), (raw) => {
      raw.spec.allowedSourceRanges = null;
    });
    assert.deepEqual(masterService(nulled.objects).spec.loadBalancerSourceRanges, ['127.0.0.1/32']);
    const given = buildEdited(V2_MINIMAL, lbConfig(true, true), (raw) => {
      raw.spec.allowedSourceRanges = ['10.0.0.0/8', '192.168.1.0/24'];
    });
    assert.deepEqual(masterService(given.objects).spec.loadBalancerSourceRanges, ['10.0.0.0/8', '192.168.1.0/24']);
    assert.deepEqual(replicaService(given.objects).spec.loadBalancerSourceRanges, ['10.0.0.0/8', '192.168.1.0/24']);
    assert.equal(masterService(given.objects).spec.externalTrafficPolicy, 'Cluster');
  });

  it('ClusterIP Services get no source ranges and no DNS annotation', () => {
    const { objects } = buildEdited(V2_MINIMAL, lbConfig(false, false), (raw) => {
      raw.spec.allowedSourceRanges = ['10.0.0.0/8'];
    });
    assert.equal(masterService(objects).spec.loadBalancerSourceRanges, undefined);
    assert.equal(masterService(objects).metadata.annotations, undefined);
  });

  it('carry the external-dns host name: the configured format plus the legacy team name', () => {
    const { objects } = buildEdited(V2_MINIMAL, lbConfig(true, true));
    assert.equal(
      masterService(objects).metadata.annotations['external-dns.alpha.kubernetes.io/hostname'],
      'acid-minimal-cluster.default.db.example.com,minimal-cluster.acid.db.example.com',
    );
    assert.equal(
      replicaService(objects).metadata.annotations['external-dns.alpha.kubernetes.io/hostname'],
      'acid-minimal-cluster-repl.default.db.example.com,minimal-cluster-repl.acid.db.example.com',
    );
  });

  it('DNS name without the legacy name when the cluster name lacks the team prefix, lower-cased', () => {
    const { objects } = buildEdited(V2_MINIMAL, lbConfig(true, false), (raw) => {
      raw.metadata.name = 'payments-db';
      raw.spec.teamId = 'ACID';
    });
    assert.equal(
      masterService(objects).metadata.annotations['external-dns.alpha.kubernetes.io/hostname'],
      'payments-db.default.db.example.com',
    );
  });

  it('the DNS annotation cannot be overridden; service annotations merge with role-specific ones winning', () => {
    const config = referenceConfig('v2.0.1', {
      enable_master_load_balancer: 'true',
      custom_service_annotations: 'a:custom,b:custom',
    });
    const { objects } = buildEdited(V2_MINIMAL, config, (raw) => {
      raw.spec.serviceAnnotations = {
        b: 'service',
        c: 'service',
        'external-dns.alpha.kubernetes.io/hostname': 'evil.example.com',
      };
      raw.spec.masterServiceAnnotations = { c: 'master' };
    });
    const annotations = masterService(objects).metadata.annotations;
    assert.equal(annotations.a, 'custom');
    assert.equal(annotations.b, 'service');
    assert.equal(annotations.c, 'master');
    assert.equal(
      annotations['external-dns.alpha.kubernetes.io/hostname'],
      'acid-minimal-cluster.default.db.example.com,minimal-cluster.acid.db.example.com',
    );
    assert.equal(replicaService(objects).metadata.annotations.c, 'service');
  });

  it('NodePort wins over a load balancer', () => {
    const { objects } = buildEdited(V2_MINIMAL, lbConfig(true, true), (raw) => {
      raw.spec.enableMasterNodePort = true;
      raw.spec.masterNodePort = 30432;
    });
    assert.equal(masterService(objects).spec.type, 'NodePort');
    assert.equal(masterService(objects).spec.ports[0].nodePort, 30432);
    assert.equal(masterService(objects).spec.loadBalancerSourceRanges, undefined);
  });

  it('kubernetes_use_configmaps gives the master Service a selector and no Endpoints', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1', { kubernetes_use_configmaps: 'true' }));
    assert.deepEqual(masterService(objects).spec.selector, {
      application: 'spilo',
      'cluster-name': 'acid-minimal-cluster',
      'spilo-role': 'master',
    });
    assert.deepEqual(names(objects, 'Endpoints'), []);
    assert.equal(envValue(objects, 'KUBERNETES_USE_CONFIGMAPS'), 'true');
  });
});

describe('pod scheduling and environment', () => {
  it('tolerations come from the config toleration unless the manifest has its own', () => {
    const config = referenceConfig('v2.0.1', { toleration: 'key:db-only,operator:Exists,effect:NoSchedule' });
    const fromConfig = buildEdited(V2_MINIMAL, config);
    assert.deepEqual(podSpec(fromConfig.objects).tolerations, [
      { effect: 'NoSchedule', key: 'db-only', operator: 'Exists' },
    ]);
    const manifest = [{ key: 'postgres', operator: 'Exists', effect: 'NoSchedule' }];
    const fromManifest = buildEdited(V2_MINIMAL, config, (raw) => {
      raw.spec.tolerations = manifest;
    });
    assert.deepEqual(podSpec(fromManifest.objects).tolerations, [
      { effect: 'NoSchedule', key: 'postgres', operator: 'Exists' },
    ]);
    assert.equal(podSpec(buildEdited(V2_MINIMAL, referenceConfig('v2.0.1')).objects).tolerations, undefined);
  });

  const manifestAffinity = {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: 'postgres-operator', operator: 'In', values: ['enabled'] }] }],
    },
  };
  const readiness = [{ key: 'status', operator: 'In', values: ['ready'] }];

  it('node_readiness_label makes a required node affinity', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1', { node_readiness_label: 'status:ready' }));
    assert.deepEqual(podSpec(objects).affinity, {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: readiness }] },
      },
    });
  });

  it('node_readiness_label_merge OR adds a term to the manifest nodeAffinity', () => {
    const config = referenceConfig('v2.0.1', {
      node_readiness_label: 'status:ready',
      node_readiness_label_merge: 'OR',
    });
    const { objects } = buildEdited(V2_MINIMAL, config, (raw) => {
      raw.spec.nodeAffinity = manifestAffinity;
    });
    assert.deepEqual(
      podSpec(objects).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [
        { matchExpressions: [{ key: 'postgres-operator', operator: 'In', values: ['enabled'] }] },
        { matchExpressions: readiness },
      ],
    );
  });

  it('node_readiness_label_merge AND appends the expressions to every manifest term', () => {
    const config = referenceConfig('v2.0.1', {
      node_readiness_label: 'status:ready',
      node_readiness_label_merge: 'AND',
    });
    const { objects } = buildEdited(V2_MINIMAL, config, (raw) => {
      raw.spec.nodeAffinity = manifestAffinity;
    });
    assert.deepEqual(
      podSpec(objects).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [{ matchExpressions: [{ key: 'postgres-operator', operator: 'In', values: ['enabled'] }, ...readiness] }],
    );
  });

  it('the manifest nodeAffinity alone passes through', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'), (raw) => {
      raw.spec.nodeAffinity = manifestAffinity;
    });
    assert.deepEqual(podSpec(objects).affinity, { nodeAffinity: manifestAffinity });
  });

  it('pod_environment_configmap and pod_environment_secret become envFrom of the Spilo container', () => {
    const config = referenceConfig('v2.0.1', {
      pod_environment_configmap: 'my-custom-config',
      pod_environment_secret: 'my-custom-secret',
    });
    const { objects } = buildEdited(V2_MINIMAL, config);
    assert.deepEqual(postgres(objects).envFrom, [
      { configMapRef: { name: 'my-custom-config' } },
      { secretRef: { name: 'my-custom-secret' } },
    ]);
    const namespaced = buildEdited(
      V2_MINIMAL,
      referenceConfig('v2.0.1', { pod_environment_configmap: 'default/my-custom-config' }),
    );
    assert.deepEqual(postgres(namespaced.objects).envFrom, [{ configMapRef: { name: 'my-custom-config' } }]);
    assert.equal(postgres(buildEdited(V2_MINIMAL, referenceConfig('v2.0.1')).objects).envFrom, undefined);
  });

  it('manifest env cannot override operator variables (first name wins, case-insensitive)', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'), (raw) => {
      raw.spec.env = [
        { name: 'scope', value: 'hijack' },
        { name: 'MY_VAR', value: 'x' },
      ];
    });
    assert.equal(envValue(objects, 'SCOPE'), 'acid-minimal-cluster');
    assert.equal(env(objects).filter((e) => e.name.toUpperCase() === 'SCOPE').length, 1);
    assert.equal(envValue(objects, 'MY_VAR'), 'x');
  });

  it('terminationGracePeriodSeconds comes from pod_terminate_grace_period', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1', { pod_terminate_grace_period: '2m' }));
    assert.equal(podSpec(objects).terminationGracePeriodSeconds, 120);
  });

  it('the StatefulSet updates OnDelete whatever the config', () => {
    for (const version of ['v1.0.0', 'v2.0.1'] as const) {
      const { objects } = buildEdited(V1_MINIMAL, referenceConfig(version));
      assert.deepEqual(statefulSet(objects).spec.updateStrategy, { type: 'OnDelete' });
    }
    const parallel = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1', { pod_management_policy: 'parallel' }));
    assert.equal(statefulSet(parallel.objects).spec.podManagementPolicy, 'Parallel');
  });
});

describe('owner references', () => {
  it('with enable_owner_references, every owned object is controlled by the postgresql object; shared objects have none', () => {
    const { objects, shared } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1', { enable_owner_references: 'true' }));
    for (const object of objects) {
      assert.deepEqual(
        object.metadata.ownerReferences,
        [
          {
            apiVersion: 'acid.zalan.do/v1',
            controller: true,
            kind: 'postgresql',
            name: 'acid-minimal-cluster',
            uid: UID,
          },
        ],
        `${object.kind} ${object.metadata.name}`,
      );
      assert.equal(object.metadata.namespace, 'default');
    }
    for (const object of shared) assert.equal(object.metadata.ownerReferences, undefined);
  });

  it('none without a uid', () => {
    const config = referenceConfig('v2.0.1', { enable_owner_references: 'true' });
    const { objects } = buildEdited(V2_MINIMAL, config, (raw) => {
      delete raw.metadata.uid;
    });
    for (const object of objects) assert.equal(object.metadata.ownerReferences, undefined);
  });

  it("without it (Zalando's default), a child carries only the postgresql object's own owner references", () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'));
    for (const object of objects) assert.equal(object.metadata.ownerReferences, undefined, object.metadata.name);
    const app = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', name: 'db', uid: 'app-uid' };
    const owned = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'), (raw) => {
      raw.metadata.ownerReferences = [app];
    });
    for (const object of owned.objects) assert.deepEqual(object.metadata.ownerReferences, [app], object.metadata.name);
    const both = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1', { enable_owner_references: 'true' }), (raw) => {
      raw.metadata.ownerReferences = [app];
    });
    assert.deepEqual(
      both.objects.find((o) => o.kind === 'StatefulSet')!.metadata.ownerReferences!.map((r) => r.uid),
      ['app-uid', UID],
    );
  });
});

describe('resources of the Postgres container', () => {
  const resourcesOf = (
    config: ReturnType<typeof referenceConfig>,
    resources: Json,
    annotations?: Record<string, string>,
  ) =>
    postgres(
      buildEdited(V2_MINIMAL, config, (raw) => {
        raw.spec.resources = resources;
        if (annotations) raw.metadata.annotations = annotations;
      }).objects,
    ).resources as Json;

  it('missing values and "0" take the config defaults', () => {
    assert.deepEqual(resourcesOf(referenceConfig('v2.0.1'), { requests: { cpu: '0' }, limits: { memory: '1Gi' } }), {
      requests: { cpu: '100m', memory: '100Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
  });

  it('limits are raised to min_cpu_limit / min_memory_limit', () => {
    assert.deepEqual(
      resourcesOf(referenceConfig('v2.0.1'), {
        requests: { cpu: '10m', memory: '10Mi' },
        limits: { cpu: '100m', memory: '100Mi' },
      }),
      { requests: { cpu: '10m', memory: '10Mi' }, limits: { cpu: '250m', memory: '250Mi' } },
    );
  });

  it('the ignore annotation turns the minimums off', () => {
    const config = referenceConfig('v2.0.1', { ignore_resources_limits_annotation_key: 'no-limits' });
    assert.deepEqual(
      resourcesOf(
        config,
        { requests: { cpu: '10m', memory: '10Mi' }, limits: { cpu: '100m', memory: '100Mi' } },
        { 'no-limits': 'true' },
      ),
      { requests: { cpu: '10m', memory: '10Mi' }, limits: { cpu: '100m', memory: '100Mi' } },
    );
  });

  it('a limit below its request is raised to the request', () => {
    assert.deepEqual(
      resourcesOf(referenceConfig('v2.0.1'), {
        requests: { cpu: '2', memory: '1Gi' },
        limits: { cpu: '1', memory: '500Mi' },
      }),
      { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } },
    );
  });

  it('set_memory_request_to_limit raises the memory request to the limit', () => {
    const config = referenceConfig('v2.0.1', { set_memory_request_to_limit: 'true' });
    assert.deepEqual(
      resourcesOf(config, { requests: { cpu: '100m', memory: '100Mi' }, limits: { cpu: '1', memory: '500Mi' } }),
      { requests: { cpu: '100m', memory: '500Mi' }, limits: { cpu: '1', memory: '500Mi' } },
    );
  });

  it('requests are capped at max_cpu_request / max_memory_request', () => {
    const config = referenceConfig('v2.0.1', { max_cpu_request: '500m', max_memory_request: '1Gi' });
    assert.deepEqual(
      resourcesOf(config, { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '4', memory: '8Gi' } }),
      { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '4', memory: '8Gi' } },
    );
  });

  it('the v1.0.0 complete manifest keeps its values', () => {
    const { objects } = buildEdited('v1.0.0/complete-postgres-manifest.yaml', referenceConfig('v1.0.0'));
    assert.deepEqual(postgres(objects).resources, {
      requests: { cpu: '10m', memory: '100Mi' },
      limits: { cpu: '300m', memory: '3000Mi' },
    });
  });
});

describe('SPILO_CONFIGURATION', () => {
  it('v2.0.1 complete manifest: local vs DCS parameters, initdb order, bare flags, Patroni DCS keys', () => {
    const { objects } = buildEdited('v2.0.1/complete-postgres-manifest.yaml', referenceConfig('v2.0.1'));
    assert.equal(
      envValue(objects, 'SPILO_CONFIGURATION'),
      JSON.stringify({
        postgresql: { parameters: { shared_buffers: '32MB' } },
        bootstrap: {
          initdb: [
            { 'auth-host': 'md5' },
            { 'auth-local': 'trust' },
            'data-checksums',
            { encoding: 'UTF8' },
            { locale: 'en_US.UTF-8' },
          ],
          dcs: {
            ttl: 30,
            loop_wait: 10,
            retry_timeout: 10,
            maximum_lag_on_failover: 33554432,
            synchronous_node_count: 1,
            postgresql: { parameters: { log_statement: 'all', max_connections: '10' } },
            failsafe_mode: false,
          },
        },
      }),
    );
  });

  it('v1.0.0 complete manifest: pg_hba in the local section', () => {
    const { objects } = buildEdited('v1.0.0/complete-postgres-manifest.yaml', referenceConfig('v1.0.0'));
    assert.equal(
      envValue(objects, 'SPILO_CONFIGURATION'),
      JSON.stringify({
        postgresql: {
          parameters: { shared_buffers: '32MB' },
          pg_hba: ['hostssl all all 0.0.0.0/0 md5', 'host    all all 0.0.0.0/0 md5'],
        },
        bootstrap: {
          initdb: [
            { 'auth-host': 'md5' },
            { 'auth-local': 'trust' },
            'data-checksums',
            { encoding: 'UTF8' },
            { locale: 'en_US.UTF-8' },
          ],
          dcs: {
            ttl: 30,
            loop_wait: 10,
            retry_timeout: 10,
            maximum_lag_on_failover: 33554432,
            postgresql: { parameters: { log_statement: 'all', max_connections: '10' } },
            failsafe_mode: false,
          },
        },
      }),
    );
  });

  it('enable_pgversion_env_var "false" writes bin_dir instead of PGVERSION', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1', { enable_pgversion_env_var: 'false' }));
    assert.equal(
      envValue(objects, 'SPILO_CONFIGURATION'),
      '{"postgresql":{"bin_dir":"/usr/lib/postgresql/18/bin"},"bootstrap":{"initdb":[{"auth-host":"md5"},{"auth-local":"trust"}],"dcs":{"failsafe_mode":false}}}',
    );
    assert.equal(envValue(objects, 'PGVERSION'), undefined);
  });

  it('an initdb option named like an existing entry replaces it in place', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'), (raw) => {
      raw.spec.patroni = { initdb: { 'auth-host': 'md5', 'no-locale': 'true', 'wal-segsize': '64' } };
    });
    const parsed = JSON.parse(envValue(objects, 'SPILO_CONFIGURATION')!) as Json;
    assert.deepEqual(parsed.bootstrap.initdb, [
      { 'auth-host': 'md5' },
      { 'auth-local': 'trust' },
      'no-locale',
      { 'wal-segsize': '64' },
    ]);
  });

  it('auth-host is md5 whatever password_encryption says, as in Zalando v1.15.1', () => {
    const { objects } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'), (raw) => {
      raw.spec.postgresql = { version: '18', parameters: { password_encryption: 'scram-sha-256' } };
    });
    const parsed = JSON.parse(envValue(objects, 'SPILO_CONFIGURATION')!) as Json;
    assert.deepEqual(parsed.bootstrap.initdb[0], { 'auth-host': 'md5' });
    assert.deepEqual(parsed.bootstrap.dcs.postgresql, { parameters: { password_encryption: 'scram-sha-256' } });
  });

  it('slots, synchronous mode and the config failsafe default land in bootstrap.dcs', () => {
    const { objects } = buildEdited(
      V2_MINIMAL,
      referenceConfig('v2.0.1', { enable_patroni_failsafe_mode: 'true' }),
      (raw) => {
        raw.spec.patroni = {
          synchronous_mode: true,
          synchronous_mode_strict: true,
          slots: { z_slot: { type: 'physical' }, a_slot: { type: 'logical', database: 'foo', plugin: 'pgoutput' } },
        };
      },
    );
    const parsed = JSON.parse(envValue(objects, 'SPILO_CONFIGURATION')!) as Json;
    assert.deepEqual(Object.keys(parsed.bootstrap.dcs), [
      'synchronous_mode',
      'synchronous_mode_strict',
      'slots',
      'failsafe_mode',
    ]);
    assert.deepEqual(Object.keys(parsed.bootstrap.dcs.slots), ['a_slot', 'z_slot']);
    assert.equal(parsed.bootstrap.dcs.failsafe_mode, true);
  });
});

describe('users and Secrets', () => {
  it('protected and system user names are skipped with a note', () => {
    const { objects, notes } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'), (raw) => {
      raw.spec.users = { admin: [], postgres: ['superuser'], standby: [], app: [] };
    });
    assert.deepEqual(notes, [
      'cannot initialize a new manifest robot role with the name of the protected user "admin"',
      'cannot initialize a new manifest robot role with the name of the system user "postgres"',
      'cannot initialize a new manifest robot role with the name of the system user "standby"',
    ]);
    assert.deepEqual(
      names(objects, 'Secret'),
      ['postgres', 'standby', 'app'].map((u) => `${u}.acid-minimal-cluster.credentials.postgresql.acid.zalan.do`),
    );
    const postgresSecret = find(
      objects,
      'Secret',
      'postgres.acid-minimal-cluster.credentials.postgresql.acid.zalan.do',
    );
    assert.equal(decode(postgresSecret.data.password), 'postgres-password');
  });

  it('NOLOGIN users get a Secret too, as in Zalando v1.15.1', () => {
    const { objects, notes } = buildEdited(V2_MINIMAL, referenceConfig('v2.0.1'), (raw) => {
      raw.spec.users = { reader: ['nologin'], writer: ['NOLOGIN', 'createdb'], app: ['login'] };
    });
    assert.deepEqual(notes, []);
    assert.deepEqual(
      names(objects, 'Secret'),
      ['postgres', 'standby', 'app', 'reader', 'writer'].map(
        (u) => `${u}.acid-minimal-cluster.credentials.postgresql.acid.zalan.do`,
      ),
    );
  });

  it('a custom super_username / replication_username name the system Secrets and env', () => {
    const { objects } = buildEdited(
      V2_MINIMAL,
      referenceConfig('v2.0.1', { super_username: 'root', replication_username: 'repl' }),
    );
    assert.ok(names(objects, 'Secret').includes('root.acid-minimal-cluster.credentials.postgresql.acid.zalan.do'));
    assert.ok(names(objects, 'Secret').includes('repl.acid-minimal-cluster.credentials.postgresql.acid.zalan.do'));
    assert.equal(envValue(objects, 'PGUSER_SUPERUSER'), 'root');
    assert.equal(envValue(objects, 'PGUSER_STANDBY'), 'repl');
  });
});

describe('pod service account', () => {
  it('pod_service_account_definition is used when set', () => {
    const definition = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'postgres-pod', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' } },
    });
    const { shared } = buildEdited(
      V2_MINIMAL,
      referenceConfig('v2.0.1', { pod_service_account_definition: definition }),
    );
    const account = find(shared, 'ServiceAccount', 'postgres-pod');
    assert.deepEqual(account.metadata, {
      annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' },
      name: 'postgres-pod',
      namespace: 'default',
    });
  });

  it('pod_service_account_role_binding_definition is used when set', () => {
    const definition = JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'custom-binding' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'custom-role' },
      subjects: [{ kind: 'ServiceAccount', name: 'postgres-pod' }],
    });
    const { shared } = buildEdited(
      V2_MINIMAL,
      referenceConfig('v2.0.1', { pod_service_account_role_binding_definition: definition }),
    );
    const binding = find(shared, 'RoleBinding', 'custom-binding');
    assert.equal(binding.metadata.namespace, 'default');
    assert.equal(binding.roleRef.name, 'custom-role');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'postgres-pod' }]);
  });
});
