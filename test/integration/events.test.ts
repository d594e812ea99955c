// The Event recorder on the sync context (lib/k8s/events.ts) against a real kube-apiserver: identical Events are
// aggregated into one object whose count rises, different ones are separate objects, `once` records one Event per
// key and repeats with no write request, and a failure to record never reaches the caller.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { eventRecorder } from '../../lib/k8s/events';
import { silentLogger, type Logger } from '../../lib/log/logger';
import { testClient } from './operator';
import { createNamespace, deleteNamespace } from './testenv';

describe('Event recorder', () => {
  let client: KubeClient;
  let namespace = '';
  let about: KubeObject;
  before(async () => {
    client = testClient();
    namespace = await createNamespace('events');
    about = await client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'about', namespace },
      data: {},
    });
  });
  after(async () => {
    client.close();
    await deleteNamespace(namespace);
  });

  const eventsFor = async (reason: string) =>
    (await client.list('Event', namespace)).filter((e) => e.reason === reason);

  it('aggregates identical Events into one whose count and lastTimestamp rise', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const events = eventRecorder(client, silentLogger, () => new Date(now));
    await events.record(about, 'Warning', 'Repeated', 'the same thing happened');
    now += 60_000;
    await events.record(about, 'Warning', 'Repeated', 'the same thing happened');
    await events.record(about, 'Warning', 'Repeated', 'the same thing happened');
    await events.record(about, 'Warning', 'Repeated', 'something else happened');
    const recorded = await eventsFor('Repeated');
    assert.equal(recorded.length, 2);
    const same = recorded.find((e) => e.message === 'the same thing happened')!;
    assert.equal(same.count, 3);
    assert.equal(same.firstTimestamp, '2030-01-01T00:00:00Z');
    assert.equal(same.lastTimestamp, '2030-01-01T00:01:00Z');
    assert.deepEqual(same.involvedObject, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'about',
      namespace,
      uid: about.metadata!.uid,
    });
    assert.equal(recorded.find((e) => e.message === 'something else happened')!.count, 1);
  });

  it('records once per key, and a repeat makes no write request', async () => {
    const events = eventRecorder(client, silentLogger, () => new Date());
    assert.equal(await events.once('node-1/pod-a', about, 'Warning', 'Once', 'cannot move'), 'recorded');
    const writes = client.counter.writes();
    assert.equal(await events.once('node-1/pod-a', about, 'Warning', 'Once', 'cannot move, said again'), 'exists');
    assert.equal(client.counter.writes(), writes);
    assert.equal(await events.once('node-2/pod-a', about, 'Warning', 'Once', 'cannot move'), 'recorded');
    const recorded = await eventsFor('Once');
    assert.deepEqual(recorded.map((e) => [e.message, e.count]).sort(), [
      ['cannot move', 1],
      ['cannot move', 1],
    ]);
  });

  it('logs a failure and never throws', async () => {
    const warnings: string[] = [];
    const log: Logger = {
      ...silentLogger,
      warn: (msg, fields) => {
        warnings.push(`${msg} ${JSON.stringify(fields)}`);
      },
    };
    const events = eventRecorder(client, log, () => new Date());
    // No such namespace: the API refuses the Event.
    const gone = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: `${namespace}-missing` } };
    await events.record(gone, 'Normal', 'Nowhere', 'lost');
    assert.equal(await events.once('k', gone, 'Normal', 'Nowhere', 'lost'), 'failed');
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /Could not record event .*Nowhere/);
  });
});
