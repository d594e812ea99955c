// Fleet-wide rollout slots on the real apiserver: at most rollout_clusters_at_once clusters hold a slot, a freed slot
// waits rollout_cluster_delay, a holder's repeated calls make no write, and concurrent takers never share a slot.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { defaultOperatorConfig } from '../../lib/model/config';
import {
  keepRolloutSlot,
  peekRolloutSlot,
  releaseRolloutSlot,
  slotName,
  takeRolloutSlot,
  type SlotGrant,
} from '../../lib/sync/rollout/slots';
import { syncContext, testClient } from './operator';
import { createNamespace, deleteNamespace } from './testenv';
import type { SyncContext } from '../../lib/sync/context';
import { ROLLOUT_SLOT_DURATION_SECONDS } from '../../lib/plan/rollout-slot';

const SECOND = 1000;

/** A clock the test moves by hand. */
function fakeClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let now = start;
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('rollout slots', { timeout: 60_000 }, () => {
  let client: KubeClient;
  const namespaces: string[] = [];

  /** A context whose slots live in a fresh operator namespace, with the given limits and a fake clock. */
  async function slotContext(atOnce: number, delayMs: number) {
    const namespace = await createNamespace('slots');
    namespaces.push(namespace);
    const clock = fakeClock();
    const ctx: SyncContext = {
      ...syncContext(client, {
        ...defaultOperatorConfig(),
        rollout_clusters_at_once: atOnce,
        rollout_cluster_delay: delayMs,
      }),
      now: clock.now,
      operatorNamespace: namespace,
    };
    return { ctx, clock, namespace };
  }
  const cluster = (name: string) => ({ namespace: 'apps', name });
  const writes = () => client.counter.writes();
  const holderOf = async (namespace: string, index: number) =>
    (
      (await client.get<KubeObject>({ kind: 'Lease', namespace, name: slotName(index) }))?.spec as
        { holderIdentity?: string } | undefined
    )?.holderIdentity;

  before(() => {
    client = testClient();
  });
  after(async () => {
    client?.close();
    for (const namespace of namespaces) await deleteNamespace(namespace);
  });

  it('without an operator namespace every cluster is granted, with no request', async () => {
    const ctx = syncContext(client, defaultOperatorConfig());
    const before = client.counter.total();
    assert.deepEqual(await takeRolloutSlot(ctx, cluster('a')), { granted: true, slot: 'unlimited' });
    assert.equal(await releaseRolloutSlot(ctx, cluster('a')), false);
    assert.equal(client.counter.total(), before);
  });

  it('rollout_clusters_at_once=2 grants two clusters and refuses the third, naming the two', async () => {
    const { ctx, namespace } = await slotContext(2, 0);
    assert.deepEqual(await takeRolloutSlot(ctx, cluster('a')), { granted: true, slot: slotName(0) });
    assert.deepEqual(await takeRolloutSlot(ctx, cluster('b')), { granted: true, slot: slotName(1) });
    const third = await takeRolloutSlot(ctx, cluster('c'));
    assert.deepEqual(third, {
      granted: false,
      reason: '2 clusters are rolling out (rollout_clusters_at_once=2): apps/a, apps/b',
    });
    assert.equal(await holderOf(namespace, 0), 'apps/a');
    assert.equal(await holderOf(namespace, 1), 'apps/b');
    assert.equal(await client.get({ kind: 'Lease', namespace, name: slotName(2) }), undefined, 'no third slot');
  });

  it('a holder keeps its slot with no write within a third of the duration, and renews it after', async () => {
    const { ctx, clock, namespace } = await slotContext(1, 0);
    assert.equal((await takeRolloutSlot(ctx, cluster('a'))).granted, true);
    const renewTime = async () =>
      ((await client.get<KubeObject>({ kind: 'Lease', namespace, name: slotName(0) }))!.spec as { renewTime: string })
        .renewTime;
    const first = await renewTime();
    const start = writes();
    for (let i = 0; i < 3; i++) {
      clock.advance(60 * SECOND);
      assert.deepEqual(await takeRolloutSlot(ctx, cluster('a')), { granted: true, slot: slotName(0) });
    }
    assert.equal(writes() - start, 0, 'no write within 180 s of a 600 s slot');
    assert.equal(await renewTime(), first);
    clock.advance(30 * SECOND); // 210 s > 600 s / 3
    assert.deepEqual(await takeRolloutSlot(ctx, cluster('a')), { granted: true, slot: slotName(0) });
    assert.equal(writes() - start, 1, 'one renewal patch');
    assert.equal(Date.parse(await renewTime()), clock.now().getTime());
  });

  it('a released slot is taken by another cluster only after rollout_cluster_delay', async () => {
    const { ctx, clock, namespace } = await slotContext(1, 30 * SECOND);
    assert.equal((await takeRolloutSlot(ctx, cluster('a'))).granted, true);
    const start = writes();
    assert.equal(await releaseRolloutSlot(ctx, cluster('b')), false, 'b holds no slot');
    assert.equal(writes() - start, 0, 'releasing no slot writes nothing');
    assert.equal(await releaseRolloutSlot(ctx, cluster('a')), true);
    assert.equal(await holderOf(namespace, 0), undefined);
    assert.equal(await releaseRolloutSlot(ctx, cluster('a')), false, 'released once');

    clock.advance(5 * SECOND);
    assert.deepEqual(await takeRolloutSlot(ctx, cluster('b')), {
      granted: false,
      reason: 'next slot free in 25 s (rollout_cluster_delay)',
    });
    clock.advance(25 * SECOND);
    assert.deepEqual(await takeRolloutSlot(ctx, cluster('b')), { granted: true, slot: slotName(0) });
    assert.equal(await holderOf(namespace, 0), 'apps/b');
  });

  it('a stalled rollout frees its slot once leaseDurationSeconds (plus the delay) have passed', async () => {
    const { ctx, clock } = await slotContext(1, 10 * SECOND);
    assert.equal((await takeRolloutSlot(ctx, cluster('stalled'))).granted, true);
    clock.advance(ROLLOUT_SLOT_DURATION_SECONDS * SECOND - SECOND);
    assert.match(
      ((await takeRolloutSlot(ctx, cluster('next'))) as { reason: string }).reason,
      /1 clusters are rolling out .*apps\/stalled/,
    );
    clock.advance(SECOND);
    assert.deepEqual(await takeRolloutSlot(ctx, cluster('next')), {
      granted: false,
      reason: 'next slot free in 10 s (rollout_cluster_delay)',
    });
    clock.advance(10 * SECOND);
    assert.deepEqual(await takeRolloutSlot(ctx, cluster('next')), { granted: true, slot: slotName(0) });
  });

  it('peeking takes nothing and writes nothing; keeping renews only a slot held, and only when due', async () => {
    const { ctx, clock, namespace } = await slotContext(1, 0);
    const start = writes();
    assert.deepEqual(await peekRolloutSlot(ctx, cluster('a')), { granted: true, slot: slotName(0) });
    assert.equal(await keepRolloutSlot(ctx, cluster('a')), false, 'a holds no slot yet');
    assert.equal(writes() - start, 0, 'neither peek nor keep took the free slot');
    assert.equal(await client.get({ kind: 'Lease', namespace, name: slotName(0) }), undefined);

    assert.equal((await takeRolloutSlot(ctx, cluster('a'))).granted, true);
    const afterTake = writes();
    assert.deepEqual(await peekRolloutSlot(ctx, cluster('b')), {
      granted: false,
      reason: '1 clusters are rolling out (rollout_clusters_at_once=1): apps/a',
    });
    clock.advance(100 * SECOND);
    assert.equal(await keepRolloutSlot(ctx, cluster('a')), true);
    assert.equal(writes() - afterTake, 0, 'no renewal within a third of the duration');
    // A step that takes long: keeping it every 150 s holds the slot well past one duration.
    for (let i = 0; i < 6; i++) {
      clock.advance(150 * SECOND);
      assert.equal(await keepRolloutSlot(ctx, cluster('a')), true);
    }
    assert.equal(await holderOf(namespace, 0), 'apps/a');
    assert.equal(
      (await takeRolloutSlot(ctx, cluster('b'))).granted,
      false,
      '1000 s after it was taken, the slot is still held',
    );
    // Renewed at 250 s, 550 s and 850 s (each 200 s or more after the last renewal); the other keeps write nothing.
    assert.equal(writes() - afterTake, 3, 'renewals only when due');
  });

  it('concurrent takers: exactly one wins a missing slot, and exactly one wins a freed slot', async () => {
    const { ctx } = await slotContext(1, 0);
    const names = Array.from({ length: 6 }, (_, i) => `racer-${i}`);
    const race = () => Promise.all(names.map((name) => takeRolloutSlot(ctx, cluster(name))));
    const winners = (grants: SlotGrant[]) => names.filter((_, i) => grants[i]!.granted);

    const created = await race();
    assert.equal(winners(created).length, 1, JSON.stringify(created));
    const winner = winners(created)[0]!;
    assert.equal(await releaseRolloutSlot(ctx, cluster(winner)), true);
    const taken = await race();
    assert.equal(winners(taken).length, 1, JSON.stringify(taken));
    for (const grant of taken)
      if (!grant.granted) assert.match(grant.reason, /rollout slot .* meanwhile|1 clusters are rolling out/);
  });
});
