import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { EnvelopeError, parseEvent, type KubelessEvent } from '../../../lib/runtime/envelope';

const object = {
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { name: 'acid-a', namespace: 'team' },
  spec: { teamId: 'acid' },
};

/** The event the Kubeless runtime builds: JSON bodies parsed, other bodies as strings, headers lower-case. */
function kubeless(headers: Record<string, string>, body: unknown): KubelessEvent {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const json = (lower['content-type'] ?? '').startsWith('application/json');
  const data = body === undefined ? {} : json && typeof body === 'string' ? JSON.parse(body) : body;
  return {
    data,
    'event-id': lower['event-id'],
    'event-namespace': lower['event-namespace'],
    extensions: { request: { headers: lower } },
  };
}

describe('parseEvent', () => {
  it('reads a binary CloudEvent exactly as Knative ApiServerSource sends it (Resource mode)', () => {
    const ce = new CloudEvent({
      type: 'dev.knative.apiserver.resource.update',
      source: 'https://10.96.0.1:443',
      subject: '/apis/v1/namespaces/team/postgresqls/acid-a',
      data: object,
      kind: 'postgresql',
      name: 'acid-a',
      namespace: 'team',
      apiversion: 'acid.zalan.do/v1',
    });
    const message = HTTP.binary(ce);
    const event = parseEvent(kubeless(message.headers as Record<string, string>, message.body));
    assert.equal(event.source, 'cloudevents');
    assert.equal(event.action, 'update');
    assert.equal(event.id, ce.id);
    assert.deepEqual(event.ref, {
      apiVersion: 'acid.zalan.do/v1',
      kind: 'postgresql',
      namespace: 'team',
      name: 'acid-a',
    });
    assert.deepEqual(event.object, object);
    assert.equal(event.readinessWatched, undefined, 'ApiServerSource does not deliver StatefulSet readiness');
  });

  it("knows the bridge's events: it delivers StatefulSet readiness changes (extension readinesswatch)", () => {
    const ce = new CloudEvent({
      type: 'dev.knative.apiserver.resource.update',
      source: 'urn:postgres-operator-functions:bridge',
      data: object,
      readinesswatch: 'statefulset',
    });
    const message = HTTP.binary(ce);
    assert.equal(parseEvent(kubeless(message.headers as Record<string, string>, message.body)).readinessWatched, true);
  });

  it('reads a structured CloudEvent, which Kubeless hands over as a string', () => {
    const message = HTTP.structured(
      new CloudEvent({ type: 'dev.knative.apiserver.resource.delete', source: 'urn:test', data: object }),
    );
    const event = parseEvent(kubeless(message.headers as Record<string, string>, message.body));
    assert.equal(event.action, 'delete');
    assert.deepEqual(event.ref, {
      apiVersion: 'acid.zalan.do/v1',
      kind: 'postgresql',
      namespace: 'team',
      name: 'acid-a',
    });
  });

  it('takes the reference of a Reference-mode event (no object)', () => {
    const ref = { apiVersion: 'v1', kind: 'Node', name: 'node-1' };
    const message = HTTP.binary(
      new CloudEvent({ type: 'dev.knative.apiserver.ref.update', source: 'urn:test', data: ref }),
    );
    const event = parseEvent(kubeless(message.headers as Record<string, string>, message.body));
    assert.equal(event.action, 'update');
    assert.equal(event.object, undefined);
    assert.deepEqual(event.ref, { apiVersion: 'v1', kind: 'Node', namespace: undefined, name: 'node-1' });
  });

  it('refuses an invalid CloudEvent with the reason', () => {
    assert.throws(
      () => parseEvent(kubeless({ 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-type': 'x' }, '{}')),
      (error: Error) => error instanceof EnvelopeError && /invalid CloudEvent/.test(error.message),
    );
  });

  it('reads Fission headers, raw watch events, bare objects and empty cron bodies', () => {
    assert.equal(
      parseEvent(
        kubeless({ 'content-type': 'application/json', 'x-kubernetes-event-type': 'DELETED' }, JSON.stringify(object)),
      ).action,
      'delete',
    );
    const watch = parseEvent(
      kubeless({ 'content-type': 'application/json' }, JSON.stringify({ type: 'ADDED', object })),
    );
    assert.equal(watch.source, 'watch');
    assert.equal(watch.action, 'add');
    assert.equal(watch.ref?.name, 'acid-a');
    assert.equal(
      parseEvent(
        kubeless(
          { 'content-type': 'application/json' },
          JSON.stringify({ type: 'BOOKMARK', object: { metadata: {} } }),
        ),
      ).ignored !== undefined,
      true,
    );
    const bare = parseEvent(
      kubeless({ 'content-type': 'application/json', 'event-id': 'abc' }, JSON.stringify(object)),
    );
    assert.deepEqual([bare.source, bare.action, bare.ref?.name], ['kubeless', 'sync', 'acid-a']);
    const cron = parseEvent(
      kubeless({ 'event-id': 'pod-uid', 'event-namespace': 'cronjobtrigger.kubeless.io' }, undefined),
    );
    assert.deepEqual([cron.source, cron.action, cron.ref], ['cron', 'sync', undefined]);
    assert.equal(parseEvent({}).action, 'sync');
  });
});
