// The differential test: Zalando's postgres-operator v1.15.1 (the reference peer, scripts/testenv/peer.ts) and this
// operator's syncCluster are given the same operator ConfigMap and the same manifests, each in a namespace of its
// own; every child object they create is listed, normalized and compared field by field. Every difference must be
// a row of the table in docs/differences.md (parsed here, the single source), and every row
// must still occur, so the table stays true.
//
// The plane is apiserver-only: no pods ever run, so Zalando's operator creates a cluster's children and then waits
// in vain for its pods (resource_check_timeout, shortened here), and neither side reaches PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../lib/k8s/client';
import { parseOperatorConfig } from '../../lib/model/config';
import { syncCluster, type SyncResult } from '../../lib/sync/cluster/sync-cluster';
import { peerBuild, startPeer, type PeerProcess } from '../../scripts/testenv/peer';
import {
  allowedDifferences,
  diffObjects,
  matchAllowed,
  normalize,
  type Difference,
  type Json,
} from './differential-compare';
import { telegrafSidecar, tlsWithCa } from '../unit/reference';
import { repoRoot, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl, waitCrdsEstablished } from './testenv';

/** The kinds of children compared, as both operators create them in a cluster's namespace. */
const KINDS = [
  'StatefulSet',
  'Deployment',
  'Service',
  'Endpoints',
  'Secret',
  'PodDisruptionBudget',
  'ServiceAccount',
  'RoleBinding',
  'CronJob',
];
const CRD_NAME = 'postgresqls.acid.zalan.do';

/**
 * Keys that only change how Zalando's operator behaves on this plane, not the objects: more workers and a short
 * wait for pods that never come, so no cluster queues behind another one's wait.
 */
const PLANE_KEYS = { workers: '64', resource_check_interval: '1s', resource_check_timeout: '2s' };

/** The config-driven features this operator supports, switched on (values from Zalando's docs and configmap.yaml). */
const FEATURE_KEYS: Record<string, string> = {
  enable_pod_antiaffinity: 'true',
  pod_antiaffinity_topology_key: 'topology.kubernetes.io/zone',
  enable_readiness_probe: 'true',
  custom_pod_annotations: 'keya:valuea,keyb:valueb',
  custom_service_annotations: 'keyx:valuez,keya:valuea',
  node_readiness_label: 'status:ready',
  enable_owner_references: 'true',
  spilo_runasuser: '101',
  spilo_runasgroup: '103',
  spilo_fsgroup: '103',
  kubernetes_use_configmaps: 'true',
  pod_priority_class_name: 'postgres-pod-priority',
  enable_patroni_failsafe_mode: 'true',
  additional_pod_capabilities: 'SYS_NICE',
  pod_management_policy: 'parallel',
  inherited_labels: 'application,environment',
  inherited_annotations: 'owned-by',
  toleration: 'key:db-only,operator:Exists,effect:NoSchedule',
  enable_master_load_balancer: 'true',
  enable_replica_load_balancer: 'false',
  master_dns_name_format: '{cluster}.{namespace}.{hostedzone}',
  share_pgsocket_with_sidecars: 'true',
  // Zalando's map syntax splits an item on ':', so the image has no tag.
  sidecar_docker_images: 'exporter:registry.example.com/postgres-exporter',
  downscaler_annotations: 'deployment-time,downscaler/*',
  // The deprecated Scalyr sidecar, in every pod (limits below the defaults' requests: both raise them alike).
  scalyr_api_key: 'differential-scalyr-key',
  scalyr_image: 'registry.example.com/scalyr-agent',
  scalyr_cpu_limit: '50m',
  additional_secret_mount: 'wal-credentials',
  additional_secret_mount_path: '/meta/credentials',
};

type Manifest = { apiVersion: string; kind: string; metadata: Json; spec: Json };

/** Zalando's example manifests that apply cleanly, read from the peer's module. */
function exampleManifests(source: string): Manifest[] {
  const files = [
    'minimal-postgres-manifest.yaml',
    'complete-postgres-manifest.yaml',
    'standby-manifest.yaml',
    'minimal-postgres-lowest-version-manifest.yaml',
  ];
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(source, 'manifests', file), 'utf8'))
      .map((doc) => doc.toJS() as Manifest)
      .filter((m) => m?.kind === 'postgresql'),
  );
}

const base = (name: string, spec: Json = {}, metadata: Json = {}): Manifest => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { name, ...metadata },
  spec: { teamId: 'acid', volume: { size: '1Gi' }, numberOfInstances: 1, postgresql: { version: '17' }, ...spec },
});

/** The variants: one feature of the manifest each. */
function variants(): Manifest[] {
  return [
    base('acid-instances', { numberOfInstances: 3 }),
    base('acid-users', {
      users: {
        app_owner: ['createdb', 'login'],
        app_user: [],
        admin_like: ['superuser', 'createrole', 'inherit', 'replication', 'bypassrls'],
        'dash-user': ['nologin'],
      },
      databases: { app: 'app_owner', analytics: 'app_user' },
    }),
    base('acid-lb', {
      enableMasterLoadBalancer: true,
      enableReplicaLoadBalancer: true,
      allowedSourceRanges: ['10.0.0.0/8', '192.168.1.0/24'],
      serviceAnnotations: { 'example.com/lb': 'internal' },
      masterServiceAnnotations: { 'example.com/role': 'master' },
      replicaServiceAnnotations: { 'example.com/role': 'replica' },
    }),
    base('acid-lb-deprecated', { useLoadBalancer: true, replicaLoadBalancer: true }),
    base('acid-scheduling', {
      tolerations: [
        { key: 'postgres', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'postgres-operator', operator: 'In', values: ['enabled'] }] },
          ],
        },
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
        ],
      },
    }),
    base('acid-resources', {
      resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
    }),
    base('acid-resources-partial', { resources: { requests: { cpu: '50m' }, limits: { memory: '300Mi' } } }),
    base('acid-patroni', {
      postgresql: {
        version: '16',
        parameters: {
          shared_buffers: '64MB',
          max_connections: '200',
          log_statement: 'ddl',
          ssl: 'on',
          'pg_stat_statements.track_utility': 'off',
          wal_level: 'logical',
        },
      },
      patroni: {
        initdb: { encoding: 'UTF8', locale: 'C', 'data-checksums': 'true' },
        pg_hba: ['hostssl all all 0.0.0.0/0 md5', 'host all all 0.0.0.0/0 md5'],
        ttl: 40,
        loop_wait: 15,
        retry_timeout: 15,
        maximum_lag_on_failover: 1048576,
        synchronous_mode: true,
        synchronous_mode_strict: true,
        synchronous_node_count: 1,
        slots: {
          permanent_physical_1: { type: 'physical' },
          permanent_logical_1: { type: 'logical', database: 'foo', plugin: 'pgoutput' },
        },
      },
    }),
    base('acid-patroni-failsafe', { patroni: { failsafe_mode: true } }),
    base('acid-scram', { postgresql: { version: '17', parameters: { password_encryption: 'scram-sha-256' } } }),
    base('acid-env-image', {
      dockerImage: 'ghcr.io/zalando/spilo-16:3.3-p1',
      env: [
        { name: 'WAL_S3_BUCKET', value: 'my-custom-bucket' },
        { name: 'CUSTOM_FLAG', value: 'on' },
        { name: 'FROM_FIELD', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      ],
    }),
    base(
      'acid-inherited',
      {},
      {
        labels: { environment: 'demo', unrelated: 'x' },
        annotations: { 'owned-by': 'team-a', other: 'y' },
      },
    ),
    base('acid-clone-s3', {
      clone: {
        uid: 'efd12e58-5786-11e8-b5a7-06148230260c',
        cluster: 'acid-minimal-cluster',
        timestamp: '2017-12-19T12:40:33+01:00',
        s3_wal_path: 's3://custom/path/to/bucket',
      },
    }),
    base('acid-clone-live', { clone: { cluster: 'acid-minimal-cluster' } }),
    base('acid-standby-s3', { standby: { s3_wal_path: 's3://mybucket/spilo/acid-minimal-cluster/abcd/wal/17/' } }),
    base('acid-standby-host', { standby: { standby_host: 'acid-minimal-cluster.default', standby_port: '5433' } }),
    base('acid-pod-settings', {
      podAnnotations: { 'example.com/pod': 'yes' },
      serviceAnnotations: { 'example.com/svc': 'yes' },
      podPriorityClassName: 'spilo-pod-priority',
      spiloRunAsUser: 1001,
      spiloRunAsGroup: 1003,
      spiloFSGroup: 1003,
      enableShmVolume: false,
    }),
    base('acid-volume', { volume: { size: '5Gi', storageClass: 'fast', subPath: 'data' } }),
    base('acid-sidecars', {
      sidecars: [
        { ...telegrafSidecar(), env: [...telegrafSidecar().env, { name: 'POSTGRES_USER', value: 'not-used' }] },
        { image: 'busybox', command: ['sleep', 'infinity'], resources: { requests: { cpu: '2' } } },
        { name: 'exporter', image: 'overrides-the-global-one' },
      ],
      additionalVolumes: [
        {
          name: 'conf',
          mountPath: '/etc/telegraf',
          subPath: 'telegraf.conf',
          targetContainers: ['telegraf-sidecar'],
          volumeSource: { configMap: { name: 'telegraf' } },
        },
        { name: 'shared', mountPath: '/shared', targetContainers: ['all'], volumeSource: { emptyDir: {} } },
      ],
    }),
    base('acid-tls', tlsWithCa()),
    base('acid-tls-paths', {
      tls: {
        secretName: 'pg-tls',
        certificateFile: '/etc/ssl/server.crt',
        privateKeyFile: 'keys/server.key',
        caFile: 'ca.crt',
      },
      env: [{ name: 'SSL_CA_FILE', value: '/manifest/ca.crt' }],
    }),
    base(
      'acid-downscaler',
      {},
      { annotations: { 'downscaler/uptime': 'Mon-Fri 07:00-19:00 UTC', 'deployment-time': '2026-01-01', other: 'y' } },
    ),
    ...POOLER_VARIANTS,
    ...LOGICAL_BACKUP_VARIANTS,
  ];
}

/**
 * The connection pooler, in standby clusters: Zalando v1.15.1 makes the pooler objects only after its lookup function
 * is in the database, which it skips in a standby cluster (read-only); no database answers on this plane. Its Create
 * also stops at the wait for pods, before the pooler: an update event (`nudgeVariants`) makes it sync the pooler.
 */
const POOLER_VARIANTS: Manifest[] = [
  base(
    'acid-pooler',
    {
      standby: { s3_wal_path: 's3://mybucket/spilo/acid-pooler/wal/17/' },
      enableConnectionPooler: true,
      enableReplicaConnectionPooler: true,
      connectionPooler: {
        numberOfInstances: 3,
        mode: 'session',
        maxDBConnections: 100,
        dockerImage: 'registry.example.com/pgbouncer:1.23',
        resources: { requests: { cpu: '300m', memory: '50Mi' }, limits: { cpu: '100m', memory: '200Mi' } },
      },
      podAnnotations: { 'example.com/pod': 'pooled' },
    },
    // downscaler_annotations go on the pooler Deployments too.
    { annotations: { 'downscaler/uptime': 'Mon-Fri 07:00-19:00 UTC' } },
  ),
  base('acid-pooler-lb', {
    standby: { standby_host: 'acid-minimal-cluster.default' },
    enableConnectionPooler: true,
    enableReplicaConnectionPooler: true,
    enableMasterPoolerLoadBalancer: true,
    enableReplicaPoolerLoadBalancer: true,
    allowedSourceRanges: ['10.0.0.0/8'],
    serviceAnnotations: { 'example.com/lb': 'internal' },
    replicaServiceAnnotations: { 'example.com/role': 'replica' },
    tolerations: [{ key: 'postgres', operator: 'Exists', effect: 'NoSchedule' }],
  }),
];

/**
 * The logical backup CronJob: Zalando v1.15.1's Create makes it after the wait for pods, which never ends well on this
 * plane; its Update (the nudge below) syncs it.
 */
const LOGICAL_BACKUP_VARIANTS: Manifest[] = [
  base(
    'acid-logical-backup',
    {
      enableLogicalBackup: true,
      logicalBackupSchedule: '15 2 * * *',
      logicalBackupRetention: '2 weeks',
      podAnnotations: { 'example.com/pod': 'backed-up' },
      tolerations: [{ key: 'postgres', operator: 'Exists', effect: 'NoSchedule' }],
    },
    { labels: { environment: 'demo' }, annotations: { 'owned-by': 'team-b' } },
  ),
];

/** The variants whose objects Zalando's operator makes only in its Update: an annotation change nudges it there. */
const NUDGED_VARIANTS = [...POOLER_VARIANTS, ...LOGICAL_BACKUP_VARIANTS];

/**
 * The replica Endpoints Zalando's Update creates for the pooler variants when they are missing (its syncEndpoint),
 * which on a real cluster the endpoints controller has made long before; this plane runs none, and neither
 * operator's Create makes them. Left out of the comparison: they come from the nudge, not from a choice of either
 * operator.
 */
const NUDGE_ENDPOINTS = new Set(NUDGED_VARIANTS.map((m) => `${m.metadata.name}-repl`));

/** An annotation change on each nudged variant: Zalando's operator then runs its Update, which syncs the pooler and the logical backup. */
async function nudgeVariants(namespace: string): Promise<void> {
  for (const manifest of NUDGED_VARIANTS) {
    const name = manifest.metadata.name as string;
    await kubectlOk(['annotate', '--overwrite', '-n', namespace, 'postgresql', name, 'differential/nudge=1']);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Replaces the CRD with the given object (a PUT carrying the live resourceVersion) and waits until established. */
async function replaceCrd(crd: Json): Promise<void> {
  const live = JSON.parse(await kubectlOk(['get', 'crd', CRD_NAME, '-o', 'json']));
  const object: Json = { ...crd, metadata: { name: CRD_NAME, resourceVersion: live.metadata.resourceVersion } };
  delete object.status;
  await kubectlOk(['replace', '-f', '-'], JSON.stringify(object));
  await waitCrdsEstablished([CRD_NAME]);
}

/** One operator config, the namespaces it runs in and the clusters given to both sides. */
interface ConfigRun {
  label: string;
  data: Record<string, string>;
  zalando: string;
  ours: string;
  peer?: PeerProcess;
  results: Map<string, SyncResult>;
}

/** A difference with the config it was seen under. */
interface Seen extends Difference {
  config: string;
}

describe("differential: this operator vs Zalando's postgres-operator v1.15.1", () => {
  let client: KubeClient;
  let source = '';
  const runs: ConfigRun[] = [];
  const logDir = mkdtempSync(join(tmpdir(), 'differential-'));
  const manifests: Manifest[] = [];

  before(async () => {
    source = peerBuild().source;
    client = testClient();
    manifests.push(...exampleManifests(source), ...variants());
    // Zalando's CRD: v1.15.1 registers its own at start and fails on an apiserver without one.
    const existing = await kubectl(['get', 'crd', CRD_NAME, '-o', 'json']);
    const zalandoCrd = parse(readFileSync(join(source, 'manifests/postgresql.crd.yaml'), 'utf8'));
    if (existing.code === 0) await replaceCrd(zalandoCrd);
    else await kubectlOk(['create', '-f', '-'], JSON.stringify(zalandoCrd));
    await waitCrdsEstablished([CRD_NAME]);

    const shipped = parse(readFileSync(join(source, 'manifests/configmap.yaml'), 'utf8')).data as Record<
      string,
      string
    >;
    for (const [label, extra] of [
      ['shipped', {}],
      ['features', FEATURE_KEYS],
    ] as const) {
      const data = { ...shipped, ...PLANE_KEYS, ...extra, api_port: String(await freePort()) };
      const run: ConfigRun = {
        label,
        data,
        zalando: await createNamespace(`diffz-${label}`),
        ours: await createNamespace(`diffo-${label}`),
        results: new Map(),
      };
      runs.push(run);
      for (const namespace of [run.zalando, run.ours]) {
        const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'postgres-operator' }, data };
        await kubectlOk(['apply', '-n', namespace, '-f', '-'], JSON.stringify(configMap));
      }
    }
    await Promise.all(
      runs.map(async (run) => {
        run.peer = await startPeer({
          kubeconfig: process.env.KUBECONFIG!,
          watchedNamespace: run.zalando,
          configMap: `${run.zalando}/postgres-operator`,
          logFile: join(logDir, `zalando-${run.label}.log`),
        });
      }),
    );
  });

  after(async () => {
    await Promise.all(runs.map((run) => run.peer?.stop()));
    // Leave the plane with this project's CRD, as every other test file expects.
    await replaceCrd(parse(readFileSync(`${repoRoot}manifests/postgresql.crd.yaml`, 'utf8')));
    client?.close();
    for (const run of runs) {
      await deleteNamespace(run.zalando);
      await deleteNamespace(run.ours);
    }
  });

  test('every child differs from Zalando only as docs/differences.md says', { timeout: 240_000 }, async () => {
    const list = { apiVersion: 'v1', kind: 'List', items: manifests };
    for (const run of runs) {
      await kubectlOk(['apply', '-n', run.zalando, '-f', '-'], JSON.stringify(list));
      await kubectlOk(['apply', '-n', run.ours, '-f', '-'], JSON.stringify(list));
    }
    const names = manifests.map((m) => m.metadata.name as string);
    await Promise.all(
      runs.map(async (run) => {
        const parsed = parseOperatorConfig({ ...run.data, watched_namespace: run.ours });
        assert.ok(parsed.ok, `the ${run.label} ConfigMap parses: ${JSON.stringify(!parsed.ok && parsed.errors)}`);
        const ctx = syncContext(client, { ...parsed.config, enable_database_access: false });
        for (const name of names) run.results.set(name, await syncCluster(ctx, run.ours, name));
      }),
    );

    // Zalando's children are all there once its StatefulSets are (it creates them last, then waits for pods).
    const deadline = Date.now() + 120_000;
    for (const run of runs) {
      for (;;) {
        const sets = await client.list('StatefulSet', run.zalando);
        const missing = names.filter((n) => !sets.some((s) => s.metadata?.name === n));
        if (missing.length === 0) break;
        assert.ok(Date.now() < deadline, `Zalando created no StatefulSet for ${missing.join(', ')} (${run.label})`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }

    // Zalando's pooler objects and logical backup CronJobs: its Update of each nudged variant, after its Create gave
    // up waiting for pods.
    for (const run of runs) {
      await nudgeVariants(run.zalando);
      const wanted = [
        ...POOLER_VARIANTS.flatMap((m) =>
          ['Deployment', 'Service'].flatMap((kind) => [
            `${kind}/${m.metadata.name}-pooler`,
            `${kind}/${m.metadata.name}-pooler-repl`,
          ]),
        ),
        ...LOGICAL_BACKUP_VARIANTS.map((m) => `CronJob/logical-backup-${m.metadata.name}`),
      ];
      for (;;) {
        const made = (
          await Promise.all(
            ['Deployment', 'Service', 'CronJob'].map(async (kind) =>
              (await client.list(kind, run.zalando)).map((d) => `${kind}/${d.metadata?.name}`),
            ),
          )
        ).flat();
        const missing = wanted.filter((n) => !made.includes(n));
        if (missing.length === 0) break;
        assert.ok(Date.now() < deadline + 60_000, `Zalando made no ${missing.join(', ')} (${run.label})`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }

    const seen: Seen[] = [];
    let compared = 0;
    const uidsIn = async (namespace: string) =>
      Object.fromEntries(
        (await client.list('postgresql', namespace)).map((p) => [p.metadata!.uid!, p.metadata!.name!] as const),
      );
    for (const run of runs) {
      const zalandoUids = await uidsIn(run.zalando);
      const ourUids = await uidsIn(run.ours);
      for (const kind of KINDS) {
        const zalando = new Map(
          (await client.list(kind, run.zalando))
            .filter((o) => !(kind === 'Endpoints' && NUDGE_ENDPOINTS.has(o.metadata!.name!)))
            .map((o) => [o.metadata!.name!, normalize(o, run.zalando, zalandoUids)] as const),
        );
        const ours = new Map(
          (await client.list(kind, run.ours)).map((o) => [o.metadata!.name!, normalize(o, run.ours, ourUids)] as const),
        );
        // The operator ConfigMap's namespace has nothing else of these kinds; our password key lives elsewhere.
        for (const name of new Set([...zalando.keys(), ...ours.keys()])) {
          compared++;
          for (const d of diffObjects(kind, name, zalando.get(name), ours.get(name)))
            seen.push({ ...d, config: run.label });
        }
      }
    }
    assert.ok(compared > manifests.length * 5 * runs.length, `objects compared: ${compared}`);

    const rows = allowedDifferences(readFileSync(`${repoRoot}docs/differences.md`, 'utf8'));
    const { unlisted, unused } = matchAllowed(
      seen.map((d) => d.key),
      rows.map((r) => r.pattern),
    );
    const byKey = new Map<string, Seen[]>();
    for (const d of seen) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
    const report = [...byKey.entries()]
      .filter(([key]) => unlisted.includes(key))
      .map(([key, ds]) => {
        const d = ds[0]!;
        return `${key}  [${ds.map((x) => x.config).join(',')}]\n    zalando: ${d.zalando}\n    ours:    ${d.ours}`;
      });
    const failedSyncs = runs.flatMap((run) =>
      [...run.results.entries()]
        .filter(([, r]) => r.outcome !== 'synced')
        .map(([name, r]) => `${run.label}/${name}: ${r.outcome} ${r.error ?? ''}`),
    );
    console.log(
      `differential: ${compared} objects compared, ${seen.length} differences (${byKey.size} distinct), ` +
        `${rows.length} table rows, ${unlisted.length} unlisted, ${unused.length} rows unused; ` +
        `Zalando's logs in ${logDir}` +
        (failedSyncs.length
          ? `\n${failedSyncs.length} syncs did not end 'synced' (children compared all the same), e.g. ${failedSyncs[0]}`
          : ''),
    );
    assert.deepEqual(report, [], `differences not in docs/differences.md's table:\n${report.join('\n')}`);
    assert.deepEqual(unused, [], `docs/differences.md rows that no longer occur: ${unused.join(', ')}`);
  });
});
