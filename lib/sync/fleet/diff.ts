/**
 * Fleet sync's in-memory diff of one cluster: from the objects listed for the whole scope, decide whether the
 * cluster needs a `syncCluster` (or a `finalizeCluster`) and why, without a single request. The decision is
 * `lib/plan/fleet.ts`; here the listed object becomes its record, and the diff runs the same validation, build and
 * plan as `syncCluster`, so "in sync" here means "a sync would write nothing".
 *
 * A scale-down held for a switchover looks like drift here (the pods are not listed): such a cluster is synced,
 * which reads its pods and writes nothing.
 */
import type { V1Endpoints, V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import { secretUsers } from '../../builders';
import { secretName } from '../../builders/names';
import type { Postgresql } from '../../model/postgresql';
import { describeProblems, validatePostgresql, validationOptions } from '../../model/validate';
import {
  clusterDrift,
  fleetDecision,
  masterEndpointsUp,
  type FleetDecision,
  type FleetDiff,
  type FleetRecord,
} from '../../plan/fleet';
import { passwordRotationsDue, planCluster } from '../../plan/cluster';
import type { ObservedChildren } from '../cluster/observe';
import { hasFinalizer } from '../cluster/finalizer';
import { ROLES_CONDITION } from '../roles/step';
import type { SyncContext } from '../context';
import { inputsOf, knownInSync, rememberInSync } from './in-sync-memo';
import { nextStatus, otherConditions, podsReady, storedStatus, syncObservation } from '../../plan/cluster-status';

/** A `postgresql` object as listed: its metadata and stored status (the manifest is validated before it is used). */
export interface ListedCluster {
  metadata?: V1ObjectMeta;
  status?: unknown;
  [field: string]: unknown;
}

/** Passwords from the listed Secrets; a missing Secret gets the derived password (and is drift anyway). */
function listedPasswords(ctx: SyncContext, cluster: Postgresql, observed: ObservedChildren): Record<string, string> {
  const passwords: Record<string, string> = {};
  for (const user of secretUsers(cluster, ctx.config).users) {
    const secret: V1Secret | undefined = observed.get(`Secret/${secretName(ctx.config, cluster.metadata.name, user)}`);
    const existing = secret?.data?.password;
    passwords[user] = existing
      ? Buffer.from(existing, 'base64').toString('utf8')
      : ctx.newPassword(cluster.metadata.uid ?? '', user);
  }
  return passwords;
}

/** @returns what the decision reads of the listed object before any build */
function fleetRecord(raw: ListedCluster): FleetRecord {
  const metadata = raw.metadata ?? {};
  return {
    deleting: Boolean(metadata.deletionTimestamp),
    hasFinalizer: hasFinalizer(raw),
    annotations: metadata.annotations,
    generation: metadata.generation ?? 0,
    status: storedStatus(raw),
    roles: otherConditions(raw).find((c) => c.type === ROLES_CONDITION),
  };
}

/**
 * @param raw the `postgresql` object as listed
 * @param children its children as listed (by `Kind/name`)
 * @param shared the namespace's shared objects as listed (pod ServiceAccount, RoleBinding)
 * @returns what to do, or undefined when the cluster is in sync
 */
export function diffCluster(
  ctx: SyncContext,
  raw: ListedCluster,
  children: ObservedChildren | undefined,
  shared: ObservedChildren | undefined,
): FleetDecision | undefined {
  const record = fleetRecord(raw);
  return fleetDecision(record, () => inMemoryDiff(ctx, raw, record.generation, children, shared), ctx.config);
}

/** Validates, builds and plans the cluster against its listed children, and computes the status a sync would write. */
function inMemoryDiff(
  ctx: SyncContext,
  raw: ListedCluster,
  generation: number,
  children: ObservedChildren | undefined,
  shared: ObservedChildren | undefined,
): FleetDiff {
  const validation = validatePostgresql(raw, validationOptions(ctx.config));
  if (!validation.ok) {
    const next = nextStatus(
      raw,
      { generation, invalid: describeProblems(validation.problems), changed: false, podsReady: false, warnings: [] },
      ctx.now(),
    );
    return { valid: false, statusChanges: next.changed };
  }
  // Listed objects of a namespaced kind always carry their namespace.
  const cluster = {
    ...validation.cluster,
    metadata: { ...validation.cluster.metadata, namespace: raw.metadata?.namespace ?? '' },
  };
  const observed: ObservedChildren = new Map([...(children ?? []), ...(shared ?? [])]);
  const rotationsDue = passwordRotationsDue(cluster, ctx.config, observed, ctx.now());
  // Found in sync before with these same inputs: no build, plan or status to compute again (`in-sync-memo.ts`).
  const uid = cluster.metadata.uid ?? '';
  const inputs = uid ? inputsOf(raw, observed) : undefined;
  const known = inputs && knownInSync(ctx.config, uid, inputs);
  if (known) return { valid: true, drift: [], statusChanges: false, ...known, rotationsDue };
  const planned = planCluster(cluster, observed, listedPasswords(ctx, cluster, observed), {
    config: ctx.config,
    fieldManager: ctx.client.fieldManager,
  });
  const pods = podsReady(observed, cluster.metadata.name, planned.instances);
  const observation = syncObservation({
    generation,
    manifestWarnings: validation.warnings,
    notes: planned.state.notes,
    refusals: planned.statefulSet.refusals,
    pods,
    changed: false,
  });
  const masterEndpoints: V1Endpoints | undefined = observed.get(`Endpoints/${cluster.metadata.name}`);
  const drift = clusterDrift(planned.actions, planned.state.shared);
  const statusChanges = nextStatus(raw, observation, ctx.now(), otherConditions(raw)).changed;
  const found = { progress: pods.progress, masterUp: masterEndpointsUp(masterEndpoints) };
  if (inputs) rememberInSync(ctx.config, uid, inputs, drift.length === 0 && !statusChanges ? found : undefined);
  return { valid: true, drift, statusChanges, ...found, rotationsDue };
}
