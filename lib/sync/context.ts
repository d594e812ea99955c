/**
 * What every sync needs from outside (the API, the operator config, the clock, Events, passwords) and the small
 * shapes the rooms of `lib/sync` pass each other. Every room imports these from here and nothing else from a
 * sibling's entry point, so no import cycle can form through them.
 */
import type { KubeClient } from '../k8s/client';
import { eventRecorder, type EventRecorder, type EventType } from '../k8s/events';
import type { LeaseTiming } from '../k8s/lease';
import type { Logger } from '../log/logger';
import type { OperatorConfig } from '../model/config';

/** Timings of a sync: the Lease, and how long to wait for an old StatefulSet to go during a re-create. */
export interface SyncTiming extends LeaseTiming {
  /** ms to wait for a StatefulSet deleted with orphan propagation to disappear; default 10000 */
  deletionWaitMs: number;
}

/** What a sync needs from outside: the API, the config, time, Events and randomness. */
export interface SyncContext {
  client: KubeClient;
  config: OperatorConfig;
  log: Logger;
  /** the clock: every time a sync uses comes from here (tests pass a fake one) */
  now: () => Date;
  /** Events, aggregated when identical (`lib/k8s/events.ts`) */
  events: EventRecorder;
  /** passwords of Secrets that do not exist yet (see `operator/passwords.ts`) */
  newPassword: PasswordSource;
  signal?: AbortSignal;
  /** the invocation's deadline (epoch ms): waits for a Lease or a deletion end before it */
  deadline?: number;
  /** Lease holder identity of this invocation; default a new one per sync (`<HOSTNAME>-<random>`) */
  holder?: string;
  /** overrides of the default timings */
  timing?: Partial<SyncTiming>;
  /**
   * the operator's namespace (where its ConfigMap lives): the fleet-wide rollout slots are kept there; without it
   * rolling updates are not rate limited across clusters (direct library use)
   */
  operatorNamespace?: string;
}

/**
 * @param parts the context without its Event recorder
 * @returns the context, with an Event recorder that writes through `parts.client` at `parts.now()`
 */
export function syncContext(parts: Omit<SyncContext, 'events'>): SyncContext {
  return { ...parts, events: eventRecorder(parts.client, parts.log, parts.now) };
}

/** Makes the password of a role of a cluster (`operator/passwords.ts` derives them from the operator's key). */
export type PasswordSource = (clusterUid: string, user: string) => string;

/** A step done, to be recorded as an Event about the cluster. */
export interface StepEvent {
  type: EventType;
  reason: string;
  message: string;
}

/** Where the operator ConfigMap lives. */
export interface ConfigLocation {
  namespace: string;
  name: string;
}
