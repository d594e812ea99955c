/**
 * What fleet sync does with one cluster of the inventory: `syncCluster` it, `finalizeCluster` it, or nothing (it is
 * in sync). Decided from the listed `postgresql` object first (no build); only when that does not decide is the
 * in-memory diff asked for (the same validation, build and plan as `syncCluster`, so "in sync" means "a sync would
 * write nothing").
 *
 * Reasons to act, in order: being deleted (finalize, while the finalizer is there), the `acid.zalan.do/sync-now`
 * annotation, no finalizer yet (or one `enable_finalizers` no longer asks for), the last sync failed (Zalando's repair), the status is not for the current
 * generation, a rolling update goes on (not paused), an invalid manifest not reported yet, a child drifted, the
 * status would change (e.g. the pods became ready), the role and database step failed or its master came up. A
 * scale-down held for a switchover looks like drift (the pods are not listed): such a cluster is synced, which reads
 * its pods and writes nothing.
 *
 * Pure: `lib/sync/fleet/diff.ts` extracts the record from the listed object and computes the diff.
 *
 * Source: Zalando postgres-operator docs, "Running periodic 'autorepair' scans of K8s objects" (resync and repair
 * periods; the repair scan re-syncs clusters whose last sync failed):
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/administrator.md.
 */
import { MAJOR_UPGRADE_CONDITION, UPGRADE_WAITS } from './major-upgrade';
import type { DesiredObject } from '../builders';
import { SYNC_NOW_ANNOTATION } from '../model/annotations';
import type { OperatorConfig } from '../model/config';
import type { Condition, PostgresqlStatus } from '../model/postgresql';
import { objectKey, type Action } from './plan';
import { findRolloutCondition } from './rollout-condition';

/** Statuses Zalando's repair scan re-syncs. */
export const FAILED_STATUSES: ReadonlySet<string> = new Set(['CreateFailed', 'UpdateFailed', 'SyncFailed']);

/** What fleet sync does with a cluster. */
export interface FleetDecision {
  action: 'sync' | 'finalize';
  /** why, e.g. `Service acid-a-repl is missing` */
  why: string;
}

/** The listed `postgresql` object, as far as the decision reads it before any build. */
export interface FleetRecord {
  /** `metadata.deletionTimestamp` is set */
  deleting: boolean;
  /** it carries the operator's finalizer */
  hasFinalizer: boolean;
  /** `metadata.annotations` */
  annotations?: Readonly<Record<string, string>>;
  /** `metadata.generation` (0 when it has none) */
  generation: number;
  /** the stored status, when it is an object (a legacy plain string counts as none) */
  status?: PostgresqlStatus;
  /** the role and database step's condition (`RolesSynced`), when stored */
  roles?: Condition;
}

/** What the in-memory diff found. */
export type FleetDiff =
  /** the manifest is invalid; `statusChanges`: the Invalid status is not stored yet */
  | { valid: false; statusChanges: boolean }
  | {
      valid: true;
      /** the reasons of the writes a sync would make to the cluster's own children (shared objects left out) */
      drift: readonly string[];
      /** the status a sync would write differs from the stored one */
      statusChanges: boolean;
      /** the pods' progress, e.g. `1 of 2 pods ready` */
      progress: string;
      /** the master Endpoints have an address (endpoints mode) */
      masterUp: boolean;
      /** users whose password rotation is due (`lib/roles/rotation.ts`): only the role step can rotate them */
      rotationsDue?: readonly string[];
    };

/**
 * @param record the listed object's metadata and stored status
 * @param diff computes the in-memory diff; called only when the record alone does not decide
 * @param config `kubernetes_use_configmaps`: with ConfigMaps the master is not published through Endpoints
 * @returns what to do, or undefined when the cluster is in sync
 */
export function fleetDecision(
  record: FleetRecord,
  diff: () => FleetDiff,
  config: Pick<OperatorConfig, 'kubernetes_use_configmaps' | 'enable_finalizers'>,
): FleetDecision | undefined {
  if (record.deleting) return record.hasFinalizer ? { action: 'finalize', why: 'being deleted' } : undefined;
  if (record.annotations?.[SYNC_NOW_ANNOTATION] !== undefined)
    return { action: 'sync', why: `annotation ${SYNC_NOW_ANNOTATION}` };
  if (config.enable_finalizers && !record.hasFinalizer) return { action: 'sync', why: 'no finalizer yet' };
  if (!config.enable_finalizers && record.hasFinalizer)
    return { action: 'sync', why: 'a finalizer that enable_finalizers no longer asks for' };
  const { status, generation } = record;
  if (status?.PostgresClusterStatus && FAILED_STATUSES.has(status.PostgresClusterStatus)) {
    return { action: 'sync', why: `last sync ended ${status.PostgresClusterStatus}` };
  }
  if (status?.observedGeneration !== generation) {
    return {
      action: 'sync',
      why: `generation ${generation} not synced yet (status is for ${status?.observedGeneration ?? 'none'})`,
    };
  }

  // A rolling update goes on one step per invocation; the event source's retries usually carry it, this catches
  // one whose retries stopped (and a Blocked one, which is not retried at once). A paused one waits for its annotation.
  const rolling = findRolloutCondition(status?.conditions);
  if (rolling?.status === 'True' && rolling.reason !== 'Paused')
    return { action: 'sync', why: `rolling update: ${rolling.message}` };
  // A major version upgrade that is due and waits for something a later sync may find (members, a maintenance
  // window, a slot, the mode turned on or the cluster upgraded by hand). A failed, refused or standby one waits for
  // a change of the object (its annotation or spec), which is an event of its own.
  const upgrade = status?.conditions?.find((c) => c.type === MAJOR_UPGRADE_CONDITION);
  if (upgrade?.status === 'True' && UPGRADE_WAITS.has(upgrade.reason ?? ''))
    return { action: 'sync', why: `major version upgrade: ${upgrade.reason}` };

  const found = diff();
  if (!found.valid)
    return found.statusChanges ? { action: 'sync', why: 'invalid manifest not reported yet' } : undefined;
  if (found.drift.length > 0) return { action: 'sync', why: found.drift.join('; ') };
  if (found.statusChanges) return { action: 'sync', why: `status changes (${found.progress})` };
  // (not while the master Endpoints have no address: the role step would only wait for it)
  if (found.rotationsDue?.length && (found.masterUp || config.kubernetes_use_configmaps))
    return { action: 'sync', why: `password rotation due: ${found.rotationsDue.join(', ')}` };
  return rolesDecision(record.roles, found.masterUp, config);
}

/**
 * The role and database step cannot be diffed in memory; its condition says whether to retry: a failure that may
 * pass is retried every run, a wait for the master only once the master Endpoints have an address (endpoints
 * mode; with ConfigMaps the pods turning ready changes the status, which syncs anyway).
 */
function rolesDecision(
  roles: Condition | undefined,
  masterUp: boolean,
  config: Pick<OperatorConfig, 'kubernetes_use_configmaps' | 'enable_finalizers'>,
): FleetDecision | undefined {
  if (!roles || roles.status === 'True') return undefined;
  if (roles.reason !== 'WaitingForMaster') return { action: 'sync', why: `roles and databases: ${roles.reason}` };
  if (config.kubernetes_use_configmaps) return undefined;
  return masterUp ? { action: 'sync', why: 'roles and databases: the master is up' } : undefined;
}

/** The Endpoints fields read here. */
export interface EndpointsLike {
  subsets?: ReadonlyArray<{ addresses?: readonly unknown[] }>;
}

/** @returns whether the master Endpoints have an address (a subset with at least one) */
export const masterEndpointsUp = (endpoints: EndpointsLike | undefined): boolean =>
  (endpoints?.subsets ?? []).some((s) => (s.addresses ?? []).length > 0);

/**
 * The shared ServiceAccount and RoleBinding are fleet sync's to create (or update), once per namespace: their
 * writes are not the cluster's drift.
 * @param actions the cluster's planned writes
 * @param shared the shared objects of the cluster's namespace (as built)
 * @returns the reasons of the writes to the cluster's own children
 */
export function clusterDrift(
  actions: readonly Action[],
  shared: readonly Pick<DesiredObject, 'kind' | 'metadata'>[],
): string[] {
  const sharedKeys = new Set(shared.map(objectKey));
  return actions.filter((a) => !sharedKeys.has(objectKey(a.object))).map((a) => a.reason);
}
