// testenv: full
// Taking over from Zalando's operator v1.15.1 and handing back, on the full plane with real Patroni + PostgreSQL
// behind the pods (scripts/testenv/patroni-pods.ts). Zalando's operator (the reference peer, scripts/testenv/peer.ts)
// creates three clusters with its shipped ConfigMap; it stops, and this operator (function hosts and bridge as
// processes, the same ConfigMap) takes them over: no pod is recreated or flagged, the pod template and the passwords
// stay, the roles still log in. A change made by this operator (an instance more, a user more) works; then, with this
// operator's finalizer left on the clusters, Zalando's operator takes them back, again without restarting a pod.
// What changed at each handover (children's field paths, password verifier kinds, Zalando's reasons) is printed as
// TAP comments; TAKEOVER_KEEP=1 keeps every log (Zalando's, the functions', Patroni's) and says where.
//
// Zalando's operator reaches PostgreSQL at `<cluster>.<namespace>.svc.<cluster_domain>` with `sslmode=require`, and
// so does this operator by default. On this plane there is no DNS and no kube-proxy: netns.sh gives the full phase a
// private /etc/hosts, which PatroniPods (`hostsFile`) keeps pointing at each Endpoints' address (the master's, which
// Patroni writes), and the harness's PostgreSQL runs with TLS (a self-signed certificate). Both operators thus really
// connect, create the roles and databases and read them back.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parse } from 'yaml';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { FINALIZER } from '../../lib/sync/cluster/finalizer';
import { findPatroniTools, removeIfInterrupted } from '../../scripts/testenv/patroni-process';
import { login } from '../../scripts/testenv/pg-login';
import { PatroniPods, patroniPodsSkipReason } from '../../scripts/testenv/patroni-pods';
import { peerBuild, startPeer, type PeerProcess } from '../../scripts/testenv/peer';
import type { LocalDeployment } from '../../scripts/deploy/local';
import { eventually, startOperator } from './local-operator';
import { applyManifest, repoRoot, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl, waitCrdsEstablished } from './testenv';

const CRD_NAME = 'postgresqls.acid.zalan.do';
const ROLLING_UPDATE_FLAG = 'zalando-postgres-operator-rolling-update-required';
const TEMPLATE_HASH = 'acid.zalan.do/pod-template-hash';

/** The three clusters: 1, 2 and 3 instances, each with manifest users and a database. */
interface ClusterSpec {
  name: string;
  instances: number;
  users: Record<string, string[]>;
  databases: Record<string, string>;
}
const clusters: ClusterSpec[] = [
  {
    name: 'acid-solo',
    instances: 1,
    users: { solo_owner: ['createdb'], solo_app: [] },
    databases: { solo: 'solo_owner' },
  },
  { name: 'acid-pair', instances: 2, users: { pair_owner: [], pair_app: [] }, databases: { pair: 'pair_owner' } },
  {
    name: 'acid-trio',
    instances: 3,
    users: { trio_owner: ['superuser', 'createdb'] },
    databases: { trio: 'trio_owner' },
  },
];

// PostgreSQL 15 is what runs behind the pods (Debian's): a manifest asking for a newer major version would make
// Zalando's operator start a major version upgrade (an exec into the pod, which kwok cannot run).
const manifest = (c: ClusterSpec) => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { name: c.name },
  spec: {
    teamId: 'acid',
    numberOfInstances: c.instances,
    volume: { size: '1Gi' },
    postgresql: { version: '15' },
    users: c.users,
    databases: c.databases,
  },
});

const secretName = (user: string, cluster: string) =>
  `${user.replace(/_/g, '-')}.${cluster}.credentials.postgresql.acid.zalan.do`;

/** Every role of a cluster that has a credentials Secret: the system roles and the manifest's. */
const rolesOf = (c: ClusterSpec) => ['postgres', 'standby', ...Object.keys(c.users)];

const tools = findPatroniTools();

async function skipReason(): Promise<string | false> {
  const reason = await patroniPodsSkipReason();
  if (reason) return reason;
  if (process.env.TESTENV_PRIVATE_HOSTS !== '1')
    return 'needs a private /etc/hosts for the Service names (run-integration.sh runs the full phase in netns.sh)';
  try {
    peerBuild();
  } catch (error) {
    return `the reference peer is not built (scripts/testenv/build-peer.sh, needs Go and the module proxy): ${String(error)}`;
  }
  return false;
}
const skip = await skipReason();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Puts a CRD in place of whatever `postgresqls.acid.zalan.do` is there (a full replace: an apply would merge the
 * two operators' schemas), as an admin switching operators would, and waits until it is established.
 */
async function replaceCrd(file: string): Promise<void> {
  const crd = parse(readFileSync(file, 'utf8')) as KubeObject;
  const live = await kubectl(['get', 'crd', CRD_NAME, '-o', 'json']);
  if (live.code === 0) {
    const { resourceVersion } = (JSON.parse(live.stdout) as KubeObject).metadata!;
    const object = { ...crd, metadata: { ...crd.metadata, resourceVersion } };
    await kubectlOk(['replace', '-f', '-'], JSON.stringify(object));
  } else {
    await kubectlOk(['create', '-f', '-'], JSON.stringify(crd));
  }
  await waitCrdsEstablished([CRD_NAME]);
}

/** What must not change across a handover, for one cluster. */
interface Snapshot {
  /** pod name -> uid */
  pods: Record<string, string>;
  /** pod name -> pg_postmaster_start_time() of its PostgreSQL (a restart of PostgreSQL changes it) */
  postmasters: Record<string, string>;
  /** the StatefulSet's pod template: spec, labels, annotations; and the StatefulSet's uid */
  template: { spec: unknown; labels: unknown; annotations: Record<string, string> };
  statefulSetUid: string;
  /** role -> password in its credentials Secret */
  passwords: Record<string, string>;
}

let client: KubeClient;
let namespace = '';
let pods: PatroniPods | undefined;
let peer: PeerProcess | undefined;
let operator: LocalDeployment | undefined;
/** volumes, member and operator logs, Zalando's log (made in `before`, so a skipped run leaves nothing) */
let dir = '';
let forget = () => undefined as void;
let peerLog = '';
/** the Event uids seen before this operator started: only later Events count against it */
const eventsBefore = new Set<string>();

const clusterPods = async (c: ClusterSpec) =>
  (await client.list('Pod', namespace, `cluster-name=${c.name}`)).sort((a, b) =>
    a.metadata!.name!.localeCompare(b.metadata!.name!),
  );

const readyOf = (p: KubeObject) =>
  ((p.status?.conditions ?? []) as KubeObject[]).find((x) => x.type === 'Ready')?.status === 'True';

/** @returns the pods when the cluster has `instances` Ready pods, one labelled master and the others replica */
async function healthy(c: ClusterSpec, instances = c.instances): Promise<KubeObject[] | undefined> {
  const list = await clusterPods(c);
  const roles = list.map((p) => p.metadata!.labels?.['spilo-role']);
  const ok =
    list.length === instances &&
    list.every((p) => !p.metadata!.deletionTimestamp && readyOf(p)) &&
    roles.filter((r) => r === 'master').length === 1 &&
    roles.every((r) => r === 'master' || r === 'replica');
  return ok ? list : undefined;
}

const masterIp = async (c: ClusterSpec) =>
  (await clusterPods(c)).find((p) => p.metadata!.labels?.['spilo-role'] === 'master')?.status?.podIP as string;

async function password(user: string, c: ClusterSpec): Promise<string | undefined> {
  const secret = await client.get({ kind: 'Secret', namespace, name: secretName(user, c.name) });
  const data = secret?.data?.password as string | undefined;
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
}

/** @returns pg_postmaster_start_time() of each pod's PostgreSQL, asked at the pod's IP as the superuser */
async function postmasters(c: ClusterSpec, list: KubeObject[]): Promise<Record<string, string>> {
  const superuser = (await password('postgres', c))!;
  const out: Record<string, string> = {};
  for (const p of list) {
    const db = new pg.Client({
      host: p.status.podIP as string,
      port: 5432,
      user: 'postgres',
      password: superuser,
      database: 'postgres',
      ssl: { rejectUnauthorized: false },
      connectionTimeoutMillis: 5000,
    });
    await db.connect();
    try {
      const { rows } = await db.query<{ t: string }>('SELECT pg_postmaster_start_time()::text AS t');
      out[p.metadata!.name!] = rows[0]!.t;
    } finally {
      await db.end();
    }
  }
  return out;
}

async function snapshot(c: ClusterSpec, instances = c.instances): Promise<Snapshot> {
  const list = (await healthy(c, instances))!;
  assert.ok(list, `${c.name} is healthy`);
  const sts = (await client.get({ kind: 'StatefulSet', namespace, name: c.name }))!;
  const passwords: Record<string, string> = {};
  for (const role of rolesOf(c)) passwords[role] = (await password(role, c))!;
  return {
    pods: Object.fromEntries(list.map((p) => [p.metadata!.name!, p.metadata!.uid!])),
    postmasters: await postmasters(c, list),
    template: {
      spec: sts.spec.template.spec,
      labels: sts.spec.template.metadata?.labels,
      annotations: (sts.spec.template.metadata?.annotations ?? {}) as Record<string, string>,
    },
    statefulSetUid: sts.metadata!.uid!,
    passwords,
  };
}

/** Field paths where two JSON values differ, for failure messages that name what changed. */
function differences(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return [`${path || '.'}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`];
}

/**
 * Asserts what a handover must keep of `before`: the same pods (uids) and PostgreSQL processes, no pod flagged for
 * a rolling update, the pod template's spec and labels, its annotations but for this operator's template hash, every
 * password in the Secrets, and every role logging in with it at the master.
 */
async function assertKept(c: ClusterSpec, before: Snapshot, who: string): Promise<void> {
  const list = await clusterPods(c);
  const now = Object.fromEntries(list.map((p) => [p.metadata!.name!, p.metadata!.uid!]));
  for (const [pod, uid] of Object.entries(before.pods)) {
    assert.equal(now[pod], uid, `${who}: pod ${pod} kept (same uid)`);
  }
  const flagged = list.filter((p) => p.metadata!.annotations?.[ROLLING_UPDATE_FLAG] !== undefined);
  assert.deepEqual(
    flagged.map((p) => `${p.metadata!.name}: ${p.metadata!.annotations![ROLLING_UPDATE_FLAG]}`),
    [],
    `${who}: no pod of ${c.name} is flagged for a rolling update`,
  );
  const kept = Object.fromEntries(Object.keys(before.postmasters).map((p) => [p, p]));
  const postmastersNow = await postmasters(
    c,
    list.filter((p) => kept[p.metadata!.name!]),
  );
  assert.deepEqual(postmastersNow, before.postmasters, `${who}: no PostgreSQL of ${c.name} restarted`);
  const sts = (await client.get({ kind: 'StatefulSet', namespace, name: c.name }))!;
  const spec = sts.spec.template.spec;
  assert.deepEqual(
    differences(before.template.spec, spec),
    [],
    `${who}: the pod template's spec of ${c.name} is unchanged`,
  );
  assert.deepEqual(
    differences(before.template.labels, sts.spec.template.metadata?.labels),
    [],
    `${who}: the pod template's labels of ${c.name} are unchanged`,
  );
  const annotations = { ...((sts.spec.template.metadata?.annotations ?? {}) as Record<string, string>) };
  const expected = { ...before.template.annotations };
  delete annotations[TEMPLATE_HASH];
  delete expected[TEMPLATE_HASH];
  assert.deepEqual(
    differences(expected, annotations),
    [],
    `${who}: the pod template's annotations of ${c.name} gain at most ${TEMPLATE_HASH}`,
  );
  if (sts.metadata!.uid !== before.statefulSetUid)
    console.log(`# note: ${who}: StatefulSet ${c.name} was re-created (orphaning its pods)`);
  for (const [role, secret] of Object.entries(before.passwords)) {
    assert.equal(await password(role, c), secret, `${who}: the password of ${role} in ${c.name}'s Secret is unchanged`);
  }
  const host = await masterIp(c);
  for (const role of Object.keys(c.users)) {
    assert.equal(await login(host, role, before.passwords[role]!), true, `${who}: ${role} logs in to ${c.name}`);
  }
  for (const [database, owner] of Object.entries(c.databases)) {
    assert.equal(
      await login(host, owner, before.passwords[owner]!, database),
      true,
      `${who}: ${owner} reaches database ${database}`,
    );
  }
}

/**
 * Asserts that the cluster's status is `Running`, allowing a few seconds for a status write still under way. Nothing
 * else triggers a sync here (periodic sync is off and the bridge does not watch StatefulSets), so a status left
 * behind stays.
 */
async function stillRunning(c: ClusterSpec, who: string): Promise<void> {
  let status: unknown;
  const start = Date.now();
  let first: unknown;
  await eventually(
    `${c.name} Running`,
    async () => {
      status = (await client.get({ kind: 'postgresql', namespace, name: c.name }))?.status;
      first ??= status;
      return (status as KubeObject | undefined)?.PostgresClusterStatus === 'Running' ? true : undefined;
    },
    10_000,
  ).catch(() => assert.fail(`${who}: ${c.name} is not Running: ${JSON.stringify(status)}`));
  if (first !== status)
    console.log(`# note: ${who}: ${c.name} became Running after ${Date.now() - start} ms: ${JSON.stringify(first)}`);
}

/**
 * Asserts that no Warning Event with a `*Failed` reason about a cluster was recorded since this operator started.
 * (Events of other components are not about the operators: e.g. the controller-manager's PersistentVolume
 * controller reports a `ProvisioningFailed` when its write of a new claim races with kwok's volume stages, then
 * retries.)
 */
async function assertNoFailureEvents(who: string): Promise<void> {
  const failed = (await client.list('Event', namespace)).filter(
    (e) =>
      !eventsBefore.has(e.metadata!.uid!) &&
      e.involvedObject?.kind === 'postgresql' &&
      e.type === 'Warning' &&
      /Failed$/.test(e.reason ?? ''),
  );
  assert.deepEqual(
    failed.map((e) => `${e.involvedObject?.name}: ${e.reason}: ${e.message}`),
    [],
    `${who}: no Warning Event of a failure`,
  );
}

/** The children of a cluster as the two operators write them, without what the API server or Patroni maintain. */
async function children(c: ClusterSpec): Promise<Record<string, unknown>> {
  const kinds = ['StatefulSet', 'Service', 'Endpoints', 'Secret', 'PodDisruptionBudget'];
  const lists = await Promise.all(kinds.map((kind) => client.list(kind, namespace, `cluster-name=${c.name}`)));
  const out: Record<string, unknown> = {};
  for (const o of lists.flat()) {
    const { resourceVersion, managedFields, generation, creationTimestamp, uid, ...metadata } = o.metadata!;
    void [resourceVersion, managedFields, generation, creationTimestamp, uid];
    const object: KubeObject = { ...o, metadata };
    delete object.status;
    // Patroni writes the master Endpoints' addresses and its own annotations; Secrets keep only their keys here
    // (the passwords are compared on their own).
    if (o.kind === 'Endpoints') {
      delete object.subsets;
      const annotations = Object.entries(o.metadata!.annotations ?? {}).filter(([k]) => k.startsWith('acid.zalan.do/'));
      object.metadata = { ...metadata, annotations: Object.fromEntries(annotations) };
    }
    if (o.kind === 'Secret') object.data = Object.keys(o.data ?? {}).sort();
    out[`${o.kind}/${o.metadata!.name}`] = object;
  }
  return out;
}

/** Prints (as TAP comments) the field paths where a cluster's children differ between two moments. */
function noteChildren(what: string, c: ClusterSpec, a: Record<string, unknown>, b: Record<string, unknown>): void {
  const lines = differences(a, b);
  if (lines.length === 0) return;
  console.log(`# ${what}, ${c.name}: ${lines.length} field(s) of the children differ`);
  for (const line of lines.slice(0, 40)) console.log(`#   ${line.slice(0, 240)}`);
}

/** @returns role -> the kind of its password verifier in pg_authid (`md5` or `SCRAM-SHA-256`) */
async function verifiers(c: ClusterSpec): Promise<Record<string, string>> {
  const db = new pg.Client({
    host: await masterIp(c),
    port: 5432,
    user: 'postgres',
    password: (await password('postgres', c))!,
    database: 'postgres',
    ssl: { rejectUnauthorized: false },
    connectionTimeoutMillis: 5000,
  });
  await db.connect();
  try {
    const { rows } = await db.query<{ rolname: string; kind: string }>(
      "SELECT rolname, CASE WHEN rolpassword LIKE 'md5%' THEN 'md5' ELSE split_part(rolpassword, '$', 1) END AS kind " +
        'FROM pg_authid WHERE rolpassword IS NOT NULL ORDER BY rolname',
    );
    return Object.fromEntries(rows.map((r) => [r.rolname, r.kind]));
  } finally {
    await db.end();
  }
}

/** @returns the lines of Zalando's log from `offset` on that are about cluster `c` */
const peerLines = (offset: number, c?: ClusterSpec) =>
  readFileSync(peerLog, 'utf8')
    .slice(offset)
    .split('\n')
    .filter((l) => !c || l.includes(`cluster-name=${namespace}/${c.name}`));

/** Zalando's log lines that explain a write to the pods or the StatefulSet (for the report of a failure). */
const peerReasons = (offset: number) =>
  peerLines(offset)
    .filter((l) => /does not match|rolling update|recreat|replac|reason|level=(warning|error)/i.test(l))
    .slice(0, 60)
    .join('\n');

async function zalandoConfigMap(): Promise<KubeObject> {
  const configMap = parse(readFileSync(join(peerBuild().source, 'manifests/configmap.yaml'), 'utf8')) as KubeObject;
  // Its own REST API port, free on this machine; every other key as shipped.
  configMap.data.api_port = String(await freePort());
  configMap.metadata = { name: 'postgres-operator', namespace };
  return configMap;
}

const startZalando = () =>
  startPeer({
    kubeconfig: process.env.KUBECONFIG!,
    watchedNamespace: namespace,
    configMap: `${namespace}/postgres-operator`,
    logFile: peerLog,
  });

describe('taking over from Zalando v1.15.1 and handing back', { skip, timeout: 420_000 }, () => {
  const snapshots = new Map<string, Snapshot>();
  /** each cluster's children as the operator in charge last left them */
  const objects = new Map<string, Record<string, unknown>>();

  /** Notes what changed in the children and in the password verifiers since the last stage. */
  const noteStage = async (what: string) => {
    for (const c of clusters) {
      const now = await children(c);
      if (objects.has(c.name)) noteChildren(what, c, objects.get(c.name)!, now);
      objects.set(c.name, now);
      console.log(`# password verifiers ${what}, ${c.name}: ${JSON.stringify(await verifiers(c))}`);
    }
  };

  before(
    async () => {
      if (typeof tools === 'string') throw new Error(tools);
      dir = mkdtempSync(join(tmpdir(), 'takeover-'));
      // PatroniPods runs the members as `postgres` (when root) under `<dir>/pods`: they must get through `dir`.
      chmodSync(dir, 0o755);
      forget = removeIfInterrupted(dir);
      peerLog = join(dir, 'zalando.log');
      client = testClient();
      namespace = await createNamespace('takeover');
      // v1.15.1 registers its CRD on start and fails when none is there yet: Zalando's own goes in first.
      await replaceCrd(join(peerBuild().source, 'manifests/postgresql.crd.yaml'));
      await kubectlOk(['create', '-f', '-'], JSON.stringify(await zalandoConfigMap()));
      pods = new PatroniPods({
        kubeconfig: process.env.KUBECONFIG!,
        namespace,
        tools,
        dir: join(dir, 'pods'),
        hostsFile: '/etc/hosts',
        log: (line) => {
          if (process.env.PATRONI_PODS_LOG) console.error(line);
        },
      });
      pods.start();
    },
    { timeout: 60_000 },
  );

  after(
    async () => {
      await operator?.stop();
      await peer?.stop();
      await pods?.stop();
      if (namespace) await deleteNamespace(namespace);
      client?.close();
      if (process.env.TAKEOVER_KEEP) console.error(`takeover: logs kept in ${dir}`);
      else if (dir) rmSync(dir, { recursive: true, force: true });
      forget();
    },
    { timeout: 120_000 },
  );

  it("Zalando's operator creates three clusters that come up Running, with their roles and databases", async () => {
    peer = await startZalando();
    for (const c of clusters) await applyManifest(manifest(c), namespace);
    for (const c of clusters) {
      await eventually(
        `${c.name} Running with ${c.instances} healthy pods`,
        async () => {
          const object = await client.get({ kind: 'postgresql', namespace, name: c.name });
          if (object?.status?.PostgresClusterStatus !== 'Running') return undefined;
          return (await healthy(c)) ? true : undefined;
        },
        180_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${peerLines(0, c).slice(-30).join('\n')}`);
      });
    }
    for (const c of clusters) {
      const snap = await snapshot(c);
      snapshots.set(c.name, snap);
      const host = await masterIp(c);
      for (const role of Object.keys(c.users)) {
        assert.equal(await login(host, role, snap.passwords[role]!), true, `${role} logs in to ${c.name}`);
      }
      for (const [database, owner] of Object.entries(c.databases)) {
        assert.equal(await login(host, owner, snap.passwords[owner]!, database), true, `database ${database} exists`);
      }
    }
    for (const e of await client.list('Event', namespace)) eventsBefore.add(e.metadata!.uid!);
    await noteStage("as Zalando's operator made them");
  });

  it('this operator takes over with the same ConfigMap: every sync succeeds, no pod is touched', async () => {
    await peer!.stop();
    peer = undefined;
    // As a deploy ships it: this operator's CRD replaces Zalando's.
    await replaceCrd(join(repoRoot, 'manifests/postgresql.crd.yaml'));
    mkdirSync(join(dir, 'operator'));
    ({ deployment: operator } = await startOperator(client, namespace, join(dir, 'operator')));
    for (const c of clusters) {
      await eventually(
        `${c.name} synced by this operator, roles included`,
        async () => {
          const object = await client.get({ kind: 'postgresql', namespace, name: c.name });
          const status = object?.status;
          const roles = (status?.conditions as KubeObject[] | undefined)?.find((x) => x.type === 'RolesSynced');
          return status?.observedGeneration === object!.metadata!.generation && roles?.status === 'True'
            ? status
            : undefined;
        },
        120_000,
      ).catch(async (error: Error) => {
        const object = await client.get({ kind: 'postgresql', namespace, name: c.name });
        throw new Error(`${error.message}: status ${JSON.stringify(object?.status)}`);
      });
    }
    for (const c of clusters) {
      await stillRunning(c, 'after the takeover');
      await assertKept(c, snapshots.get(c.name)!, 'after the takeover');
    }
    await assertNoFailureEvents('after the takeover');
    // Each StatefulSet was taken over without a rolling update, and its pod template already matched ours.
    const adopted = (await client.list('Event', namespace)).filter(
      (e) => !eventsBefore.has(e.metadata!.uid!) && e.reason === 'StatefulSetAdopted',
    );
    assert.deepEqual(
      adopted.map((e) => `${e.involvedObject?.name}: ${e.type}: ${e.message}`).sort(),
      clusters
        .map(
          (c) =>
            `${c.name}: Normal: Took over StatefulSet ${c.name}, which another operator built: its pod template already matches`,
        )
        .sort(),
    );
    for (const c of clusters) {
      const object = (await client.get({ kind: 'postgresql', namespace, name: c.name }))!;
      assert.deepEqual(object.metadata!.finalizers ?? [], [], 'no finalizer: the shipped ConfigMap has it off');
    }
    await noteStage('after the takeover');
  });

  it('a change made by this operator: an instance more on one cluster, a user more on another', async () => {
    const pair = clusters.find((c) => c.name === 'acid-pair')!;
    const solo = clusters.find((c) => c.name === 'acid-solo')!;
    pair.instances = 3;
    solo.users = { ...solo.users, solo_new: [] };
    // Status follows the pods: sampled every 250 ms, the time from the last pod of acid-pair turning Ready to its
    // status Running for the new generation (the function asks to be called again while pods start; without that
    // only the periodic sync would see it).
    const sampled: { lastReady?: number; running?: number } = {};
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [pods, object] = await Promise.all([
          clusterPods(pair),
          client.get({ kind: 'postgresql', namespace, name: pair.name }),
        ]);
        const ready = pods.filter((p) =>
          (p.status?.conditions as KubeObject[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        const now = Date.now();
        if (ready.length < 3) sampled.lastReady = undefined;
        else sampled.lastReady ??= now;
        const current = object?.status?.observedGeneration === object?.metadata?.generation;
        if (sampled.lastReady !== undefined && current && object?.status?.PostgresClusterStatus === 'Running')
          sampled.running ??= now;
        if (sampled.running !== undefined) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    await applyManifest(manifest(pair), namespace);
    await applyManifest(manifest(solo), namespace);
    await eventually('a third healthy pod in acid-pair', () => healthy(pair), 120_000);
    await eventually('acid-pair Running with three pods Ready (sampled)', async () => sampled.running, 60_000).finally(
      () => {
        sampling = false;
      },
    );
    await sampler;
    const lag = sampled.running! - sampled.lastReady!;
    console.log(
      `# status follows the pods: last pod of acid-pair Ready -> status Running in ${lag} ms (250 ms sampling)`,
    );
    const newPassword = await eventually(
      "solo_new's Secret",
      async () => ((await password('solo_new', solo)) ? await password('solo_new', solo) : undefined),
      60_000,
    );
    await eventually(
      'solo_new logs in',
      async () => ((await login(await masterIp(solo), 'solo_new', newPassword)) === true ? true : undefined),
      60_000,
    );
    for (const c of [pair, solo]) {
      const before = snapshots.get(c.name)!;
      const list = await clusterPods(c);
      for (const [pod, uid] of Object.entries(before.pods))
        assert.equal(list.find((p) => p.metadata!.name === pod)?.metadata!.uid, uid, `pod ${pod} kept`);
      assert.deepEqual(
        list.filter((p) => p.metadata!.annotations?.[ROLLING_UPDATE_FLAG] !== undefined).map((p) => p.metadata!.name),
        [],
        `no pod of ${c.name} flagged`,
      );
    }
    // What the hand-back must keep from here on: the new pod and the new user included.
    for (const c of [pair, solo]) {
      const now = await snapshot(c);
      const before = snapshots.get(c.name)!;
      assert.deepEqual(
        Object.fromEntries(Object.keys(before.postmasters).map((p) => [p, now.postmasters[p]])),
        before.postmasters,
        `no PostgreSQL of ${c.name} restarted`,
      );
      snapshots.set(c.name, now);
    }
    await assertNoFailureEvents('after the change');
    await noteStage('after the change');
  });

  it("the way back: Zalando's operator resyncs the clusters without restarting a pod", async () => {
    // This project's own manifests/configmap.yaml switches enable_finalizers on: leave this operator's finalizer on
    // the clusters, as a team that ran with that key would, then hand back with Zalando's shipped ConfigMap (off).
    const finalizers = async () =>
      Promise.all(
        clusters.map(
          async (c) => (await client.get({ kind: 'postgresql', namespace, name: c.name }))?.metadata?.finalizers ?? [],
        ),
      );
    const patchConfig = (data: Record<string, string>) =>
      kubectlOk([
        'patch',
        'configmap',
        'postgres-operator',
        '-n',
        namespace,
        '--type=merge',
        '-p',
        JSON.stringify({ data }),
      ]);
    await patchConfig({ enable_finalizers: 'true' });
    await eventually(
      "this operator's finalizer on every cluster",
      async () => ((await finalizers()).every((f) => f.includes(FINALIZER)) ? true : undefined),
      60_000,
    );
    await operator!.stop();
    operator = undefined;
    const statefulSetUids = async () =>
      Promise.all(
        clusters.map(async (c) => (await client.get({ kind: 'StatefulSet', namespace, name: c.name }))?.metadata?.uid),
      );
    const uidsBefore = await statefulSetUids();
    // As the README's "Switching ... and back" says: with our two annotations in its ignored_annotations, Zalando's
    // operator does not replace the StatefulSets for them (it compares annotations without those keys).
    await patchConfig({
      enable_finalizers: 'false',
      ignored_annotations: 'acid.zalan.do/pod-template-hash,acid.zalan.do/desired-hash',
    });
    const offset = readFileSync(peerLog, 'utf8').length;
    peer = await startZalando();
    for (const c of clusters) {
      await eventually(
        `Zalando's operator syncs ${c.name}`,
        async () => {
          const lines = peerLines(offset, c);
          const failed = lines.find((l) => l.includes('could not sync cluster'));
          if (failed) throw new Error(`${c.name}: ${failed}\n${peerReasons(offset)}`);
          return lines.some((l) => l.includes('cluster has been synced')) ? true : undefined;
        },
        180_000,
      );
    }
    const reasons = peerReasons(offset);
    for (const c of clusters) {
      await stillRunning(c, 'after the hand-back');
      await assertKept(c, snapshots.get(c.name)!, 'after the hand-back').catch((error: Error) => {
        throw new Error(`${error.message}\nZalando's log:\n${reasons}`);
      });
    }
    assert.deepEqual(
      await finalizers(),
      clusters.map(() => []),
      "Zalando's operator (enable_finalizers off) removed the finalizer: it shares the name",
    );
    assert.deepEqual(await statefulSetUids(), uidsBefore, 'no StatefulSet replaced (ignored_annotations)');
    if (reasons) console.log(`# Zalando's operator on the way back:\n${reasons.replace(/^/gm, '# ')}`);
    await noteStage('after the hand-back');
    const leases = await client.list('Lease', namespace);
    console.log(
      `# Leases left after the hand-back: ${leases.map((l) => `${l.metadata!.name} (holder ${l.spec?.holderIdentity ?? 'none'})`).join(', ')}`,
    );
  });
});
