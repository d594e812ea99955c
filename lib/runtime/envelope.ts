/**
 * One normalized shape for every event envelope a function can receive (design §6, runtime research §3.3):
 *
 * 1. CloudEvents 1.0, binary or structured, as Knative's ApiServerSource sends them (`dev.knative.apiserver.
 *    resource.add|update|delete` with the object as data; `.ref.` types carry only a reference) and as our bridge
 *    sends them. Parsed with the `cloudevents` SDK.
 * 2. Fission's `X-Kubernetes-Event-Type: ADDED|MODIFIED|DELETED` with the object as body.
 * 3. A raw watch event `{type: ADDED|MODIFIED|DELETED|BOOKMARK, object}` (Kubeless' Kafka event source, tests).
 * 4. A bare Kubernetes object (`kubeless function call --data '<object>'`): action `sync`.
 * 5. Anything else, including the empty body of a Kubeless CronJobTrigger or a PingSource: action `sync` without
 *    an object.
 *
 * Source: CloudEvents 1.0 HTTP binding; Knative eventing `pkg/adapter/apiserver/events`; Kubeless runtime
 * `event-*` headers.
 */
import { HTTP, type CloudEventV1 } from 'cloudevents';

/** What happened to the object, or `sync` when the event carries no action (cron, manual call). */
export type EventAction = 'add' | 'update' | 'delete' | 'sync';

/** Which kind of sender the envelope came from. */
export type EventSource = 'cloudevents' | 'fission' | 'watch' | 'kubeless' | 'cron';

/** A reference to the object an event is about. */
export interface EventRef {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name: string;
}

/** A Kubernetes object as JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary objects, read field by field
export type EventObject = { apiVersion?: string; kind?: string; metadata?: Record<string, any>; [key: string]: any };

/** The normalized event. */
export interface NormalizedEvent {
  /** the sender's id (`ce-id`, `event-id`), or undefined */
  id?: string;
  /** the sender's time as given (RFC 3339 for CloudEvents; Kubeless senders vary) */
  time?: string;
  source: EventSource;
  action: EventAction;
  /** the CloudEvent type, when there was one */
  type?: string;
  ref?: EventRef;
  /** the object as the sender saw it (absent for references, cron and empty bodies) */
  object?: EventObject;
  /** `BOOKMARK` watch events and other envelopes that carry nothing to act on */
  ignored?: string;
  /**
   * the sender also delivers each readiness change of a cluster's StatefulSet as an update (this project's event
   * bridge: CloudEvent extension `readinesswatch`), so waiting pods need no call-me-again answer
   */
  readinessWatched?: boolean;
  /**
   * the operator ConfigMap's resourceVersion as the sender last saw it (the bridge: CloudEvent extension
   * `configversion`): a config already parsed at that version needs no read
   */
  configVersion?: string;
}

/** The Kubeless runtime's event: `data` plus `event-*` fields and the raw request in `extensions.request`. */
export interface KubelessEvent {
  data?: unknown;
  'event-id'?: string;
  'event-time'?: string;
  'event-type'?: string;
  'event-namespace'?: string;
  extensions?: { request?: { headers?: Record<string, string | string[] | undefined> } };
}

/** An envelope that claims to be a CloudEvent but is not a valid one. */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

const WATCH_ACTIONS: Record<string, EventAction> = { ADDED: 'add', MODIFIED: 'update', DELETED: 'delete' };

function headersOf(event: KubelessEvent): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.extensions?.request?.headers ?? {})) {
    if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const looksLikeKubeObject = (value: unknown): value is EventObject =>
  isObject(value) &&
  typeof value.kind === 'string' &&
  isObject(value.metadata) &&
  typeof value.metadata.name === 'string';

function refOf(object: EventObject | undefined): EventRef | undefined {
  if (!object?.metadata?.name) return undefined;
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
  };
}

/** The body as a value: Kubeless gives objects for JSON and strings for everything else. */
function bodyOf(event: KubelessEvent, contentType: string): unknown {
  const data = event.data;
  if (typeof data !== 'string' || data === '' || contentType.startsWith('application/cloudevents')) return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

function fromCloudEvent(ce: CloudEventV1<unknown>): NormalizedEvent {
  const suffix = ce.type.split('.').pop() ?? '';
  const action: EventAction = suffix === 'add' || suffix === 'update' || suffix === 'delete' ? suffix : 'sync';
  const data = typeof ce.data === 'string' ? safeJson(ce.data) : ce.data;
  const extension = (name: string) => {
    const value = ce[name];
    return typeof value === 'string' ? value : undefined;
  };
  const object = looksLikeKubeObject(data) && !ce.type.includes('.ref.') ? data : undefined;
  const fromExtensions = extension('name')
    ? {
        apiVersion: extension('apiversion'),
        kind: extension('kind'),
        namespace: extension('namespace') || undefined,
        name: extension('name')!,
      }
    : undefined;
  // Reference mode carries an ObjectReference {apiVersion, kind, name, namespace} as data.
  const fromReference =
    isObject(data) && typeof data.name === 'string'
      ? {
          apiVersion: data.apiVersion as string | undefined,
          kind: data.kind as string | undefined,
          namespace: data.namespace as string | undefined,
          name: data.name,
        }
      : undefined;
  return {
    id: ce.id,
    time: ce.time,
    source: 'cloudevents',
    type: ce.type,
    action,
    ref: fromExtensions ?? refOf(object) ?? fromReference,
    object,
    ...(extension('readinesswatch') === 'statefulset' ? { readinessWatched: true } : {}),
    ...(extension('configversion') ? { configVersion: extension('configversion') } : {}),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Normalizes a Kubeless-style event. The first matching envelope form wins (see the module comment).
 * @throws EnvelopeError when the headers or body claim a CloudEvent that is not valid
 */
export function parseEvent(event: KubelessEvent): NormalizedEvent {
  const headers = headersOf(event);
  const contentType = headers['content-type'] ?? '';
  const body = bodyOf(event, contentType);
  const id = event['event-id'] ?? headers['ce-id'];
  const time = event['event-time'] ?? headers['ce-time'];

  const structured = contentType.startsWith('application/cloudevents+json');
  if (headers['ce-type'] || headers['ce-specversion'] || structured) {
    try {
      const ce = HTTP.toEvent({
        headers,
        body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body),
      });
      if (Array.isArray(ce))
        throw new EnvelopeError('batched CloudEvents are not supported: send one event per request');
      return fromCloudEvent(ce);
    } catch (error) {
      if (error instanceof EnvelopeError) throw error;
      throw new EnvelopeError(`invalid CloudEvent: ${(error as Error).message}`);
    }
  }
  const fission = headers['x-kubernetes-event-type'];
  if (fission && WATCH_ACTIONS[fission.toUpperCase()] && looksLikeKubeObject(body)) {
    return {
      id,
      time,
      source: 'fission',
      action: WATCH_ACTIONS[fission.toUpperCase()]!,
      ref: refOf(body),
      object: body,
    };
  }
  if (
    isObject(body) &&
    typeof body.type === 'string' &&
    (body.type === 'BOOKMARK' || WATCH_ACTIONS[body.type]) &&
    isObject(body.object)
  ) {
    if (body.type === 'BOOKMARK')
      return { id, time, source: 'watch', action: 'sync', ignored: 'watch BOOKMARK events carry no change' };
    const object = body.object as EventObject;
    return { id, time, source: 'watch', action: WATCH_ACTIONS[body.type]!, ref: refOf(object), object };
  }
  if (looksLikeKubeObject(body))
    return { id, time, source: 'kubeless', action: 'sync', ref: refOf(body), object: body };
  return {
    id,
    time,
    source: event['event-namespace']?.startsWith('cronjobtrigger') || !id ? 'cron' : 'kubeless',
    action: 'sync',
  };
}
