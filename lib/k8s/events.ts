/**
 * Kubernetes Events about the objects the operator acts on (`postgresql` objects, the operator ConfigMap), so
 * `kubectl describe postgresql x` tells what the operator did and why.
 *
 * One recorder per invocation, on the sync context (`ctx.events`), used the way client-go's `record.EventRecorder`
 * is. Like client-go's EventCorrelator, identical Events (same object, type, reason and message) are aggregated:
 * the Event's name is derived from those four, so a repeat finds the Event already there (409) and raises its
 * `count` and `lastTimestamp` instead of adding another object. A function has no memory between invocations, so
 * the name is the memory client-go keeps in its cache. `once` records an Event whose name comes from a key, and
 * nothing more for that key while the Event lives (Events expire after the apiserver's `--event-ttl`, 1 h by
 * default).
 *
 * Recording never fails the caller's work: errors are logged (without the message's data) and swallowed.
 *
 * Source: Kubernetes API reference, core/v1 Event (`count`, `firstTimestamp`, `lastTimestamp`, `involvedObject`);
 * client-go `tools/record` (EventRecorder, EventCorrelator aggregation).
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../log/logger';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { KubeClient, ObjectToWrite } from './client';
import { nameOf, namespaceOf } from './meta';
import { isStatus } from './errors';

/** The `source.component`, `reportingComponent` and `reportingInstance` of every Event the operator records. */
export const EVENT_SOURCE = 'postgres-operator-functions';

/** Normal or Warning, as in core/v1 Event `type`. */
export type EventType = 'Normal' | 'Warning';

/** What an Event is about (core/v1 ObjectReference). */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

/** What an Event can be about: an object as read (its apiVersion, kind and metadata) or a reference. */
export type EventSubject =
  | { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; uid?: string } }
  | InvolvedObject;

/** Records Events; never throws. */
export interface EventRecorder {
  /**
   * Records an Event about `about`, or raises the `count` of the identical one already there.
   * @param about an object as read from the API (its apiVersion, kind, name, namespace and uid), or a reference
   * @param reason CamelCase reason, e.g. `Created`, `InvalidManifest`
   * @param message at most 1024 characters are kept
   */
  record(about: EventSubject, type: EventType, reason: string, message: string): Promise<void>;
  /**
   * Records the Event unless one was recorded for `key` (about the same object, with the same reason) already:
   * one GET, and a create only when there is none.
   * @returns `recorded`, `exists` (nothing written), or `failed` (logged)
   */
  once(
    key: string,
    about: EventSubject,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<'recorded' | 'exists' | 'failed'>;
}

const MAX_MESSAGE = 1024;

/** @returns the involved object of an Event about `about` */
export function involvedObject(about: EventSubject): InvolvedObject {
  if (!('metadata' in about)) return about as InvolvedObject;
  const meta = about.metadata ?? {};
  if (!about.apiVersion || !about.kind)
    throw new Error(`an Event needs the apiVersion and kind of ${meta.namespace}/${meta.name}`);
  return {
    apiVersion: about.apiVersion,
    kind: about.kind,
    name: nameOf(about),
    namespace: namespaceOf(about),
    ...(meta.uid ? { uid: meta.uid } : {}),
  };
}

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16);

/** @returns `<object>.<suffix>`, the object's name cut so the whole stays within 253 characters (a DNS subdomain) */
const eventName = (objectName: string, suffix: string) => `${objectName.slice(0, 252 - suffix.length)}.${suffix}`;

/**
 * @returns the name of the Event `once` records for `key`: `<object>.<reason in lower case>-<16 hex digits of the
 *   SHA-256 of key>`, at most 253 characters
 */
export const onceEventName = (objectName: string, reason: string, key: string) =>
  eventName(objectName, `${reason.toLowerCase()}-${digest(key)}`);
const truncate = (message: string) =>
  message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;

/**
 * @param now the clock of the invocation (Event timestamps)
 * @returns a recorder that writes with `client` and logs failures to `log`
 */
export function eventRecorder(client: KubeClient, log: Logger, now: () => Date): EventRecorder {
  const event = (
    name: string,
    about: InvolvedObject,
    type: EventType,
    reason: string,
    message: string,
  ): ObjectToWrite => {
    const time = now().toISOString();
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: about.namespace },
      involvedObject: about,
      type,
      reason,
      message,
      source: { component: EVENT_SOURCE },
      reportingComponent: EVENT_SOURCE,
      reportingInstance: EVENT_SOURCE,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    };
  };
  const failed = (reason: string, error: unknown) =>
    log.warn('Could not record event', { reason, error: (error as Error).message });

  /** Raises the count of an existing Event (JSON patch testing the resourceVersion read: a concurrent raise wins). */
  async function raise(namespace: string, name: string): Promise<void> {
    const current = await client.get<CoreV1Event>({ kind: 'Event', namespace, name });
    if (!current) return;
    await client.jsonPatch({ kind: 'Event', namespace, name }, [
      { op: 'test', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion },
      { op: 'replace', path: '/count', value: (current.count ?? 1) + 1 },
      { op: 'replace', path: '/lastTimestamp', value: now().toISOString() },
    ]);
  }

  return {
    async record(about, type, reason, message) {
      try {
        const involved = involvedObject(about);
        const text = truncate(message);
        const name = eventName(involved.name, digest(involved.kind, involved.uid ?? '', type, reason, text));
        try {
          await client.create(event(name, involved, type, reason, text));
        } catch (error) {
          if (!isStatus(error, 409)) throw error;
          await raise(involved.namespace, name);
        }
      } catch (error) {
        // 409 or 422 from `raise`: another invocation counted the same Event at the same moment.
        if (!isStatus(error, 409) && !isStatus(error, 422)) failed(reason, error);
      }
    },
    async once(key, about, type, reason, message) {
      try {
        const involved = involvedObject(about);
        const name = onceEventName(involved.name, reason, key);
        // A GET first, so a repeat makes no write request; without permission to read Events, the create decides.
        const existing = await client.get({ kind: 'Event', namespace: involved.namespace, name }).catch((error) => {
          if (isStatus(error, 403)) return undefined;
          throw error;
        });
        if (existing) return 'exists';
        await client.create(event(name, involved, type, reason, truncate(message)));
        return 'recorded';
      } catch (error) {
        if (isStatus(error, 409)) return 'exists';
        failed(reason, error);
        return 'failed';
      }
    },
  };
}
