// The event bridge against the real control plane, delivering to a real local HTTP server that records every
// request: postgresql create/update/delete, a burst of updates, 503 then success, a restart, ConfigMap changes
// (including a new watched namespace) and a cordoned Node.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { startBridge, type Bridge, type BridgeOptions } from '../../lib/bridge/bridge';
import { counterValue } from '../../lib/bridge/metrics';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { silentLogger } from '../../lib/log/logger';
import { FUNCTIONS } from '../../lib/registry/functions';
import { installCrd, reference, repoRoot, testClient } from './operator';
import { createNamespace, deleteNamespace } from './testenv';

/** One request the recorder received. */
interface Received {
  fn: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** the request parsed as a CloudEvent, when it is one */
  event?: CloudEventV1<KubeObject>;
  /** ms since the epoch */
  at: number;
}

type Answer = { status: number; headers?: Record<string, string>; delayMs?: number; after?: Promise<void> };

/** A local HTTP server standing in for the six functions: `/<function name>`; records and answers as told. */
class Recorder {
  readonly received: Received[] = [];
  /** answers per function: `(request) => answer`; default 200 */
  readonly answers = new Map<string, (r: Received) => Answer>();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const fn = (req.url ?? '/').slice(1);
      const body = Buffer.concat(chunks).toString('utf8');
      const record: Received = { fn, headers: req.headers, body, at: Date.now() };
      if (req.headers['ce-type']) {
        const event = HTTP.toEvent({ headers: req.headers, body });
        if (!Array.isArray(event)) record.event = event as CloudEventV1<KubeObject>;
      }
      this.received.push(record);
      const answer = this.answers.get(fn)?.(record) ?? { status: 200 };
      const reply = () =>
        setTimeout(() => res.writeHead(answer.status, answer.headers).end('{"ok":true}'), answer.delayMs ?? 0);
      if (answer.after) void answer.after.then(reply);
      else reply();
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  targets(): Record<string, string> {
    const { port } = this.server.address() as AddressInfo;
    return Object.fromEntries(FUNCTIONS.map((f) => [f.name, `http://127.0.0.1:${port}/${f.name}`]));
  }

  /** @returns the requests to a function about one object (by the ce-name extension) */
  about(fn: string, name: string): Received[] {
    return this.received.filter((r) => r.fn === fn && r.event?.name === name);
  }

  /** Waits until `check` returns something truthy; fails after timeoutMs naming what it waited for. */
  async waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      const found = check();
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(
      `timed out waiting for ${what}; received: ${JSON.stringify(this.received.map((r) => `${r.fn} ${r.event?.type ?? ''} ${r.event?.name ?? ''}`))}`,
    );
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('event bridge', () => {
  let client: KubeClient;
  let namespace: string;
  let recorder: Recorder;
  let bridge: Bridge | undefined;
  const nodeName = `bridge-node-${process.pid}`;

  const cluster = (name: string, instances = 1): KubeObject => {
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml') as KubeObject;
    return { ...manifest, metadata: { name, namespace }, spec: { ...manifest.spec, numberOfInstances: instances } };
  };
  const options = (): BridgeOptions => ({
    client,
    targets: recorder.targets(),
    log: silentLogger,
    port: 0,
    schedule: false,
    env: { OPERATOR_NAMESPACE: namespace, CONFIG_MAP_NAME: 'postgres-operator' },
    coalesceMs: 200,
    retry: { minMs: 50, maxMs: 1_000 },
    graceMs: 1_000,
  });
  const annotate = (name: string, value: string, ns = namespace) =>
    client.mergePatch(
      { kind: 'postgresql', namespace: ns, name },
      { metadata: { annotations: { 'test/value': value } } },
    );

  before(async () => {
    await installCrd();
    client = testClient();
    namespace = await createNamespace('bridge');
    recorder = new Recorder();
    await recorder.start();
    bridge = await startBridge(options());
    await bridge.ready;
  });

  after(async () => {
    await bridge?.stop();
    await recorder?.close();
    await client?.delete({ kind: 'Node', name: nodeName });
    await deleteNamespace(namespace);
    client?.close();
  });

  test('healthz answers 200 after the initial lists; metrics are served', async () => {
    const health = await fetch(`http://127.0.0.1:${bridge!.port}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${bridge!.port}/metrics`)).text();
    assert.match(metrics, /bridge_deliveries_total/);
    assert.match(metrics, /bridge_queue_depth 0/);
  });

  test('create, update and delete reach on-create, on-update and on-delete with the object', async (t) => {
    const t0 = Date.now();
    await client.create(cluster('acid-crud'));
    const [added] = await recorder.waitFor(
      'on-create add',
      () => recorder.about('on-create', 'acid-crud').length > 0 && recorder.about('on-create', 'acid-crud'),
    );
    t.diagnostic(`create → on-create: ${added!.at - t0} ms`);
    assert.equal(added!.event!.type, 'dev.knative.apiserver.resource.add');
    assert.equal(added!.event!.namespace, namespace);
    assert.equal(added!.event!.kind, 'postgresql');
    assert.equal(added!.event!.data!.spec.numberOfInstances, 1);
    assert.equal(added!.event!.data!.metadata!.managedFields, undefined);
    assert.equal(added!.headers['event-id'], added!.event!.id);
    assert.equal(added!.headers['event-type'], 'application/json');

    const t1 = Date.now();
    await client.mergePatch({ kind: 'postgresql', namespace, name: 'acid-crud' }, { spec: { numberOfInstances: 3 } });
    const updated = await recorder.waitFor('on-update with 3 instances', () =>
      recorder.about('on-update', 'acid-crud').find((r) => r.event!.data!.spec.numberOfInstances === 3),
    );
    t.diagnostic(`update → on-update: ${updated.at - t1} ms (coalescing window 200 ms)`);
    assert.equal(updated.event!.type, 'dev.knative.apiserver.resource.update');

    const t2 = Date.now();
    await client.delete({ kind: 'postgresql', namespace, name: 'acid-crud' });
    const [deleted] = await recorder.waitFor(
      'on-delete',
      () => recorder.about('on-delete', 'acid-crud').length > 0 && recorder.about('on-delete', 'acid-crud'),
    );
    t.diagnostic(`delete → on-delete: ${deleted!.at - t2} ms`);
    assert.equal(deleted!.event!.type, 'dev.knative.apiserver.resource.delete');
    assert.equal(deleted!.event!.data!.spec.numberOfInstances, 3, 'the last known state');
    assert.equal(recorder.about('on-create', 'acid-crud').length, 1);
  });

  test('a burst of 20 updates becomes far fewer deliveries, the last one with the final state', async (t) => {
    await client.create(cluster('acid-burst'));
    await recorder.waitFor('on-create', () => recorder.about('on-create', 'acid-burst').length > 0);
    // A handler still busy with the first update until the burst is over: whatever arrives meanwhile waits
    // behind it and merges, however slow the machine is.
    let burstDone!: () => void;
    const busy = new Promise<void>((resolve) => {
      burstDone = resolve;
    });
    recorder.answers.set('on-update', () => ({ status: 200, after: busy }));
    try {
      for (let i = 1; i <= 20; i++) await annotate('acid-burst', String(i));
      burstDone();
      await recorder.waitFor('the final state', () =>
        recorder
          .about('on-update', 'acid-burst')
          .find((r) => r.event!.data!.metadata!.annotations?.['test/value'] === '20'),
      );
      await bridge!.idle();
      const deliveries = recorder.about('on-update', 'acid-burst');
      t.diagnostic(
        `20 updates → ${deliveries.length} on-update deliveries: ${deliveries.map((r) => r.event!.data!.metadata!.annotations?.['test/value']).join(', ')}`,
      );
      assert.ok(
        deliveries.length <= 2,
        `${deliveries.length} deliveries for 20 updates: one in flight, one merged behind it`,
      );
      assert.equal(deliveries.at(-1)!.event!.data!.metadata!.annotations!['test/value'], '20');
      const values = deliveries.map((r) => Number(r.event!.data!.metadata!.annotations!['test/value']));
      assert.deepEqual(
        values,
        [...values].sort((a, b) => a - b),
        'in order',
      );
    } finally {
      burstDone();
      recorder.answers.delete('on-update');
    }
  });

  test('503 with Retry-After, then 200: the same event is delivered once more', async () => {
    await client.create(cluster('acid-retry'));
    await recorder.waitFor('on-create', () => recorder.about('on-create', 'acid-retry').length > 0);
    let calls = 0;
    recorder.answers.set('on-update', (r) =>
      r.event?.name === 'acid-retry' && calls++ === 0
        ? { status: 503, headers: { 'retry-after': '1' } }
        : { status: 200 },
    );
    const retriesBefore = await counterValue(bridge!.metrics.retries, { function: 'on-update', reason: '503' });
    try {
      await annotate('acid-retry', 'once');
      const [first, second] = await recorder.waitFor(
        'two on-update requests',
        () => recorder.about('on-update', 'acid-retry').length >= 2 && recorder.about('on-update', 'acid-retry'),
      );
      assert.equal(second!.event!.id, first!.event!.id, 'a retry of the same event, not a new one');
      assert.ok(second!.at - first!.at >= 900, `Retry-After 1 s honoured (${second!.at - first!.at} ms)`);
      await bridge!.idle();
      assert.equal(recorder.about('on-update', 'acid-retry').length, 2);
      assert.equal(
        await counterValue(bridge!.metrics.retries, { function: 'on-update', reason: '503' }),
        retriesBefore + 1,
      );
    } finally {
      recorder.answers.delete('on-update');
    }
  });

  test('after a restart, objects changed while the bridge was down are delivered', async () => {
    await client.create(cluster('acid-before'));
    await recorder.waitFor('on-create', () => recorder.about('on-create', 'acid-before').length > 0);
    await bridge!.stop();
    bridge = undefined;
    await client.create(cluster('acid-while-down'));
    await client.mergePatch({ kind: 'postgresql', namespace, name: 'acid-before' }, { spec: { numberOfInstances: 2 } });
    const seen = recorder.received.length;

    bridge = await startBridge(options());
    await bridge.ready;
    const created = await recorder.waitFor(
      'add of the new object',
      () => recorder.about('on-create', 'acid-while-down')[0],
    );
    assert.equal(created.event!.type, 'dev.knative.apiserver.resource.add');
    const changed = await recorder.waitFor('add of the changed object', () =>
      recorder.received.slice(seen).find((r) => r.fn === 'on-create' && r.event?.name === 'acid-before'),
    );
    assert.equal(changed.event!.data!.spec.numberOfInstances, 2, 'its current state');
  });

  test('after a restart, clusters synced before (they have a status) are covered by one fleet sync, not a sync each', async () => {
    const known = ['acid-known-a', 'acid-known-b', 'acid-known-c'];
    for (const name of known) {
      await client.create(cluster(name));
      await client.mergePatch(
        { kind: 'postgresql', namespace, name },
        { status: { PostgresClusterStatus: 'Running' } },
        'status',
      );
    }
    await recorder.waitFor('on-create of each', () => known.every((n) => recorder.about('on-create', n).length > 0));
    await bridge!.stop();
    bridge = undefined;
    await client.create(cluster('acid-new-while-down'));
    const seen = recorder.received.length;

    bridge = await startBridge(options());
    await bridge.ready;
    await recorder.waitFor('on-create of the new object', () => recorder.about('on-create', 'acid-new-while-down')[0]);
    const fleet = await recorder.waitFor('a fleet sync', () =>
      recorder.received.slice(seen).find((r) => r.fn === 'periodic-sync'),
    );
    assert.equal(fleet.headers['event-namespace'], 'cronjobtrigger.kubeless.io', 'the cron event');
    await sleep(1_000);
    const after = recorder.received.slice(seen);
    assert.deepEqual(
      after
        .filter((r) => r.fn === 'on-create' && known.includes(String(r.event?.name ?? '')))
        .map((r) => r.event?.name),
      [],
      'no sync of its own for a cluster synced before',
    );
    assert.equal(after.filter((r) => r.fn === 'periodic-sync').length, 1, 'one fleet sync for the whole list');
  });

  test('the operator ConfigMap: add and update reach on-operator-config-change; a new watched namespace is followed', async () => {
    const other = await createNamespace('bridge-other');
    try {
      await client.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'postgres-operator', namespace },
        data: { workers: '4' },
      });
      const added = await recorder.waitFor(
        'config add',
        () => recorder.about('on-operator-config-change', 'postgres-operator')[0],
      );
      assert.equal(added.event!.type, 'dev.knative.apiserver.resource.add');
      assert.equal(added.event!.data!.data.workers, '4');

      await client.mergePatch(
        { kind: 'ConfigMap', namespace, name: 'postgres-operator' },
        { data: { watched_namespace: `${namespace},${other}` } },
      );
      const updated = await recorder.waitFor('config update', () =>
        recorder
          .about('on-operator-config-change', 'postgres-operator')
          .find((r) => r.event!.type === 'dev.knative.apiserver.resource.update'),
      );
      assert.equal(updated.event!.data!.data.watched_namespace, `${namespace},${other}`);
      await recorder.waitFor(
        'both namespaces watched',
        () => JSON.stringify(bridge!.settings().namespaces) === JSON.stringify([namespace, other]),
      );

      await client.create({ ...cluster('acid-other'), metadata: { name: 'acid-other', namespace: other } });
      const inOther = await recorder.waitFor(
        'on-create in the other namespace',
        () => recorder.about('on-create', 'acid-other')[0],
      );
      assert.equal(inOther.event!.namespace, other);
      const unrelated = recorder.received.filter(
        (r) => r.fn === 'on-operator-config-change' && r.event?.name !== 'postgres-operator',
      );
      assert.deepEqual(unrelated, [], 'only the operator ConfigMap is watched');
    } finally {
      await deleteNamespace(other);
    }
  });

  test('cordoning a Node reaches on-node-drain once', async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } },
    });
    await sleep(500);
    assert.equal(recorder.about('on-node-drain', nodeName).length, 0, 'a new node is not going away');
    await client.mergePatch({ kind: 'Node', name: nodeName }, { spec: { unschedulable: true } });
    const drained = await recorder.waitFor('on-node-drain', () => recorder.about('on-node-drain', nodeName)[0]);
    assert.equal(drained.event!.type, 'dev.knative.apiserver.resource.update');
    assert.equal(drained.event!.kind, 'Node');
    assert.equal(drained.event!.data!.spec.unschedulable, true);
    // The node controller's taint follows a cordon: still the same drain.
    await client.mergePatch(
      { kind: 'Node', name: nodeName },
      { spec: { taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } },
    );
    await client.mergePatch({ kind: 'Node', name: nodeName }, { metadata: { labels: { touched: 'yes' } } });
    await sleep(1_000);
    await bridge!.idle();
    assert.equal(recorder.about('on-node-drain', nodeName).length, 1);
  });

  test("a cluster's StatefulSet turning Ready reaches on-update of the cluster; the operator's own writes do not", async () => {
    const name = 'acid-readiness';
    const statefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace, labels: { application: 'spilo', 'cluster-name': name } },
      spec: {
        replicas: 2,
        serviceName: name,
        selector: { matchLabels: { application: 'spilo', 'cluster-name': name } },
        template: {
          metadata: { labels: { application: 'spilo', 'cluster-name': name } },
          spec: { containers: [{ name: 'postgres', image: 'example.invalid/spilo' }] },
        },
      },
    };
    await client.create(statefulSet);
    await sleep(500);
    await bridge!.idle();
    const before = recorder.about('on-update', name).length;
    // What the operator writes (an annotation): not a readiness change, no delivery.
    await client.mergePatch(
      { kind: 'StatefulSet', namespace, name },
      { metadata: { annotations: { 'acid.zalan.do/desired-hash': 'x' } } },
    );
    await sleep(700);
    await bridge!.idle();
    assert.equal(recorder.about('on-update', name).length, before, 'our own write is not work');
    // What the StatefulSet controller writes when pods turn Ready (no controller runs on this plane: done by hand).
    await client.mergePatch(
      { kind: 'StatefulSet', namespace, name },
      { status: { observedGeneration: 1, replicas: 2, readyReplicas: 2, availableReplicas: 2 } },
      'status',
    );
    const delivered = await recorder.waitFor(
      'on-update for the readiness change',
      () => recorder.about('on-update', name).slice(before)[0],
    );
    assert.equal(delivered.event!.kind, 'StatefulSet');
    assert.equal(delivered.event!.type, 'dev.knative.apiserver.resource.update');
    assert.equal(delivered.headers['ce-readinesswatch'], 'statefulset');
    await client.delete({ kind: 'StatefulSet', namespace, name });
  });

  test('as a process (tsx lib/bridge/main.ts): configured by env, delivers, exits 0 on SIGTERM', async () => {
    await bridge?.stop(); // one bridge at a time on the recorder
    bridge = undefined;
    const child = spawn(`${repoRoot}node_modules/.bin/tsx`, ['lib/bridge/main.ts'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        OPERATOR_NAMESPACE: namespace,
        CONFIG_MAP_NAME: 'postgres-operator',
        WATCHED_NAMESPACE: namespace,
        BRIDGE_TARGETS: JSON.stringify(recorder.targets()),
        BRIDGE_PORT: '0',
        PERIODIC_SYNC_SCHEDULE: 'off',
        BRIDGE_WATCH_NODES: 'false',
      },
    });
    const lines: Record<string, unknown>[] = [];
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts.filter(Boolean)) lines.push(line.startsWith('{') ? JSON.parse(line) : { msg: line });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await recorder.waitFor(
        'the process bridge to be ready',
        () => lines.some((l) => l.msg === 'bridge ready: initial lists delivered'),
        60_000,
      );
      const port = lines.find((l) => l.msg === 'bridge started')!.metricsPort;
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      await client.create(cluster('acid-process'));
      const created = await recorder.waitFor(
        'on-create from the process',
        () => recorder.about('on-create', 'acid-process')[0],
      );
      assert.equal(created.event!.type, 'dev.knative.apiserver.resource.add');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.ok(lines.some((l) => l.msg === 'bridge stopped'));
  });
});
