/**
 * The status a sync would write, computed from what was observed, without writing it. Shared by `syncCluster`
 * (which writes it when it changed) and fleet sync (which syncs a cluster when its status would change, e.g. its
 * pods became ready since the last sync). Pure: the current time is passed in.
 *
 * Source: Kubernetes API reference, apps/v1 StatefulSetStatus (readyReplicas, updatedReplicas,
 * observedGeneration); Zalando postgres-operator for the status values (`ClusterStatus*` in
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/apis/acid.zalan.do/v1/const.go).
 */
import type { Condition, PostgresqlStatus } from '../model/postgresql';
import type { Refusal } from './statefulset';
import { deriveStatus, statusChanged, type SyncObservation } from './status';

/** The fields of a live StatefulSet that readiness reads (apps/v1 StatefulSet). */
export interface StatefulSetReadiness {
  metadata?: { generation?: number; deletionTimestamp?: unknown };
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; replicas?: number; observedGeneration?: number };
}

/**
 * A `postgresql` object as read: only its status matters here (any JSON value; a legacy one is a plain string).
 * The second member admits loosely typed objects (`KubeObject`), which share no declared field with the first.
 */
export type StoredObject = { status?: unknown } | Readonly<Record<string, unknown>>;

/**
 * Whether the cluster's pods are all there and ready, as the StatefulSet's status says for its current generation.
 * (`updatedReplicas` is not used: pods whose annotations the sync patched instead of recreating them, or pods
 * created before the template got its hash annotation, stay on an older template revision for good.)
 * @param observed live children by `Kind/name`; the StatefulSet is `StatefulSet/<clusterName>`
 * @param instances the replicas the StatefulSet should have
 * @param podsUnchangedByWrite this sync wrote the StatefulSet, and the write changes no pod (no rolling update,
 *   re-create or replica change: e.g. a takeover adding the template hash). Its new generation is not seen by the
 *   controller yet, but the status of the last one still holds; without this the status would flap to Updating.
 * @returns readiness and a short progress text ("1 of 2 pods ready")
 */
export function podsReady(
  observed: ReadonlyMap<string, StatefulSetReadiness>,
  clusterName: string,
  instances: number,
  podsUnchangedByWrite = false,
): { ready: boolean; progress: string } {
  const sts = observed.get(`StatefulSet/${clusterName}`);
  const readyReplicas = sts?.status?.readyReplicas ?? 0;
  const seen = (sts?.status?.observedGeneration ?? 0) >= (sts?.metadata?.generation ?? 0);
  const sameCount = sts?.status?.replicas === instances;
  const current =
    sts !== undefined && !sts.metadata?.deletionTimestamp && (seen || (podsUnchangedByWrite && sameCount));
  const ready = sts !== undefined && current && readyReplicas >= instances && (sts.spec?.replicas ?? 0) === instances;
  return { ready, progress: `${Math.min(readyReplicas, instances)} of ${instances} pods ready` };
}

/**
 * Status fields that are not strings. Where the installed CRD takes only strings in `status` (Zalando's:
 * `additionalProperties: {type: string}`), they are stored as their JSON text (`stringStatusPatch`).
 */
const STRUCTURED_FIELDS = new Set(['conditions', 'warnings', 'observedGeneration']);

/**
 * @returns the status stored on the object, when it is an object (a legacy plain string, or null, counts as none);
 *   structured fields stored as JSON text are read back as values
 */
export function storedStatus(raw: StoredObject): PostgresqlStatus | undefined {
  if (!raw.status || typeof raw.status !== 'object') return undefined;
  const stored = raw.status as Record<string, unknown>;
  if (!Object.entries(stored).some(([k, v]) => STRUCTURED_FIELDS.has(k) && typeof v === 'string')) {
    return stored as PostgresqlStatus;
  }
  const decoded: Record<string, unknown> = { ...stored };
  for (const key of STRUCTURED_FIELDS) {
    if (typeof stored[key] !== 'string') continue;
    try {
      decoded[key] = JSON.parse(stored[key]);
    } catch {
      delete decoded[key]; // not ours: as if absent, so the next write replaces it
    }
  }
  return decoded as PostgresqlStatus;
}

/**
 * The merge patch that stores `next` where the CRD's status schema takes only strings (Zalando's operator's CRD):
 * structured fields as their JSON text, string fields as they are; stored keys not written again are nulled.
 * @param stored the stored status (any JSON value)
 */
export function stringStatusPatch(stored: unknown, next: PostgresqlStatus): { status: Record<string, unknown> } {
  const encoded = Object.fromEntries(
    Object.entries(next).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]),
  );
  return statusMergePatch(stored, encoded as PostgresqlStatus);
}

/** @returns the warnings stored in the status (`status.warnings`), which the Warning Events of a sync are not repeated for */
export function storedWarnings(raw: StoredObject): Set<string> {
  const warnings = storedStatus(raw)?.warnings;
  return new Set(Array.isArray(warnings) ? warnings.filter((w): w is string => typeof w === 'string') : []);
}

/** The condition types `deriveStatus` writes; other conditions (e.g. `RolesSynced`) belong to other steps. */
const DERIVED_CONDITIONS = new Set(['Ready', 'Progressing', 'Degraded']);

/** @returns the stored conditions that `deriveStatus` does not derive (written by other steps of the sync) */
export function otherConditions(raw: StoredObject): Condition[] {
  return (storedStatus(raw)?.conditions ?? []).filter((c) => !DERIVED_CONDITIONS.has(c.type));
}

/**
 * @param now the current time (condition transition times)
 * @param extra conditions owned by other steps, appended after the derived ones (as `syncCluster` writes them)
 * @returns the status to store for this observation, and whether it differs from the stored one
 */
export function nextStatus(
  raw: StoredObject,
  observation: SyncObservation,
  now: Date,
  extra: Condition[] = [],
): { status: PostgresqlStatus; changed: boolean } {
  const status = deriveStatus(observation, storedStatus(raw), now.toISOString());
  if (extra.length > 0) status.conditions = [...(status.conditions ?? []), ...extra];
  const before = storedStatus(raw) ?? (typeof raw.status === 'string' ? raw.status : undefined);
  return { status, changed: statusChanged(before, status) };
}

/**
 * The JSON merge patch (RFC 7386) of the status subresource that stores `next`: every stored key this status does
 * not set again is nulled, so fields this operator no longer writes (e.g. cleared warnings) go.
 * @param stored the stored status (any JSON value)
 */
export function statusMergePatch(stored: unknown, next: PostgresqlStatus): { status: Record<string, unknown> } {
  if (!stored || typeof stored !== 'object') return { status: next };
  const nulled = Object.fromEntries(Object.keys(stored).map((key) => [key, null]));
  return { status: { ...nulled, ...next } };
}

/**
 * Whether the stored status already reports this invalid manifest (status `Invalid` with the same message, for
 * this generation), so its Warning Event is not recorded again.
 * @param before the status before this sync wrote
 */
export function invalidAlreadyReported(
  before: PostgresqlStatus | undefined,
  message: string,
  generation: number,
): boolean {
  return (
    before?.PostgresClusterStatus === 'Invalid' &&
    before.conditions?.find((c) => c.type === 'Ready')?.message === message &&
    before.observedGeneration === generation
  );
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
    generation: inputs.generation,
    changed: inputs.changed,
    podsReady: inputs.pods.ready,
    progress: inputs.pods.progress,
    warnings: [...inputs.manifestWarnings, ...inputs.notes, ...blocked],
    ...(blocked.length > 0 ? { blocked } : {}),
  };
}
