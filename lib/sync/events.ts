/**
 * Kubernetes Events on `postgresql` objects (and the operator ConfigMap), so `kubectl describe postgresql x`
 * tells what the operator did and why.
 *
 * Source: Kubernetes API reference, core/v1 Event.
 */
import type { KubeClient, KubeObject } from '../k8s/client';
import { POSTGRESQL } from '../model/postgresql';

export const EVENT_SOURCE = 'postgres-operator-functions';

/** What the Event is about. */
export interface InvolvedObject { apiVersion: string; kind: string; name: string; namespace: string; uid?: string }

/** @returns the involved object of an Event about a `postgresql` object (as read from the API) */
export function involvedPostgresql(raw: KubeObject): InvolvedObject {
  return { apiVersion: POSTGRESQL.apiVersion, kind: POSTGRESQL.kind, name: raw.metadata!.name, namespace: raw.metadata!.namespace, uid: raw.metadata!.uid };
}

/**
 * Records an Event. Failing to record one never fails the caller's work: the error is returned for logging.
 * @param type Normal or Warning
 * @param reason CamelCase reason, e.g. `Created`, `InvalidManifest`
 */
export async function recordEvent(client: KubeClient, about: InvolvedObject, type: 'Normal' | 'Warning', reason: string,
  message: string, now: Date): Promise<Error | undefined> {
  const time = now.toISOString();
  const event: KubeObject = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${about.name}.`, namespace: about.namespace },
    involvedObject: about,
    type,
    reason,
    message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
    source: { component: EVENT_SOURCE },
    reportingComponent: EVENT_SOURCE,
    reportingInstance: EVENT_SOURCE,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
  try {
    await client.create(event);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
