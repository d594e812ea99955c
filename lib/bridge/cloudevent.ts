/**
 * The HTTP requests the bridge sends: a change as a CloudEvent exactly as Knative's ApiServerSource sends it in
 * Resource mode (binary mode), plus the Kubeless runtime's `event-*` headers; and the periodic-sync call as a
 * Kubeless CronJobTrigger makes it.
 *
 * Sources: CloudEvents 1.0 HTTP protocol binding, binary content mode
 * (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md); Knative Eventing
 * ApiServerSource (https://knative.dev/docs/eventing/sources/apiserversource/; https://github.com/knative/eventing
 * `pkg/adapter/apiserver/events`: types `dev.knative.apiserver.resource.*`, subject, extensions kind,
 * apiversion, name, namespace); Kubeless runtime `event-id`/`event-time`/`event-type`/`event-namespace` headers
 * (https://github.com/vmware-archive/kubeless/blob/master/docs/runtimes.md) and CronJobTrigger's curl command
 * (https://github.com/vmware-archive/cronjob-trigger, `pkg/utils/kubelessutil.go`).
 */
import { randomUUID } from 'node:crypto';
import { CloudEvent, HTTP } from 'cloudevents';
import type { V1NodeStatus } from '@kubernetes/client-node';
import type { KubeObject } from '../k8s/client';
import { resourceFor } from '../k8s/resources';
import type { ObjectChange } from './routing';

/** Default `ce-source`: names the bridge (Knative puts the API server host there). */
export const BRIDGE_SOURCE = 'urn:postgres-operator-functions:bridge';
/** `event-namespace` of bridge deliveries (Kubeless trigger controllers put their own name there). */
export const BRIDGE_EVENT_NAMESPACE = 'watchbridge.postgres-operator-functions';
/** `event-namespace` of Kubeless CronJobTrigger calls. */
export const CRON_EVENT_NAMESPACE = 'cronjobtrigger.kubeless.io';

/** An HTTP request body and headers (lower-case names), ready to POST. */
export interface OutgoingRequest {
  headers: Record<string, string>;
  body: string;
}

/**
 * @returns a copy of the object as the event body: without `metadata.managedFields`, and for Nodes without
 *   `status.images`, to stay well under request size limits (the object itself is not modified)
 */
export function eventBody(object: KubeObject): KubeObject {
  const { managedFields: _managedFields, ...metadata } = object.metadata ?? {};
  const body: KubeObject = { ...object, metadata };
  if (object.kind === 'Node' && object.status) {
    const { images: _images, ...status }: V1NodeStatus = object.status;
    body.status = status;
  }
  return body;
}

/**
 * ApiServerSource's subject, `/apis/<apiVersion>/namespaces/<namespace>/<plural>/<name>`, including its quirks
 * for core and cluster-scoped kinds (`/apis/v1/namespaces//nodes/n1`). Informational: receivers use the
 * extensions instead.
 */
export function eventSubject(object: KubeObject): string {
  const plural = object.kind ? resourceFor(object.kind).plural : '';
  return `/apis/${object.apiVersion ?? ''}/namespaces/${object.metadata?.namespace ?? ''}/${plural}/${object.metadata?.name ?? ''}`;
}

/** Identity and time of an event; generated when omitted. */
export interface EventIdentity {
  /** `ce-source`; default {@link BRIDGE_SOURCE} */
  source?: string;
  /** `ce-id`; default a random UUID */
  id?: string;
  /** `ce-time`; default now */
  time?: Date;
}

/** @returns the change as a CloudEvent 1.0 of ApiServerSource's Resource mode */
export function toCloudEvent(change: ObjectChange, identity: EventIdentity = {}): CloudEvent<KubeObject> {
  const { object } = change;
  return new CloudEvent<KubeObject>({
    specversion: '1.0',
    id: identity.id ?? randomUUID(),
    source: identity.source ?? BRIDGE_SOURCE,
    type: `dev.knative.apiserver.resource.${change.action}`,
    subject: eventSubject(object),
    time: (identity.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    data: eventBody(object),
    kind: object.kind ?? '',
    apiversion: object.apiVersion ?? '',
    name: object.metadata?.name ?? '',
    namespace: object.metadata?.namespace ?? '',
    // Not ApiServerSource's: says that this sender also delivers every readiness change of a cluster's
    // StatefulSet as an update (lib/bridge/routing.ts), so a function need not ask to be called again for that.
    readinesswatch: 'statefulset',
  });
}

/**
 * @returns the binary-mode HTTP request of a CloudEvent (`ce-*` headers, the data as the JSON body) plus the
 *   Kubeless headers: `event-id` (= `ce-id`), `event-time` (= `ce-time`, RFC 3339), `event-type:
 *   application/json`, `event-namespace` ({@link BRIDGE_EVENT_NAMESPACE})
 */
export function binaryRequest(event: CloudEvent<KubeObject>): OutgoingRequest {
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name.toLowerCase()] = String(value);
  headers['event-id'] = event.id;
  headers['event-time'] = event.time ?? '';
  headers['event-type'] = 'application/json';
  headers['event-namespace'] = BRIDGE_EVENT_NAMESPACE;
  return { headers, body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body ?? {}) };
}

/** `date --rfc-3339=seconds --utc` as CronJobTrigger's curl sends it: `2024-01-02 03:04:05+00:00`. */
export function rfc3339Seconds(time: Date): string {
  return `${time.toISOString().slice(0, 19).replace('T', ' ')}+00:00`;
}

/**
 * @returns the periodic-sync call as a Kubeless CronJobTrigger makes it: an empty body, `content-type` and
 *   `event-type` `application/json`, `event-id` (a UUID, as the CronJob's pod UID), `event-time`,
 *   `event-namespace: cronjobtrigger.kubeless.io`
 */
export function cronRequest(identity: { id?: string; time?: Date } = {}): OutgoingRequest {
  return {
    headers: {
      'content-type': 'application/json',
      'event-id': identity.id ?? randomUUID(),
      'event-time': rfc3339Seconds(identity.time ?? new Date()),
      'event-type': 'application/json',
      'event-namespace': CRON_EVENT_NAMESPACE,
    },
    body: '',
  };
}
