/**
 * `syncCluster`: converge one `postgresql` object's children to its manifest. Read the object and its children,
 * validate, build the desired objects, plan, apply what differs (server-side apply), then write status and Events
 * only when they change. Running it twice in a row makes no write request the second time.
 *
 * When the plan has writes, they are made while holding the cluster's Lease (`lease.ts`): the sync takes it, reads
 * everything again (another sync may have just done the work) and plans again, so two syncs of one cluster at once
 * end as one sync would, with one set of Events. A sync with nothing to write takes no Lease.
 *
 * StatefulSet changes go through `statefulset-steps.ts`: pods marked for a rolling update, pod annotations patched,
 * volumes grown, an orphaning re-create for fields Kubernetes refuses to change in place, a scale-down held while
 * it would remove the master. Refused changes (a smaller volume, such a scale-down) leave the running objects as
 * they are and are reported in status (`warnings`, Progressing `UpdateBlocked`) and as Warning Events, once.
 *
 * Pods flagged for a rolling update are then recreated one disruptive step per invocation (`rolling-update.ts`:
 * replicas first, a switchover, the old master last), under the Lease; the result stays `pending` until the last
 * pod is done, so the event source calls again.
 *
 * Bad input never throws: an invalid manifest ends in status `Invalid` and a Warning Event naming the fields, and no
 * child is touched. API failures end in a `*Failed` status and a result marked retryable.
 */
import type { DesiredObject } from '../../builders';
import { selectorLabels } from '../../builders/labels';
import { buildPodServiceAccount } from '../../builders/service-account';
import { isRetryable, isStatus } from '../../k8s/errors';
import type { KubeObject } from '../../k8s/client';
import type { Logger } from '../../log/logger';
import { POSTGRESQL, type Postgresql, type PostgresqlStatus } from '../../model/postgresql';
import { describeProblems, validatePostgresql, type ValidationResult } from '../../model/validate';
import { objectKey, type Action } from '../../plan/plan';
import type { Refusal } from '../../plan/statefulset';
import { deriveStatus, statusChanged, type SyncObservation } from '../../plan/status';
import { ensureFinalizer } from './finalizer';
import { observeChildren, passwordsFor, planCluster, type ObservedChildren } from './observe';
import { podsReady, syncObservation } from './status';
import { acquireLease, DEFAULT_LEASE_TIMING, HeldLease, newHolderIdentity } from '../../k8s/lease';
import { scaleDownHold } from './scale-down';
import { listPods } from '../pods/flags';
import { patroniConfigStep } from '../rollout/patroni-config';
import { rollingUpdateStep, type RolloutOutcome } from '../rollout/rolling-update';
import { syncStatefulSet } from './statefulset-steps';
import { clearSyncNow } from './sync-now';
import { syncRolesAndDatabases, type RolesSummary } from '../roles/step';
import type { StepEvent, SyncContext, SyncTiming } from '../context';
import { clusterLeaseTarget } from '../../builders/lease';

/** How a sync ended. */
export interface SyncResult {
  /** `busy`: another invocation held the cluster's Lease for the whole wait (retryable; it is doing the work) */
  outcome: 'synced' | 'invalid' | 'not-found' | 'deleting' | 'failed' | 'busy';
  /** the writes made to children, with their reasons */
  actions: Array<{ change: Action['change']; kind: string; name: string; reason: string }>;
  status?: string;
  /** for `failed` and `busy`: whether trying again later may succeed; for `synced`: set with `pending` */
  retryable?: boolean;
  error?: string;
  /** for `synced`: work left for a later sync (e.g. roles waiting for the master pod) */
  pending?: string;
  /** for `synced`: the rolling update goes on in a later invocation (a step was taken, or it waits), and why */
  rollingUpdate?: string;
  /** roles and databases in PostgreSQL, when they were synced */
  roles?: RolesSummary;
}

const DEFAULT_TIMING: SyncTiming = { ...DEFAULT_LEASE_TIMING, deletionWaitMs: 10_000 };

async function writeStatus(ctx: SyncContext, raw: KubeObject, observation: SyncObservation,
  extra: NonNullable<PostgresqlStatus['conditions']> = []): Promise<PostgresqlStatus> {
  const previous = typeof raw.status === 'object' ? raw.status as PostgresqlStatus : undefined;
  const status = deriveStatus(observation, previous, ctx.now().toISOString());
  if (extra.length) status.conditions = [...(status.conditions ?? []), ...extra];
  if (statusChanged(raw.status, status)) {
    await ctx.client.mergePatch({ kind: POSTGRESQL.kind, namespace: raw.metadata!.namespace, name: raw.metadata!.name },
      { status: raw.status && typeof raw.status === 'object' ? { ...nullOut(raw.status), ...status } : status }, 'status', ctx.signal);
  }
  return status;
}

/** Merge patch entries that remove status fields this operator no longer writes (e.g. cleared warnings). */
function nullOut(status: Record<string, unknown>): Record<string, null> {
  return Object.fromEntries(Object.keys(status).map((key) => [key, null]));
}

/** The object, ready to sync (finalizer added), or how the sync ends before it starts. */
async function readCluster(ctx: SyncContext, namespace: string, name: string): Promise<{ raw: KubeObject } | SyncResult> {
  for (let attempt = 0; ; attempt++) {
    let raw: KubeObject | undefined;
    try {
      raw = await ctx.client.get({ kind: POSTGRESQL.kind, namespace, name }, ctx.signal);
    } catch (error) {
      return { outcome: 'failed', actions: [], retryable: isRetryable(error), error: (error as Error).message };
    }
    if (!raw) return { outcome: 'not-found', actions: [] };
    if (raw.metadata?.deletionTimestamp) return { outcome: 'deleting', actions: [] };
    try {
      return { raw: await ensureFinalizer(ctx.client, raw, ctx.signal) };
    } catch (error) {
      // A failed `test` (422) means the object changed under us (e.g. a concurrent sync added the finalizer): read again.
      if (isStatus(error, 422) && attempt === 0) continue;
      return { outcome: 'failed', actions: [], retryable: true, error: `adding the finalizer: ${(error as Error).message}` };
    }
  }
}

/**
 * Converges one cluster.
 * @returns what was done; never throws for invalid input or API failures (see `outcome` and `retryable`)
 */
export async function syncCluster(ctx: SyncContext, namespace: string, name: string): Promise<SyncResult> {
  const log = ctx.log.with({ cluster: name, namespace });
  const read = await readCluster(ctx, namespace, name);
  if (!('raw' in read)) return read;
  const first = await syncOnce(ctx, read.raw, log);
  if (first !== NEEDS_LEASE) return first;

  const timing = { ...DEFAULT_TIMING, ...ctx.timing };
  const target = clusterLeaseTarget(read.raw.metadata as { name: string; namespace: string; uid?: string }, ctx.config);
  let lease;
  try {
    lease = await acquireLease(ctx.client, target, ctx.holder ?? newHolderIdentity(), timing, ctx.now, ctx.signal, ctx.deadline);
  } catch (error) {
    return { outcome: 'failed', actions: [], retryable: isRetryable(error), error: `taking the Lease ${target.name}: ${(error as Error).message}` };
  }
  if (!(lease instanceof HeldLease)) {
    log.info('Another sync holds the Lease', { holder: lease.heldBy });
    return { outcome: 'busy', actions: [], retryable: true, error: `Lease ${target.name} is held by ${lease.heldBy} until ${lease.until.toISOString()}` };
  }
  try {
    // Read everything again under the Lease: the previous holder may have made these changes already.
    const again = await readCluster(ctx, namespace, name);
    if (!('raw' in again)) return again;
    return await syncOnce(ctx, again.raw, log, lease, timing) as SyncResult;
  } finally {
    await lease.release();
  }
}

/** `syncOnce` without a Lease found writes to make. */
const NEEDS_LEASE = Symbol('needs the Lease');

/** One pass: validate, observe, plan, and (holding the Lease) apply; status and Events. */
async function syncOnce(ctx: SyncContext, raw: KubeObject, log: Logger, lease?: HeldLease, timing?: SyncTiming): Promise<SyncResult | typeof NEEDS_LEASE> {
  const namespace = raw.metadata!.namespace as string;
  const generation = (raw.metadata?.generation as number | undefined) ?? 0;
  const previousWarnings = new Set((typeof raw.status === 'object' ? raw.status?.warnings as string[] | undefined : undefined) ?? []);

  const validation = validatePostgresql(raw, { enableTeamIdClusterNamePrefix: ctx.config.enable_team_id_clustername_prefix });
  if (!validation.ok) return reportInvalid(ctx, raw, validation, generation, log);

  const cluster = { ...validation.cluster, metadata: { ...validation.cluster.metadata, namespace } };
  const actions: SyncResult['actions'] = [];
  const steps: StepEvent[] = [];
  const refusals: Refusal[] = [];
  let pending: string | undefined;
  try {
    const observed = await observeChildren(ctx, cluster, buildPodServiceAccount(ctx.config, namespace));
    await findStatefulSetByName(ctx, cluster, observed);
    const passwords = await passwordsFor(ctx, cluster, observed);
    let planned = planCluster(ctx, cluster, observed, passwords);
    const instances = (planned.state.objects.find((o) => o.kind === 'StatefulSet')?.spec as { replicas: number }).replicas;
    const hold = await scaleDownHold(ctx, cluster, planned.statefulSet,
      observed.get(`StatefulSet/${cluster.metadata.name}`)?.spec?.selector?.matchLabels ?? selectorLabels(cluster, ctx.config));
    if (hold) {
      planned = planCluster(ctx, cluster, observed, passwords, { keepReplicas: hold.keep });
      refusals.push(hold.refusal);
    }
    const state = planned.state;
    if (planned.actions.length > 0 && !lease) return NEEDS_LEASE;
    refusals.push(...planned.statefulSet.refusals);
    for (const action of planned.actions) {
      const key = objectKey(action.object);
      if (action.object.kind === 'StatefulSet') {
        const outcome = await syncStatefulSet(ctx, cluster, planned.statefulSet, observed.get(key), lease!, timing!.deletionWaitMs, ctx.deadline);
        steps.push(...outcome.events);
        pending = outcome.pending;
        if (!outcome.written) continue;
        observed.set(key, outcome.written);
      } else {
        const written = action.type === 'apply'
          ? await ctx.client.apply(action.object, ctx.signal)
          : await createShared(ctx, action.object);
        if (written) observed.set(key, written);
      }
      actions.push({ change: action.change, kind: action.object.kind, name: action.object.metadata.name, reason: action.reason });
      log.info(`${action.change === 'created' ? 'Created' : 'Updated'} ${action.object.kind}`, { name: action.object.metadata.name, reason: action.reason });
    }
    const rollout = await rollingUpdate(ctx, raw, cluster, observed, instances, lease);
    if (rollout.needsLease && !lease) return NEEDS_LEASE;
    const pods = podsReady(observed, cluster.metadata.name, instances);
    const manifestWarnings = [...validation.warnings, ...state.notes];
    const observation = syncObservation({
      generation, manifestWarnings: validation.warnings, notes: state.notes, refusals, pods, changed: actions.length > 0 || steps.length > 0,
    });
    const roles = await syncRolesAndDatabases(ctx, raw, cluster, observed, log);
    const status = await writeStatus(ctx, raw, observation, [roles.condition, rollout.condition].filter((c) => c !== undefined));
    if (actions.length > 0) {
      const created = actions.filter((a) => a.change === 'created').map((a) => `${a.kind} ${a.name}`);
      const updated = actions.filter((a) => a.change === 'updated').map((a) => a.reason);
      const message = [created.length ? `Created ${created.join(', ')}` : '', updated.length ? `Updated ${updated.join('; ')}` : '']
        .filter(Boolean).join('. ');
      await ctx.events.record(raw, 'Normal', created.length && !updated.length ? 'Created' : 'Updated', message);
    }
    for (const step of steps) {
      await ctx.events.record(raw, step.type, step.reason, step.message);
      log.info(step.message, { reason: step.reason });
    }
    for (const step of rollout.events) {
      await ctx.events.record(raw, step.type, step.reason, step.message);
      log.info(step.message, { reason: step.reason });
    }
    for (const refusal of refusals.filter((r) => !previousWarnings.has(r.message))) {
      await ctx.events.record(raw, 'Warning', refusal.reason, refusal.message);
      log.warn('Change refused', { reason: refusal.message });
    }
    if (manifestWarnings.some((w) => !previousWarnings.has(w))) {
      await ctx.events.record(raw, 'Warning', 'ManifestWarnings', manifestWarnings.join('; '));
      for (const warning of manifestWarnings) log.warn('Manifest warning', { reason: warning });
    }
    if (await clearSyncNow(ctx.client, raw, ctx.signal)) log.info('Honoured the sync-now annotation');
    const later = [pending, rollout.pending, roles.pending].filter(Boolean).join('; ');
    return { outcome: 'synced', actions, status: status.PostgresClusterStatus, ...(later ? { retryable: true, pending: later } : {}),
      ...(rollout.pending ? { rollingUpdate: rollout.pending } : {}), ...(roles.summary ? { roles: roles.summary } : {}) };
  } catch (error) {
    const message = (error as Error).message;
    log.error('Sync failed', { error: message });
    try {
      await writeStatus(ctx, raw, { generation, failed: message, changed: actions.length > 0 || steps.length > 0, podsReady: false, warnings: validation.warnings });
      for (const step of steps) await ctx.events.record(raw, step.type, step.reason, step.message);
      await ctx.events.record(raw, 'Warning', 'SyncFailed', message);
    } catch (statusError) {
      log.warn('Could not write failure status', { error: (statusError as Error).message });
    }
    return { outcome: 'failed', actions, retryable: isRetryable(error), error: message };
  }
}

/** Status Invalid and a Warning Event (once per problem and generation); no child is touched. */
async function reportInvalid(ctx: SyncContext, raw: KubeObject, validation: Extract<ValidationResult, { ok: false }>, generation: number,
  log: Logger): Promise<SyncResult> {
  const message = describeProblems(validation.problems);
  try {
    const before = typeof raw.status === 'object' ? raw.status as PostgresqlStatus : undefined;
    const status = await writeStatus(ctx, raw, { generation, invalid: message, changed: false, podsReady: false, warnings: [] });
    if (before?.PostgresClusterStatus !== 'Invalid' || before.conditions?.find((c) => c.type === 'Ready')?.message !== message
      || before.observedGeneration !== generation) {
      await ctx.events.record(raw, 'Warning', 'InvalidManifest', message);
      log.warn('Invalid manifest', { reason: message });
    }
    await clearSyncNow(ctx.client, raw, ctx.signal);
    return { outcome: 'invalid', actions: [], status: status.PostgresClusterStatus, error: message };
  } catch (error) {
    return { outcome: 'failed', actions: [], retryable: isRetryable(error), error: (error as Error).message };
  }
}

/**
 * On the cluster's pods, listed by the StatefulSet's selector: Patroni's dynamic configuration brought to the
 * manifest's (`patroni-config-step.ts`), then the rolling-update step (`rolling-update.ts`); their Events together.
 */
async function rollingUpdate(ctx: SyncContext, raw: KubeObject, cluster: Postgresql, observed: ObservedChildren, instances: number,
  lease: HeldLease | undefined): Promise<RolloutOutcome> {
  const statefulSet = observed.get(`StatefulSet/${cluster.metadata.name}`);
  if (!statefulSet) return { events: [] };
  const selector = (statefulSet.spec?.selector?.matchLabels as Record<string, string> | undefined) ?? selectorLabels(cluster, ctx.config);
  const pods = await listPods(ctx, cluster.metadata.namespace!, selector);
  const patroni = await patroniConfigStep(ctx, cluster, pods, lease !== undefined);
  if (patroni.needsLease) return { events: [], needsLease: true };
  const rollout = await rollingUpdateStep(ctx, raw, cluster, pods, (statefulSet.spec?.replicas as number | undefined) ?? instances, lease);
  return { ...rollout, events: [...patroni.events, ...rollout.events] };
}

/**
 * The StatefulSet is looked up by name when the label list missed it (its labels were edited, or `cluster_labels`
 * changed): applying over it without knowing it would hit the fields Kubernetes refuses to change.
 */
async function findStatefulSetByName(ctx: SyncContext, cluster: Postgresql, observed: ObservedChildren): Promise<void> {
  const key = `StatefulSet/${cluster.metadata.name}`;
  if (observed.has(key)) return;
  const found = await ctx.client.get({ kind: 'StatefulSet', namespace: cluster.metadata.namespace!, name: cluster.metadata.name }, ctx.signal);
  if (found) observed.set(key, found);
}

/** Creates a shared object; one created meanwhile by a concurrent sync counts as done. */
async function createShared(ctx: SyncContext, object: DesiredObject): Promise<KubeObject | undefined> {
  try {
    return await ctx.client.create(object, ctx.signal);
  } catch (error) {
    if ((error as { status?: number }).status === 409) return undefined;
    throw error;
  }
}
