// The requests the bridge sends parse back with the cloudevents SDK as ApiServerSource Resource-mode events,
// carry the Kubeless headers, and leave out managedFields (and Node images).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP } from 'cloudevents';
import {
  BRIDGE_EVENT_NAMESPACE,
  BRIDGE_SOURCE,
  binaryRequest,
  cronRequest,
  eventBody,
  eventSubject,
  rfc3339Seconds,
  toCloudEvent,
} from '../../../lib/bridge/cloudevent';
import type { KubeObject } from '../../../lib/k8s/client';

const cluster: KubeObject = {
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: {
    name: 'acid-minimal-cluster',
    namespace: 'team',
    resourceVersion: '42',
    managedFields: [{ manager: 'kubectl' }],
  },
  spec: { teamId: 'acid', numberOfInstances: 2 },
};

describe('CloudEvent of a change', () => {
  it('parses back with HTTP.toEvent as dev.knative.apiserver.resource.update with the object as data', () => {
    const time = new Date('2026-03-04T05:06:07.000Z');
    const request = binaryRequest(
      toCloudEvent({ resource: 'postgresql', action: 'update', object: cluster }, { id: 'id-1', time }),
    );
    const event = HTTP.toEvent({ headers: request.headers, body: request.body });
    assert.ok(!Array.isArray(event));
    assert.equal(event.specversion, '1.0');
    assert.equal(event.type, 'dev.knative.apiserver.resource.update');
    assert.equal(event.source, BRIDGE_SOURCE);
    assert.equal(event.id, 'id-1');
    assert.equal(event.time, '2026-03-04T05:06:07.000Z');
    assert.equal(event.subject, '/apis/acid.zalan.do/v1/namespaces/team/postgresqls/acid-minimal-cluster');
    assert.equal(event.datacontenttype, 'application/json');
    assert.deepEqual(
      { kind: event.kind, apiversion: event.apiversion, name: event.name, namespace: event.namespace },
      { kind: 'postgresql', apiversion: 'acid.zalan.do/v1', name: 'acid-minimal-cluster', namespace: 'team' },
    );
    assert.deepEqual(event.data, {
      ...cluster,
      metadata: { name: 'acid-minimal-cluster', namespace: 'team', resourceVersion: '42' },
    });
  });

  it('sends binary mode: ce-* headers, JSON content type, and the Kubeless event-* headers', () => {
    const request = binaryRequest(
      toCloudEvent({ resource: 'postgresql', action: 'add', object: cluster }, { id: 'id-2' }),
    );
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['ce-type'], 'dev.knative.apiserver.resource.add');
    assert.equal(request.headers['ce-specversion'], '1.0');
    assert.equal(request.headers['ce-name'], 'acid-minimal-cluster');
    assert.equal(request.headers['event-id'], 'id-2');
    assert.equal(request.headers['event-time'], request.headers['ce-time']);
    assert.equal(request.headers['event-type'], 'application/json');
    assert.equal(request.headers['event-namespace'], BRIDGE_EVENT_NAMESPACE);
    assert.equal(JSON.parse(request.body).spec.numberOfInstances, 2);
    assert.equal(request.headers['ce-readinesswatch'], 'statefulset', 'the bridge delivers StatefulSet readiness');
  });

  it('a delete carries the last known object; a fresh id each event', () => {
    const a = toCloudEvent({ resource: 'postgresql', action: 'delete', object: cluster });
    const b = toCloudEvent({ resource: 'postgresql', action: 'delete', object: cluster });
    assert.equal(a.type, 'dev.knative.apiserver.resource.delete');
    assert.notEqual(a.id, b.id);
    assert.equal(a.data?.metadata?.name, 'acid-minimal-cluster');
  });

  it("strips status.images from Nodes and keeps ApiServerSource's subject for cluster-scoped kinds", () => {
    const node: KubeObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', managedFields: [] },
      spec: { unschedulable: true },
      status: { images: [{ names: ['big'] }], conditions: [] },
    };
    assert.deepEqual(eventBody(node), {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      spec: { unschedulable: true },
      status: { conditions: [] },
    });
    assert.ok(node.status.images, "the informer's object is not modified");
    assert.equal(eventSubject(node), '/apis/v1/namespaces//nodes/n1');
    const event = HTTP.toEvent(binaryRequest(toCloudEvent({ resource: 'node', action: 'update', object: node })));
    assert.ok(!Array.isArray(event));
    assert.equal(event.namespace, '');
    assert.equal(event.kind, 'Node');
  });
});

describe('cron request', () => {
  it('is an empty body with the Kubeless CronJobTrigger headers', () => {
    const request = cronRequest({ id: 'uid-1', time: new Date('2026-01-02T03:04:05.678Z') });
    assert.equal(request.body, '');
    assert.deepEqual(request.headers, {
      'content-type': 'application/json',
      'event-id': 'uid-1',
      'event-time': '2026-01-02 03:04:05+00:00',
      'event-type': 'application/json',
      'event-namespace': 'cronjobtrigger.kubeless.io',
    });
    assert.equal(rfc3339Seconds(new Date('2026-12-31T23:59:59Z')), '2026-12-31 23:59:59+00:00');
  });
});
