// testenv: full
// Node drain on the full control plane with real Patroni behind the pods (scripts/testenv/patroni-pods.ts): a
// 2-instance cluster with required pod anti-affinity (one pod per node) and `node_readiness_label:
// lifecycle-status:ready` (all three fake Nodes labelled in before()). onNodeDrain is called through its export with
// the CloudEvent an ApiServerSource sends for a Node update, again while it answers 503, as the bridge would.
// - cordon the master's node: the master PodDisruptionBudget refuses to evict the master; onNodeDrain switches over
//   to the replica; Patroni's leader and the master label move, an Event says why; a second call writes nothing;
//   the old master (now a replica) can be evicted, the new master still cannot;
// - remove the readiness label from the master's node: the master moves; a replacement pod is never scheduled on
//   a node without the label (it stays Pending until a labelled node is free);
// - cordon both nodes of the cluster: the replica is recreated on the third node first, then the master moves.
// Needs pod IPs that are local addresses: run inside scripts/testenv/netns.sh.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { onNodeDrain } from '../../functions/onNodeDrain';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { KubeApiError } from '../../lib/k8s/errors';
import { resourcePath } from '../../lib/k8s/resources';
import { parseOperatorConfig, type OperatorConfig } from '../../lib/model/config';
import { clusterLeader, PatroniClient, patroniUrl, type PatroniCluster } from '../../lib/patroni';
import { drainNode } from '../../lib/sync/drain/move-master';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { findPatroniTools, removeIfInterrupted, until } from '../../scripts/testenv/patroni-process';
import { PatroniPods, patroniPodsSkipReason } from '../../scripts/testenv/patroni-pods';
import { applyManifest, installCrd, reference, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl } from './testenv';
import type { DrainResult } from '../../lib/plan/drain-outcome';

const name = 'acid-minimal-cluster';
const NODES = ['testenv-node-0', 'testenv-node-1', 'testenv-node-2'];
const READY_LABEL = 'lifecycle-status';
const tools = findPatroniTools();

const skip = await patroniPodsSkipReason();

const configData: Record<string, string> = {
  ...(reference('v2.0.1/configmap.yaml').data as Record<string, string>),
  node_readiness_label: `${READY_LABEL}:ready`,
  enable_pod_antiaffinity: 'true',
};
let config: OperatorConfig;
let client: KubeClient;
let pods: PatroniPods | undefined;
let namespace = '';
const dir = mkdtempSync(join(tmpdir(), 'node-drain-'));
const forget = removeIfInterrupted(dir);

async function run(args: string[]): Promise<void> {
  const result = await kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
}
const label = (node: string) => run(['label', 'node', node, `${READY_LABEL}=ready`, '--overwrite']);
const unlabel = (node: string) => run(['label', 'node', node, `${READY_LABEL}-`]);

before(
  async () => {
    if (skip) return;
    if (typeof tools === 'string') throw new Error(tools);
    const parsed = parseOperatorConfig(configData);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    config = parsed.config;
    await installCrd();
    client = testClient();
    for (const node of NODES) await label(node);
    namespace = await createNamespace('node-drain');
    // onNodeDrain reads its config from this ConfigMap and watches only this namespace.
    Object.assign(process.env, {
      OPERATOR_NAMESPACE: namespace,
      WATCHED_NAMESPACE: namespace,
      CONFIG_MAP_NAME: 'postgres-operator',
    });
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'postgres-operator', namespace },
      data: configData,
    });
    await applyManifest(reference('v2.0.1/minimal-postgres-manifest.yaml'), namespace);
    await syncCluster(syncContext(client, config), namespace, name);
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
    if (skip) return;
    for (const node of NODES) {
      await kubectl(['uncordon', node]);
      await kubectl(['label', 'node', node, `${READY_LABEL}-`]);
    }
    await pods?.stop();
    if (namespace) await deleteNamespace(namespace);
    client?.close();
    rmSync(dir, { recursive: true, force: true });
    forget();
  },
  { timeout: 90_000 },
);

interface PodState {
  name: string;
  ip: string;
  role: string | undefined;
  uid: string;
  node: string | undefined;
}

async function podStates(): Promise<PodState[]> {
  const list = await client.list('Pod', namespace, `cluster-name=${name}`);
  return list
    .map((p: KubeObject) => ({
      name: p.metadata!.name!,
      ip: p.status?.podIP,
      uid: p.metadata!.uid!,
      role: p.metadata!.labels?.['spilo-role'],
      node: p.spec?.nodeName,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function logs(): string {
  return [...(pods?.running().keys() ?? [])].map((p) => `--- ${p}\n${pods!.log(p, 15)}`).join('\n');
}

/**
 * Waits until one pod is labelled master (optionally `master`) and the other replica, and the replica streams on the
 * leader's timeline from its pod's IP; with `not`, until that pod incarnation is gone.
 */
async function settled(
  what: string,
  master?: string,
  not?: { uid: string },
): Promise<{ master: PodState; replica: PodState; view: PatroniCluster }> {
  return until(
    what,
    150_000,
    async () => {
      const states = await podStates();
      if (not && states.some((p) => p.uid === not.uid)) return undefined;
      const m = states.filter((p) => p.role === 'master');
      const r = states.filter((p) => p.role === 'replica');
      if (states.length !== 2 || m.length !== 1 || r.length !== 1 || (master && m[0]!.name !== master))
        return undefined;
      const view = await new PatroniClient(patroniUrl(m[0]!.ip)).getCluster().catch(() => undefined);
      const leader = view && clusterLeader(view);
      const member = view?.members.find((x) => x.name === r[0]!.name);
      const streams =
        leader?.name === m[0]!.name &&
        member &&
        ['running', 'streaming'].includes(member.state) &&
        typeof member.lag === 'number' &&
        member.timeline === leader.timeline &&
        member.host === r[0]!.ip;
      return streams ? { master: m[0]!, replica: r[0]!, view: view! } : undefined;
    },
    logs,
  );
}

let delivery = 0;

/** Calls onNodeDrain's export with the CloudEvent an ApiServerSource sends for a Node update. */
async function callOnNodeDrain(node: string): Promise<{ status: number; retryAfter?: string; result: DrainResult }> {
  const object = await client.get({ kind: 'Node', name: node });
  const sent: { status: number; headers: Record<string, string> } = { status: 200, headers: {} };
  const response = {
    status: (code: number) => {
      sent.status = code;
    },
    set: (key: string, value: string) => {
      sent.headers[key.toLowerCase()] = value;
    },
  };
  const headers = {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': `node-drain-${++delivery}`,
    'ce-source': 'node-drain-test',
    'ce-type': 'dev.knative.apiserver.resource.update',
    'ce-kind': 'Node',
    'ce-name': node,
  };
  const reply = await onNodeDrain({ data: object, extensions: { request: { headers }, response } } as never, {
    timeout: 180,
  });
  assert.ok(reply.result, `onNodeDrain answered without a result: ${JSON.stringify(reply)}`);
  return { status: sent.status, retryAfter: sent.headers['retry-after'], result: reply.result as DrainResult };
}

/** Calls onNodeDrain like the bridge: again after each 503, until it answers 200; returns every answer. */
async function drainUntilDone(node: string): Promise<DrainResult[]> {
  const answers: DrainResult[] = [];
  await until(
    `onNodeDrain(${node}) answers 200`,
    150_000,
    async () => {
      const answer = await callOnNodeDrain(node);
      answers.push(answer.result);
      if (answer.status === 503) {
        assert.ok(Number(answer.retryAfter) > 0, 'a 503 carries Retry-After');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return undefined;
      }
      assert.equal(answer.status, 200, JSON.stringify(answer.result));
      return true;
    },
    () => `answers: ${JSON.stringify(answers.map((a) => a.clusters))}\n${logs()}`,
  );
  return answers;
}

const outcomes = (answers: DrainResult[]) => answers.flatMap((a) => a.clusters.map((c) => c.outcome));

async function events(reason: string): Promise<string[]> {
  const list = await client.list('Event', namespace);
  return list
    .filter((e) => e.involvedObject?.kind === 'postgresql' && e.reason === reason)
    .map((e) => e.message as string);
}

/** POST pods/<name>/eviction (policy/v1), as `kubectl drain` does. @returns the HTTP status */
async function evict(pod: string): Promise<number> {
  try {
    await client.request({
      verb: 'create',
      kind: 'Pod',
      method: 'POST',
      path: `${resourcePath('Pod', namespace, pod)}/eviction`,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace } },
    });
    return 201;
  } catch (error) {
    if (error instanceof KubeApiError) return error.status;
    throw error;
  }
}

/** Waits until kube-controller-manager's disruption controller has counted the master PDB's pods. */
async function masterPdbCounted(): Promise<KubeObject> {
  return until(
    'the master PDB status is computed',
    60_000,
    async () => {
      const pdb = await client.get({ kind: 'PodDisruptionBudget', namespace, name: `postgres-${name}-pdb` });
      const s = pdb?.status;
      return s && s.observedGeneration === pdb.metadata!.generation && s.expectedPods === 1 && s.currentHealthy === 1
        ? pdb
        : undefined;
    },
    () => 'the disruption controller never counted the master pod',
  );
}

test(
  "cordon the master's node: the PDB holds the eviction, onNodeDrain switches over, a second call writes nothing",
  { skip, timeout: 300_000 },
  async () => {
    const before = await settled('a settled cluster');
    assert.notEqual(before.master.node, before.replica.node, 'anti-affinity: one pod per node');
    const pdb = await masterPdbCounted();
    assert.equal(pdb.status.disruptionsAllowed, 0);
    await run(['cordon', before.master.node!]);
    try {
      assert.equal(await evict(before.master.name), 429, 'the master PDB refuses to evict the only master');

      const started = Date.now();
      const answers = await drainUntilDone(before.master.node!);
      console.log(`# cordon: master moved after ${answers.length} call(s), ${Date.now() - started} ms`);
      assert.deepEqual(outcomes(answers).at(-1), 'switched-over', JSON.stringify(answers));
      assert.match(
        answers.at(-1)!.clusters[0]!.message,
        new RegExp(
          `^switched over from ${before.master.name} on node ${before.master.node} ` +
            `\\(going away: unschedulable\\) to ${before.replica.name}`,
        ),
      );

      const afterMove = await settled('the master label follows the switchover', before.replica.name);
      assert.equal(clusterLeader(afterMove.view)?.name, before.replica.name, "Patroni's leader is the former replica");
      assert.equal(afterMove.master.node, before.replica.node);
      assert.ok(
        (await events('Switchover')).some((m) =>
          m.startsWith(
            `Switched over from ${before.master.name} on node ${before.master.node} ` +
              `(going away: unschedulable) to ${before.replica.name}`,
          ),
        ),
        'an Event says why',
      );

      // Idempotent: the master is off the node, so a second call reads and writes nothing.
      client.counter.reset();
      const again = await drainNode({ ...syncContext(client, config) }, before.master.node!, [namespace]);
      assert.equal(client.counter.writes(), 0, `writes: ${JSON.stringify(client.counter.snapshot())}`);
      assert.deepEqual([again.goingAway, again.clusters, again.retryable], [true, [], false]);
      const viaExport = await callOnNodeDrain(before.master.node!);
      assert.equal(viaExport.status, 200);

      // The drain goes on: the old master is a replica now, selected by no PDB, so it can be evicted; the new
      // master is protected like the old one was.
      await masterPdbCounted();
      assert.equal(await evict(afterMove.master.name), 429, 'the new master is protected by the PDB');
      assert.equal(await evict(before.master.name), 201, 'the old master, now a replica, is evicted');
      const back = await settled(
        'the evicted pod comes back as a replica on a schedulable node',
        before.replica.name,
        before.master,
      );
      assert.notEqual(back.replica.node, before.master.node, 'not on the cordoned node');
    } finally {
      await run(['uncordon', before.master.node!]);
    }
  },
);

test(
  "remove node_readiness_label from the master's node: the master moves; pods never land on an unlabelled node",
  { skip, timeout: 300_000 },
  async () => {
    const before = await settled('a settled cluster');
    const free = NODES.find((n) => n !== before.master.node && n !== before.replica.node)!;
    await unlabel(before.master.node!);
    try {
      const answers = await drainUntilDone(before.master.node!);
      assert.equal(outcomes(answers).at(-1), 'switched-over');
      assert.match(
        answers.at(-1)!.clusters[0]!.message,
        new RegExp(`going away: missing label ${READY_LABEL}=ready\\) to ${before.replica.name}`),
      );
      const moved = await settled('the master moved to the replica', before.replica.name);

      // Only the new master's node keeps the label: the old master's replacement has nowhere to go.
      await unlabel(free);
      await run(['delete', 'pod', '-n', namespace, moved.replica.name, '--wait=false']);
      const pending = await until(
        'the replacement pod is Pending, unschedulable',
        60_000,
        async () => {
          const pod = await client.get({ kind: 'Pod', namespace, name: moved.replica.name });
          const scheduled = (pod?.status?.conditions as KubeObject[] | undefined)?.find(
            (c) => c.type === 'PodScheduled',
          );
          return pod && pod.metadata!.uid !== moved.replica.uid && scheduled?.status === 'False'
            ? { pod, scheduled }
            : undefined;
        },
        logs,
      );
      assert.equal(pending.pod.spec.nodeName, undefined, 'not bound to any node');
      assert.match(pending.scheduled.message as string, /2 node\(s\) didn't match Pod's node affinity\/selector/);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(
        (await client.get({ kind: 'Pod', namespace, name: moved.replica.name }))?.spec.nodeName,
        undefined,
        'still Pending: the scheduler never places it on a node without the label',
      );

      await label(free);
      const back = await settled('the replacement runs on the node labelled again', before.replica.name, moved.replica);
      assert.equal(back.replica.node, free);
    } finally {
      for (const node of NODES) await label(node);
    }
  },
);

test(
  'cordon both nodes of the cluster: the replica is recreated on the third node first, then the master moves',
  { skip, timeout: 300_000 },
  async () => {
    const before = await settled('a settled cluster');
    const free = NODES.find((n) => n !== before.master.node && n !== before.replica.node)!;
    await run(['cordon', before.master.node!]);
    await run(['cordon', before.replica.node!]);
    try {
      const started = Date.now();
      const answers = await drainUntilDone(before.master.node!);
      const seen = outcomes(answers);
      console.log(`# both cordoned: ${answers.length} call(s) (${seen.join(', ')}), ${Date.now() - started} ms`);
      assert.equal(seen[0], 'recreated', 'first the replica on a node going away is recreated');
      assert.equal(seen.filter((o) => o === 'recreated').length, 1, 'once');
      assert.equal(seen.at(-1), 'switched-over');
      assert.ok(
        seen.slice(1, -1).every((o) => o === 'waiting'),
        `between them the calls wait: ${seen.join(', ')}`,
      );

      const after = await settled('the master moved to the recreated replica', before.replica.name);
      assert.notEqual(after.master.uid, before.replica.uid, 'the replica pod was recreated');
      assert.equal(after.master.node, free, 'on the node that is not going away');
      assert.equal(
        after.replica.name,
        before.master.name,
        'the old master stays, as a replica, for the drain to evict',
      );
      assert.ok(
        (await events('NodeDrain')).some((m) =>
          m.startsWith(`Deleted pod ${before.replica.name}: master ${before.master.name} `),
        ),
      );
    } finally {
      await run(['uncordon', before.master.node!]);
      await run(['uncordon', before.replica.node!]);
    }
  },
);

test(
  'a single-instance master on a cordoned node is not deleted: one Warning Event, and the PDB holds its eviction',
  { skip, timeout: 120_000 },
  async () => {
    // Another namespace, without Patroni: the single-instance path decides from the pods alone. The pod is labelled
    // master by hand, as Patroni would.
    const single = await createNamespace('node-drain-single');
    const cluster = 'acid-single';
    let node: string | undefined;
    try {
      await applyManifest(
        {
          ...reference('v2.0.1/minimal-postgres-manifest.yaml'),
          metadata: { name: cluster },
          spec: { ...reference('v2.0.1/minimal-postgres-manifest.yaml').spec, numberOfInstances: 1 },
        },
        single,
      );
      await syncCluster(syncContext(client, config), single, cluster);
      const pod = await until(
        'the single pod is scheduled',
        60_000,
        async () => {
          const p = await client.get({ kind: 'Pod', namespace: single, name: `${cluster}-0` });
          return p?.spec?.nodeName && p.status?.phase === 'Running' ? p : undefined;
        },
        () => 'the pod never ran',
      );
      node = pod.spec.nodeName as string;
      await run(['label', 'pod', '-n', single, pod.metadata!.name!, 'spilo-role=master']);
      await run(['cordon', node]);

      const ctx = syncContext(client, config);
      const first = await drainNode(ctx, node, [single]);
      assert.deepEqual(
        first.clusters.map((c) => [c.cluster, c.outcome, c.pending]),
        [[cluster, 'single-instance', true]],
      );
      assert.deepEqual(
        [first.retryable, first.retryAfterSeconds],
        [true, 60],
        'retried slowly: the next call after an administrator acts finds the pod gone or a replica to switch over to',
      );
      const warnings = async () =>
        (await client.list('Event', single)).filter(
          (e) => e.involvedObject?.name === cluster && e.reason === 'NodeDrain' && e.type === 'Warning',
        );
      const recorded = await warnings();
      assert.equal(recorded.length, 1);
      assert.match(
        recorded[0]!.message as string,
        /single-instance cluster: its master acid-single-0 runs on node .* cannot move without downtime.*delete pod acid-single-0/,
      );

      client.counter.reset();
      await drainNode(ctx, node, [single]);
      assert.equal((await warnings()).length, 1, 'the Warning is recorded once per node and pod');
      assert.deepEqual(
        [client.counter.writes(), client.counter.byResource.get('get Event')],
        [0, 1],
        'no write request: the Event is found by its name (one GET)',
      );
      assert.equal(
        (await client.get({ kind: 'Pod', namespace: single, name: `${cluster}-0` }))?.metadata!.uid,
        pod.metadata!.uid,
        'the pod was not deleted',
      );

      await until(
        'the master PDB counts the pod',
        60_000,
        async () => {
          const pdb = await client.get({
            kind: 'PodDisruptionBudget',
            namespace: single,
            name: `postgres-${cluster}-pdb`,
          });
          return pdb?.status?.currentHealthy === 1 && pdb.status.observedGeneration === pdb.metadata!.generation
            ? true
            : undefined;
        },
        () => 'the disruption controller never counted the pod',
      );
      try {
        await client.request({
          verb: 'create',
          kind: 'Pod',
          method: 'POST',
          path: `${resourcePath('Pod', single, `${cluster}-0`)}/eviction`,
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: `${cluster}-0`, namespace: single } },
        });
        assert.fail('the eviction went through');
      } catch (error) {
        assert.equal((error as KubeApiError).status, 429, 'the master PDB holds the drain');
      }

      // The administrator deletes the pod: it comes back on a schedulable node, and the drain call is done.
      await run(['delete', 'pod', '-n', single, `${cluster}-0`, '--wait=false']);
      const moved = await until(
        'the pod runs on another node',
        60_000,
        async () => {
          const p = await client.get({ kind: 'Pod', namespace: single, name: `${cluster}-0` });
          return p && p.metadata!.uid !== pod.metadata!.uid && p.spec?.nodeName ? p : undefined;
        },
        () => 'the pod never came back',
      );
      assert.notEqual(moved.spec.nodeName, node, 'not on the cordoned node');
      await run(['label', 'pod', '-n', single, `${cluster}-0`, 'spilo-role=master']);
      const done = await drainNode(ctx, node, [single]);
      assert.deepEqual([done.clusters, done.retryable], [[], false]);
    } finally {
      if (node) await run(['uncordon', node]);
      await deleteNamespace(single);
    }
  },
);
