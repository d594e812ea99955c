/**
 * Fleet sync's in-memory diff of one cluster: from the objects listed for the whole scope, decide whether the
 * cluster needs a `syncCluster` (or a `finalizeCluster`) and why, without a single request. It runs the same
 * validation, build and plan as `syncCluster`, so "in sync" here means "a sync would write nothing".
 *
 * Reasons to sync, in order: being deleted (finalize), the `acid.zalan.do/sync-now` annotation, no finalizer yet,
 * the last sync failed (Zalando's repair), the status is not for the current generation, a child drifted, the
 * status would change (e.g. the pods became ready), the role and database step failed or its master came up.
 * A scale-down held for a switchover looks like drift here (the pods are not listed): such a cluster is synced,
 * which reads its pods and writes nothing.
 */
import { secretUsers } from '../../builders';
import { secretName } from '../../builders/names';
import type { KubeObject } from '../../k8s/client';
import type { Postgresql } from '../../model/postgresql';
import { describeProblems, validatePostgresql } from '../../model/validate';
import { objectKey } from '../../plan/plan';
import { planCluster } from '../../plan/cluster';
import type { ObservedChildren } from '../cluster/observe';
import { nextStatus, otherConditions, podsReady, storedStatus, syncObservation } from '../cluster/status';
import { hasFinalizer } from '../cluster/finalizer';
import { ROLES_CONDITION } from '../roles/step';
import { ROLLING_UPDATE_CONDITION } from '../rollout/rolling-update';
import { SYNC_NOW_ANNOTATION } from '../cluster/sync-now';
import type { SyncContext } from '../context';

/** Statuses Zalando's repair scan re-syncs. */
const FAILED = new Set(['CreateFailed', 'UpdateFailed', 'SyncFailed']);

/** What fleet sync does with a cluster. */
export interface FleetDecision {
  action: 'sync' | 'finalize';
  /** why, e.g. `Service acid-a-repl is missing` */
  why: string;
}

/** Passwords from the listed Secrets; a missing Secret gets the derived password (and is drift anyway). */
function listedPasswords(ctx: SyncContext, cluster: Postgresql, observed: ObservedChildren): Record<string, string> {
  const passwords: Record<string, string> = {};
  for (const user of secretUsers(cluster, ctx.config).users) {
    const secret = observed.get(`Secret/${secretName(ctx.config, cluster.metadata.name, user)}`);
    const existing = secret?.data?.password as string | undefined;
    passwords[user] = existing ? Buffer.from(existing, 'base64').toString('utf8') : ctx.newPassword(cluster.metadata.uid ?? '', user);
  }
  return passwords;
}

/**
 * @param raw the `postgresql` object as listed
 * @param children its children as listed (by `Kind/name`)
 * @param shared the namespace's shared objects as listed (pod ServiceAccount, RoleBinding)
 * @returns what to do, or undefined when the cluster is in sync
 */
export function fleetDecision(ctx: SyncContext, raw: KubeObject, children: ObservedChildren | undefined, shared: ObservedChildren | undefined): FleetDecision | undefined {
  const metadata = raw.metadata ?? {};
  if (metadata.deletionTimestamp) return hasFinalizer(raw) ? { action: 'finalize', why: 'being deleted' } : undefined;
  if (metadata.annotations?.[SYNC_NOW_ANNOTATION] !== undefined) return { action: 'sync', why: `annotation ${SYNC_NOW_ANNOTATION}` };
  if (!hasFinalizer(raw)) return { action: 'sync', why: 'no finalizer yet' };
  const generation = (metadata.generation as number | undefined) ?? 0;
  const status = storedStatus(raw);
  if (FAILED.has(status?.PostgresClusterStatus ?? '')) return { action: 'sync', why: `last sync ended ${status!.PostgresClusterStatus}` };
  if (status?.observedGeneration !== generation) {
    return { action: 'sync', why: `generation ${generation} not synced yet (status is for ${status?.observedGeneration ?? 'none'})` };
  }

  // A rolling update goes on one step per invocation; the event source's retries usually carry it, this catches
  // one whose retries stopped (and a Blocked one, which is not retried at once). A paused one waits for its annotation.
  const rolling = otherConditions(raw).find((c) => c.type === ROLLING_UPDATE_CONDITION);
  if (rolling?.status === 'True' && rolling.reason !== 'Paused') return { action: 'sync', why: `rolling update: ${rolling.message}` };

  const validation = validatePostgresql(raw, { enableTeamIdClusterNamePrefix: ctx.config.enable_team_id_clustername_prefix });
  if (!validation.ok) {
    const next = nextStatus(raw, { generation, invalid: describeProblems(validation.problems), changed: false, podsReady: false, warnings: [] }, ctx.now());
    return next.changed ? { action: 'sync', why: 'invalid manifest not reported yet' } : undefined;
  }
  const cluster = { ...validation.cluster, metadata: { ...validation.cluster.metadata, namespace: metadata.namespace as string } };
  const observed: ObservedChildren = new Map([...(children ?? []), ...(shared ?? [])]);
  const planned = planCluster(cluster, observed, listedPasswords(ctx, cluster, observed), { config: ctx.config, fieldManager: ctx.client.fieldManager });
  // The shared ServiceAccount and RoleBinding are fleet sync's to create (or update), once per namespace.
  const sharedKeys = new Set(planned.state.shared.map(objectKey));
  const actions = planned.actions.filter((a) => !sharedKeys.has(objectKey(a.object)));
  if (actions.length > 0) {
    return { action: 'sync', why: actions.map((a) => a.reason).join('; ') };
  }
  const instances = (planned.state.objects.find((o) => o.kind === 'StatefulSet')?.spec as { replicas: number }).replicas;
  const pods = podsReady(observed, cluster.metadata.name, instances);
  const observation = syncObservation({
    generation, manifestWarnings: validation.warnings, notes: planned.state.notes, refusals: planned.statefulSet.refusals, pods, changed: false,
  });
  const next = nextStatus(raw, observation, ctx.now(), otherConditions(raw));
  if (next.changed) return { action: 'sync', why: `status changes (${pods.progress})` };
  return rolesDecision(ctx, raw, observed);
}

/**
 * The role and database step (`roles-step.ts`) cannot be diffed in memory; its condition says whether to retry:
 * a failure that may pass is retried every run, a wait for the master only once the master Endpoints have an
 * address (endpoints mode; with ConfigMaps the pods turning ready changes the status, which syncs anyway).
 */
function rolesDecision(ctx: SyncContext, raw: KubeObject, observed: ObservedChildren): FleetDecision | undefined {
  const roles = otherConditions(raw).find((c) => c.type === ROLES_CONDITION);
  if (!roles || roles.status === 'True') return undefined;
  if (roles.reason !== 'WaitingForMaster') return { action: 'sync', why: `roles and databases: ${roles.reason}` };
  if (ctx.config.kubernetes_use_configmaps) return undefined;
  const endpoints = observed.get(`Endpoints/${raw.metadata!.name}`);
  const subsets = (endpoints?.subsets ?? []) as Array<{ addresses?: unknown[] }>;
  return subsets.some((s) => (s.addresses ?? []).length > 0) ? { action: 'sync', why: 'roles and databases: the master is up' } : undefined;
}
