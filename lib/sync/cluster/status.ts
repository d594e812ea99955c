/**
 * The status a sync would write, computed from what was observed, without writing it. Shared by `syncCluster`
 * (which writes it when it changed) and fleet sync (which syncs a cluster when its status would change, e.g. its
 * pods became ready since the last sync).
 *
 * Source: Kubernetes API reference, apps/v1 StatefulSetStatus (readyReplicas, updatedReplicas,
 * observedGeneration); Zalando postgres-operator docs for the status values (research/zalando.md §1.3).
 */
import type { KubeObject } from '../../k8s/client';
import type { Condition, PostgresqlStatus } from '../../model/postgresql';
import type { Refusal } from '../../plan/statefulset';
import { deriveStatus, statusChanged, type SyncObservation } from '../../plan/status';

/** Observed children by `Kind/name`. */
type ObservedChildren = ReadonlyMap<string, KubeObject>;

/**
 * Whether the cluster's pods are all there and ready, as the StatefulSet's status says for its current generation.
 * (`updatedReplicas` is not used: pods whose annotations the sync patched instead of recreating them, or pods
 * created before the template got its hash annotation, stay on an older template revision for good.)
 * @param instances the replicas the StatefulSet should have
 * @returns readiness and a short progress text ("1 of 2 pods ready")
 */
export function podsReady(observed: ObservedChildren, clusterName: string, instances: number): { ready: boolean; progress: string } {
  const sts = observed.get(`StatefulSet/${clusterName}`);
  const status = (sts?.status ?? {}) as { readyReplicas?: number; observedGeneration?: number };
  const readyReplicas = status.readyReplicas ?? 0;
  const current = sts !== undefined && !sts.metadata?.deletionTimestamp && (status.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0);
  const ready = sts !== undefined && current && readyReplicas >= instances && (sts.spec?.replicas ?? 0) === instances;
  return { ready, progress: `${Math.min(readyReplicas, instances)} of ${instances} pods ready` };
}

/** @returns the status stored on the object, when it is an object (a legacy plain string counts as none) */
export function storedStatus(raw: KubeObject): PostgresqlStatus | undefined {
  return raw.status && typeof raw.status === 'object' ? raw.status as PostgresqlStatus : undefined;
}

/** The condition types `deriveStatus` writes; other conditions (e.g. `RolesSynced`) belong to other steps. */
const DERIVED_CONDITIONS = new Set(['Ready', 'Progressing', 'Degraded']);

/** @returns the stored conditions that `deriveStatus` does not derive (written by other steps of the sync) */
export function otherConditions(raw: KubeObject): Condition[] {
  return (storedStatus(raw)?.conditions ?? []).filter((c) => !DERIVED_CONDITIONS.has(c.type));
}

/**
 * @param now the current time (condition transition times)
 * @param extra conditions owned by other steps, appended after the derived ones (as `syncCluster` writes them)
 * @returns the status to store for this observation, and whether it differs from the stored one
 */
export function nextStatus(raw: KubeObject, observation: SyncObservation, now: Date, extra: Condition[] = []): { status: PostgresqlStatus; changed: boolean } {
  const status = deriveStatus(observation, storedStatus(raw), now.toISOString());
  if (extra.length > 0) status.conditions = [...(status.conditions ?? []), ...extra];
  return { status, changed: statusChanged(raw.status, status) };
}

/** What goes into the status besides the pods: manifest warnings, planner notes, refused changes. */
export interface ObservationInputs {
  generation: number;
  /** warnings of the manifest (fields accepted but not acted on) */
  manifestWarnings: readonly string[];
  /** notes of the builders (clamped instances, skipped users) */
  notes: readonly string[];
  /** changes not made, with why */
  refusals: readonly Refusal[];
  pods: { ready: boolean; progress: string };
  /** this sync wrote to children */
  changed: boolean;
}

/** @returns the observation for `deriveStatus`: refusals are warnings and block Progressing */
export function syncObservation(inputs: ObservationInputs): SyncObservation {
  const blocked = inputs.refusals.map((r) => r.message);
  return {
    generation: inputs.generation, changed: inputs.changed, podsReady: inputs.pods.ready, progress: inputs.pods.progress,
    warnings: [...inputs.manifestWarnings, ...inputs.notes, ...blocked], ...(blocked.length > 0 ? { blocked } : {}),
  };
}
