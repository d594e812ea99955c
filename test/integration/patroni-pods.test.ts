// testenv: full
// End to end on the full control plane with real Patroni behind the pods: the operator syncs a Zalando manifest,
// kube-controller-manager and kwok turn its StatefulSet into Running pods with IPs, scripts/testenv/patroni-pods.ts
// starts a real Patroni + PostgreSQL per pod on the pod's IP (Kubernetes DCS, like Spilo). Patroni labels the
// pods with their role; a switchover asked through lib/patroni at a pod IP moves the master label and the master
// Endpoints; a deleted pod comes back, its Patroni restarts on the kept volume and rejoins as a replica.
// Needs pod IPs that are local addresses: run-integration.sh runs this phase in scripts/testenv/netns.sh.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { clusterLeader, PatroniClient, patroniUrl, type PatroniCluster } from '../../lib/patroni';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { findPatroniTools, removeIfInterrupted, until } from '../../scripts/testenv/patroni-process';
import { PatroniPods, patroniPodsSkipReason } from '../../scripts/testenv/patroni-pods';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace } from './testenv';

const name = 'acid-minimal-cluster';
const tools = findPatroniTools();

const skip = await patroniPodsSkipReason();

let client: KubeClient;
let pods: PatroniPods | undefined;
let namespace = '';
const dir = mkdtempSync(join(tmpdir(), 'patroni-pods-'));
const forget = removeIfInterrupted(dir);

before(
  async () => {
    if (skip) return;
    if (typeof tools === 'string') throw new Error(tools);
    await installCrd();
    client = testClient();
    namespace = await createNamespace('patroni-pods');
    await applyManifest(reference('v2.0.1/minimal-postgres-manifest.yaml'), namespace);
    // The children (StatefulSet, Secrets, Services, Endpoints) are applied before anything talks to PostgreSQL.
    await syncCluster(syncContext(client, referenceConfig('v2.0.1')), namespace, name);
    pods = new PatroniPods({
      kubeconfig: process.env.KUBECONFIG!,
      namespace,
      tools,
      dir,
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
    await pods?.stop();
    if (namespace) await deleteNamespace(namespace);
    client?.close();
    rmSync(dir, { recursive: true, force: true });
    forget();
  },
  { timeout: 90_000 },
);

interface PodRole {
  name: string;
  ip: string;
  role: string | undefined;
  uid: string;
  ready: string | undefined;
}

async function podRoles(): Promise<PodRole[]> {
  const list = await client.list('Pod', namespace, `cluster-name=${name}`);
  return list
    .map((p: KubeObject) => ({
      name: p.metadata!.name!,
      ip: p.status?.podIP,
      uid: p.metadata!.uid!,
      role: p.metadata!.labels?.['spilo-role'],
      ready: (p.status?.conditions as KubeObject[] | undefined)?.find((c) => c.type === 'Ready')?.status,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Watches one pod by name and records the Ready condition of every version the watch delivers, per pod uid. A
 * watch sees each change, where polling can miss a Ready=False that lasts less than a poll interval.
 * @returns the record and a stop function, once the watch has delivered the pod's current version
 */
async function watchReadiness(
  pod: string,
): Promise<{ seen: { uid: string; ready: string | undefined }[]; stop: () => void }> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(process.env.KUBECONFIG!);
  const seen: { uid: string; ready: string | undefined }[] = [];
  let started!: () => void;
  const first = new Promise<void>((resolve) => {
    started = resolve;
  });
  const controller = await new Watch(kubeConfig).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { fieldSelector: `metadata.name=${pod}` },
    (_phase, p: KubeObject) => {
      seen.push({
        uid: p.metadata!.uid!,
        ready: (p.status?.conditions as KubeObject[] | undefined)?.find((c) => c.type === 'Ready')?.status,
      });
      started();
    },
    () => undefined,
  );
  await first;
  return { seen, stop: () => controller.abort() };
}

function logs(): string {
  return [...(pods?.running().keys() ?? [])].map((p) => `--- ${p}\n${pods!.log(p, 15)}`).join('\n');
}

/** Waits until exactly one pod is labelled master and every other one replica; returns the pods. */
async function labelled(what: string, master?: string): Promise<PodRole[]> {
  return until(
    what,
    150_000,
    async () => {
      const roles = await podRoles();
      const masters = roles.filter((p) => p.role === 'master');
      const ok =
        roles.length === 2 &&
        masters.length === 1 &&
        roles.every((p) => p.role === 'master' || p.role === 'replica') &&
        (master === undefined || masters[0]!.name === master);
      return ok ? roles : undefined;
    },
    logs,
  );
}

/**
 * Waits until `replica` streams from the leader on the leader's timeline, asked at `ip`. A demoted master is
 * labelled replica before it has followed the new timeline (through pg_rewind when it wrote WAL past the fork
 * point), so a test that disrupts it next waits for this first, as a careful rollout would.
 */
async function streams(ip: string, replica: string): Promise<PatroniCluster> {
  return until(
    `${replica} streams on the leader's timeline`,
    120_000,
    async () => {
      const view = await new PatroniClient(patroniUrl(ip)).getCluster().catch(() => undefined);
      const leader = view && clusterLeader(view);
      const r = view?.members.find((m) => m.name === replica);
      return r &&
        leader &&
        r.role === 'replica' &&
        ['running', 'streaming'].includes(r.state) &&
        typeof r.lag === 'number' &&
        r.timeline === leader.timeline
        ? view
        : undefined;
    },
    logs,
  );
}

async function masterEndpointsIps(): Promise<string[]> {
  const ep = await client.get({ kind: 'Endpoints', namespace, name });
  return ((ep?.subsets ?? []) as KubeObject[]).flatMap((s) =>
    ((s.addresses ?? []) as KubeObject[]).map((a) => a.ip as string),
  );
}

test('Patroni runs behind each pod on its IP, labels its role and makes it Ready', { skip }, async () => {
  const roles = await labelled('one master and one replica pod');
  await until(
    'both pods Ready (Patroni /readiness)',
    60_000,
    async () => ((await podRoles()).every((p) => p.ready === 'True') ? true : undefined),
    logs,
  );
  const master = roles.find((p) => p.role === 'master')!;
  const view = await new PatroniClient(patroniUrl(roles.find((p) => p.role === 'replica')!.ip)).getCluster();
  assert.equal(clusterLeader(view)?.name, master.name, "Patroni's leader is the pod labelled master");
  assert.deepEqual(
    view.members.map((m) => [m.name, m.host]),
    roles.map((p) => [p.name, p.ip]),
    'members are the pods, at the pod IPs',
  );
  await until(
    'the master Endpoints point at the master pod',
    30_000,
    async () => ((await masterEndpointsIps()).join() === master.ip ? true : undefined),
    () => 'Endpoints never pointed at the master pod',
  );
});

test(
  'a switchover at a pod IP promotes the replica; the labels and the master Endpoints follow',
  { skip },
  async () => {
    const before = await labelled('a labelled cluster');
    const master = before.find((p) => p.role === 'master')!;
    const replica = before.find((p) => p.role === 'replica')!;
    await streams(master.ip, replica.name);

    const result = await new PatroniClient(patroniUrl(replica.ip)).switchover({
      leader: master.name,
      candidate: replica.name,
    });
    assert.equal(result.newLeader, replica.name);
    const after = await labelled('the labels follow the switchover', replica.name);
    assert.equal(after.find((p) => p.name === master.name)?.role, 'replica');
    await until(
      'the master Endpoints follow',
      30_000,
      async () => ((await masterEndpointsIps()).join() === replica.ip ? true : undefined),
      logs,
    );
    const view = await streams(replica.ip, master.name);
    assert.equal(view.members.find((m) => m.name === master.name)?.timeline, 2, 'the old master follows timeline 2');
  },
);

test(
  'a deleted pod comes back; its Patroni restarts on the kept volume and rejoins as a replica',
  { skip },
  async () => {
    const before = await labelled('a labelled cluster');
    const replica = before.find((p) => p.role === 'replica')!;
    await streams(before.find((p) => p.role === 'master')!.ip, replica.name);
    const readiness = await watchReadiness(replica.name);
    try {
      await client.delete({ kind: 'Pod', namespace, name: replica.name });
      const back = await until(
        'the pod is recreated and its member runs again',
        120_000,
        async () => {
          const pod = (await podRoles()).find((p) => p.name === replica.name);
          const member = pods!.running().get(replica.name);
          return pod && pod.uid !== replica.uid && member?.uid === pod.uid && member.ip === pod.ip ? pod : undefined;
        },
        logs,
      );
      const view = await streams(back.ip, replica.name);
      assert.equal(view.members.find((m) => m.name === replica.name)?.host, back.ip, 'the member is at the new pod IP');
      assert.equal(clusterLeader(view)?.name, before.find((p) => p.role === 'master')!.name, 'the master stayed');
      assert.doesNotMatch(
        pods!.log(replica.name, 200),
        /replica has been created/,
        'no new base backup: the data directory of its claim was kept',
      );
      await until(
        'the recreated pod turns Ready once Patroni is',
        60_000,
        async () => {
          const pod = (await podRoles()).find((p) => p.name === replica.name);
          return pod?.ready === 'True' ? true : undefined;
        },
        logs,
      );
      // Only the harness writes Ready=False (kwok marks a pod Ready at once): it did while Patroni was starting.
      const versions = (): (string | undefined)[] =>
        readiness.seen.filter((v) => v.uid === back.uid).map((v) => v.ready);
      await until(
        'the watch delivers the Ready version',
        10_000,
        async () => (versions().at(-1) === 'True' ? true : undefined),
        () => versions().join(),
      );
      assert.ok(
        versions().includes('False'),
        `the new pod was not Ready while its Patroni was starting: ${versions().join()}`,
      );
    } finally {
      readiness.stop();
    }
    await labelled('labels settle', before.find((p) => p.role === 'master')!.name);
  },
);
