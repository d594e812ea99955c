// The rolling update and the fleet-wide rollout slots, on the real apiserver, with two single-instance clusters
// (their step needs no Patroni) and rollout_clusters_at_once=1:
// - the second cluster waits for the slot, and while it waits each call reads the slot Leases and nothing else;
// - the first keeps its slot until its recreated pod is back and ready, renewing it however long that takes, and
//   turns Stalled (one Warning Event) once it has waited rollout_progress_deadline without a step;
// - it frees the slot when it completes, and the second one goes;
// - pausing a cluster that holds the slot frees it at once;
// - outside its maintenance windows a cluster takes no step (and no slot) until a window begins.
// The pods are made by hand (no kubelet on this plane); the condition each call returns is put into the object's
// status the way syncCluster writes it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROLLING_UPDATE_ANNOTATION } from '../../lib/builders';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { ROLLING_UPDATE_PAUSED_ANNOTATION } from '../../lib/model/annotations';
import { defaultOperatorConfig } from '../../lib/model/config';
import type { Postgresql } from '../../lib/model/postgresql';
import { acquireLease, DEFAULT_LEASE_TIMING, HeldLease } from '../../lib/k8s/lease';
import { rollingUpdateStep, type RolloutOutcome } from '../../lib/sync/rollout/rolling-update';
import { slotName } from '../../lib/sync/rollout/slots';
import { applyManifest, installCrd, syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace } from './testenv';
import type { SyncContext } from '../../lib/sync/context';
import { clusterLeaseTarget } from '../../lib/builders/lease';

const SECOND = 1000;

describe('rolling update with rollout slots', { timeout: 60_000 }, () => {
  let client: KubeClient;
  let ns = '';
  let operatorNs = '';
  let ctx: SyncContext;
  let now = Date.parse('2030-01-01T00:00:00Z');
  /** the object as syncCluster would have left it: status.conditions holds the last condition returned */
  const objects = new Map<string, KubeObject>();

  before(async () => {
    client = testClient();
    await installCrd();
    ns = await createNamespace('ru-slots');
    operatorNs = await createNamespace('ru-slots-op');
    ctx = {
      ...syncContext(client, { ...defaultOperatorConfig(), rollout_clusters_at_once: 1 }),
      now: () => new Date(now),
      operatorNamespace: operatorNs,
    };
    for (const name of ['acid-first', 'acid-second']) {
      await applyManifest(
        {
          apiVersion: 'acid.zalan.do/v1',
          kind: 'postgresql',
          metadata: { name },
          spec: { teamId: 'acid', numberOfInstances: 1, volume: { size: '1Gi' }, postgresql: { version: '16' } },
        },
        ns,
      );
      objects.set(name, (await client.get({ kind: 'postgresql', namespace: ns, name }))!);
      await createPod(name, true);
    }
  });
  after(async () => {
    client?.close();
    for (const namespace of [ns, operatorNs]) if (namespace) await deleteNamespace(namespace);
  });

  /** A Running, Ready pod `<cluster>-0` with the cluster's labels, flagged or not. */
  async function createPod(cluster: string, flagged: boolean): Promise<void> {
    const name = `${cluster}-0`;
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ns,
        labels: { application: 'spilo', 'cluster-name': cluster, 'spilo-role': 'master' },
        annotations: flagged ? { [ROLLING_UPDATE_ANNOTATION]: 'true' } : {},
      },
      spec: { containers: [{ name: 'postgres', image: 'spilo' }] },
    });
    await client.mergePatch(
      { kind: 'Pod', namespace: ns, name },
      {
        status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
      },
      'status',
    );
  }

  /** One call of the step for a cluster, under its Lease, as syncCluster makes it; keeps the condition it returns. */
  async function step(cluster: string): Promise<RolloutOutcome> {
    const raw = objects.get(cluster)!;
    const pods = await client.list('Pod', ns, `cluster-name=${cluster}`);
    const lease = await acquireLease(
      client,
      clusterLeaseTarget(raw.metadata as { name: string; namespace: string; uid?: string }, ctx.config),
      'test',
      DEFAULT_LEASE_TIMING,
      ctx.now,
    );
    assert.ok(lease instanceof HeldLease);
    try {
      const outcome = await rollingUpdateStep(ctx, raw, raw as Postgresql, pods, 1, lease);
      if (outcome.condition) raw.status = { ...raw.status, conditions: [outcome.condition] };
      return outcome;
    } finally {
      await lease.release();
    }
  }
  const reasonOf = (outcome: RolloutOutcome) => outcome.condition?.reason;
  const slotHolder = async () =>
    (
      (await client.get<KubeObject>({ kind: 'Lease', namespace: operatorNs, name: slotName(0) }))?.spec as
        { holderIdentity?: string } | undefined
    )?.holderIdentity;

  it("one cluster at a time: the second waits, reading only the slots, until the first one's pod is back", async () => {
    const first = await step('acid-first');
    assert.equal(reasonOf(first), 'InProgress', JSON.stringify(first));
    assert.match(first.events[0]!.message, /Recreating pod acid-first-0 \(the cluster is down until it is back\)/);
    assert.equal(
      await client.get({ kind: 'Pod', namespace: ns, name: 'acid-first-0' }),
      undefined,
      'the pod was deleted',
    );
    assert.equal(await slotHolder(), `${ns}/acid-first`);

    const second = await step('acid-second');
    assert.equal(reasonOf(second), 'WaitingForSlot');
    assert.equal(
      second.condition!.message,
      `1 clusters are rolling out (rollout_clusters_at_once=1): ${ns}/acid-first`,
    );
    assert.ok(second.pending);
    assert.notEqual(
      await client.get({ kind: 'Pod', namespace: ns, name: 'acid-second-0' }),
      undefined,
      'its pod stays',
    );

    // In line: the step itself makes one read (the slot Leases) and no write.
    const raw = objects.get('acid-second')!;
    const pods = await client.list('Pod', ns, 'cluster-name=acid-second');
    client.counter.reset();
    const waiting = await rollingUpdateStep(ctx, raw, raw as Postgresql, pods, 1, undefined);
    assert.equal(reasonOf(waiting), 'WaitingForSlot');
    assert.deepEqual(Object.fromEntries(client.counter.byResource), { 'list Lease': 1 });

    // The first cluster's pod is gone (no StatefulSet controller here) for 20 min: it keeps its slot all along, and
    // past rollout_progress_deadline (10 min) without a step it turns Stalled, with one Warning Event.
    const reasons: Array<string | undefined> = [];
    const stalledEvents: string[] = [];
    let stalledCondition: unknown;
    for (let i = 0; i < 8; i++) {
      now += 150 * SECOND;
      const back = await step('acid-first');
      reasons.push(reasonOf(back));
      stalledEvents.push(
        ...back.events.filter((e) => e.reason === 'RollingUpdateStalled').map((e) => `${e.type}: ${e.message}`),
      );
      assert.ok(back.pending, 'it goes on waiting');
      if (reasonOf(back) === 'Waiting') assert.equal(back.condition!.message, '0 of 1 pods exist');
      else if (stalledCondition)
        assert.deepEqual(back.condition, stalledCondition, 'still stalled: the same condition, no status write');
      else stalledCondition = back.condition;
      assert.equal(reasonOf(await step('acid-second')), 'WaitingForSlot');
    }
    assert.deepEqual(reasons, ['Waiting', 'Waiting', 'Waiting', 'Waiting', 'Stalled', 'Stalled', 'Stalled', 'Stalled']);
    assert.equal(
      (stalledCondition as RolloutOutcome['condition'])!.message,
      'no step within rollout_progress_deadline (10 min): 0 of 1 pods exist',
    );
    assert.deepEqual(stalledEvents, [
      'Warning: Rolling update stalled, no step for 12 min: 0 of 1 pods exist. While it waits ' +
        "it keeps its rollout slot, so other clusters' rollouts may wait too; fix what it waits for, or pause it with " +
        'acid.zalan.do/rolling-update-paused: "true"',
    ]);
    assert.equal(await slotHolder(), `${ns}/acid-first`);

    // Its pod comes back unflagged and ready: Completed, the slot is free, and the second cluster goes.
    await createPod('acid-first', false);
    const done = await step('acid-first');
    assert.equal(reasonOf(done), 'Completed');
    assert.equal(done.condition!.status, 'False');
    assert.deepEqual(
      done.events.map((e) => e.reason),
      ['RollingUpdateCompleted'],
    );
    assert.equal(await slotHolder(), undefined);
    const goes = await step('acid-second');
    assert.equal(reasonOf(goes), 'InProgress', JSON.stringify(goes));
    assert.equal(await slotHolder(), `${ns}/acid-second`);
  });

  it('pausing the cluster that holds the slot frees it at once', async () => {
    const raw = objects.get('acid-second')!;
    raw.metadata!.annotations = { ...raw.metadata!.annotations, [ROLLING_UPDATE_PAUSED_ANNOTATION]: 'true' };
    await createPod('acid-second', true); // flagged again, e.g. a newer image
    const paused = await step('acid-second');
    assert.equal(reasonOf(paused), 'Paused');
    assert.equal(await slotHolder(), undefined);
    client.counter.reset();
    const again = await rollingUpdateStep(
      ctx,
      raw,
      raw as Postgresql,
      await client.list('Pod', ns, 'cluster-name=acid-second'),
      1,
      undefined,
    );
    assert.equal(reasonOf(again), 'Paused');
    assert.deepEqual(
      Object.fromEntries(client.counter.byResource),
      { 'list Pod': 1 },
      'still paused: no request but listing the pods',
    );
  });

  it('outside its maintenance windows a cluster takes no step and holds no slot; once a window begins it goes on', async () => {
    const raw = objects.get('acid-second')!;
    delete raw.metadata!.annotations![ROLLING_UPDATE_PAUSED_ANNOTATION];
    (raw as Postgresql).spec.maintenanceWindows = ['Sat:01:00-02:00'];
    now = Date.parse('2030-01-01T12:00:00Z'); // a Tuesday
    const deferred = await step('acid-second');
    assert.equal(reasonOf(deferred), 'WaitingForMaintenanceWindow');
    const message =
      'outside the maintenance windows (Sat:01:00-02:00): the next one starts Sat 2030-01-05 01:00 UTC; ' +
      'pods acid-second-0 wait';
    assert.equal(deferred.condition!.message, message);
    assert.deepEqual(deferred.events, [
      { type: 'Normal', reason: 'RollingUpdateDeferred', message: `Rolling update deferred: ${message}` },
    ]);
    assert.equal(deferred.pending, undefined, 'nothing to retry before the window: periodic sync looks again');
    assert.notEqual(
      await client.get({ kind: 'Pod', namespace: ns, name: 'acid-second-0' }),
      undefined,
      'its pod stays',
    );
    assert.equal(await slotHolder(), undefined);

    // Again before the window: no request at all, the same condition (no status write), no Event.
    now += 3600 * SECOND;
    const pods = await client.list('Pod', ns, 'cluster-name=acid-second');
    client.counter.reset();
    const again = await rollingUpdateStep(ctx, raw, raw as Postgresql, pods, 1, undefined);
    assert.deepEqual(Object.fromEntries(client.counter.byResource), {});
    assert.deepEqual(again.condition, deferred.condition);
    assert.deepEqual(again.events, []);

    now = Date.parse('2030-01-05T01:00:00Z');
    const goes = await step('acid-second');
    assert.equal(reasonOf(goes), 'InProgress', JSON.stringify(goes));
    assert.equal(await slotHolder(), `${ns}/acid-second`);
    assert.equal(
      await client.get({ kind: 'Pod', namespace: ns, name: 'acid-second-0' }),
      undefined,
      'the pod was deleted',
    );
  });
});
