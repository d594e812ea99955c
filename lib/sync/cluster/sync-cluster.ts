/**
 * `syncCluster`: converge one `postgresql` object's children to its manifest. Read the object and its children,
 * validate, build the desired objects, plan, apply what differs (server-side apply), then write status and Events
 * only when they change. Running it twice in a row makes no write request the second time.
 *
 * When the plan has writes, they are made while holding the cluster's Lease (`cluster-lease.ts`): the sync takes
 * it, reads everything again (another sync may have just done the work) and plans again, so two syncs of one
 * cluster at once end as one sync would, with one set of Events. A sync with nothing to write takes no Lease.
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
 *
 * The phases of a pass, each a function of its own: observe (reads only) -> plan (pure, `lib/plan/cluster.ts`)
 * -> the Lease, when the plan writes -> apply -> the pod steps -> record (status and Events). The shape follows
 * CloudNativePG's `reconcile()`: a chain of guards, each ending the sync early with its reason.
 */
import { leaseName } from '../../builders/lease';
import { isRetryable } from '../../k8s/errors';
import { HeldLease, type LeaseSnapshot } from '../../k8s/lease';
import type { Logger } from '../../log/logger';
import { describeProblems, validatePostgresql, validationOptions } from '../../model/validate';
import { needsWrites, planCluster, type ClusterPlanResult } from '../../plan/cluster';
import { syncRolesAndDatabases } from '../roles/step';
import type { SyncContext } from '../context';
import { applyChildren, type Applied } from './apply-children';
import { acquireClusterLease, readClusterLease, underClusterLease, type LeaseHolding } from './cluster-lease';
import { ensureFinalizer, removeFinalizer } from './finalizer';
import { createChildren } from './create-children';
import { claimFirstSync } from './first-syncs';
import {
  newClusterObservation,
  observeChildren,
  observeCluster,
  podSelector,
  type NamespacedPostgresql,
  type Observation,
  type ObservedChildren,
} from './observe';
import { podSteps } from './pod-steps';
import { readCluster, type PostgresqlObject } from './read-cluster';
import { recordFailure, recordInvalid, recordSynced } from './record';
import { failedBeforeWrites, type SyncResult } from './result';
import { scaleDownHold } from './scale-down';

/** How a sync ended (`result.ts`); exported here too, where callers of `syncCluster` look for it. */
export type { SyncResult } from './result';

/** What the caller of a sync read, or was told, already. */
export interface SyncStart {
  /**
   * the cluster's Lease as read before anything of the cluster (`readClusterLease`; the functions start it beside the
   * operator config); read by the sync when absent
   */
  leaseRead?: Promise<LeaseSnapshot>;
  /**
   * the object as its add event carried it: when no operator has written its status yet (a new cluster), the first
   * sync writes its children from it at once, creating only what is missing, beside the Lease (`syncNewCluster`)
   */
  added?: PostgresqlObject;
}

/**
 * @returns whether the object is one no operator has synced yet: it has a uid, no status and is not being deleted
 *   (a cluster taken over from Zalando's operator has its status)
 */
export function isNewCluster(object: PostgresqlObject): boolean {
  return object.status === undefined && !object.metadata.deletionTimestamp && Boolean(object.metadata.uid);
}

/**
 * Converges one cluster.
 * @param start what the caller read or was told already ({@link SyncStart})
 * @returns what was done; never throws for invalid input or API failures (see `outcome` and `retryable`)
 */
export async function syncCluster(
  ctx: SyncContext,
  namespace: string,
  name: string,
  start: SyncStart = {},
): Promise<SyncResult> {
  // A new cluster's add delivered again (a retry carries the object as it was added) takes the usual path.
  if (start.added && isNewCluster(start.added) && claimFirstSync(start.added.metadata.uid!)) {
    const result = await syncNewCluster(ctx, start.added);
    if (result) return result;
  }
  const log = ctx.log.with({ cluster: name, namespace });
  // The Lease first: when it is free and stays unchanged until this sync takes it, what is read after it is still
  // true under it (no re-read). Then the object and its children at once.
  let snapshot: LeaseSnapshot;
  try {
    snapshot = await (start.leaseRead ?? readClusterLease(ctx, namespace, name));
  } catch (error) {
    return failedBeforeWrites(error, isRetryable(error), `reading the Lease ${leaseName(name)}`);
  }
  const children = observeChildren(ctx, namespace, name);
  // Awaited by the pass; a sync that ends before it (object gone, invalid) leaves its failure unread.
  children.catch(() => undefined);
  const read = await readCluster(ctx, namespace, name);
  if (!read.ok) return read.result;
  // A first pass without the Lease: a sync with nothing to write ends here, without a write request to children.
  const first = await syncPass(ctx, read.raw, log, { held: false }, children);
  if (first.ended) return first.result;
  log.debug('Taking the Lease', { why: first.needsLease });
  return underClusterLease(
    ctx,
    read.raw,
    log,
    async (holding) => {
      // Nobody held the Lease since the first pass's reads began (this sync created it, or took it released and
      // unchanged since the snapshot): what they read still holds. Otherwise read everything again: the previous
      // holder may have made these changes already.
      if (holding.lease.noWriterSinceRead) {
        const second = await syncPass(ctx, read.raw, log, holding, first.observation);
        if (second.ended) return second.result;
      }
      const again = await readCluster(ctx, namespace, name);
      if (!again.ok) return again.result;
      const second = await syncPass(ctx, again.raw, log, holding);
      if (second.ended) return second.result;
      return askedForLeaseAgain(second.needsLease);
    },
    snapshot,
  );
}

/**
 * The first sync of a new cluster ({@link isNewCluster}), the path of a create: one round of requests makes every
 * child, written at once from the object its add event carried, each only if it does not exist yet
 * (`create-children.ts`), while the Lease is created (no read of it first) and the finalizer is added or removed.
 * Then the pod steps, roles, status and Events follow under the Lease, as on the usual path. (Sending the Lease and
 * the finalizer after the children instead, so as not to slow them on a busy API server, measured no better in
 * `npm run bench -- peer`, and the burst slower: one more round per create.)
 *
 * Nothing is read before writing because nothing can be lost: a child that exists is left as it is (409), and
 * another sync racing this one writes the same objects (the passwords are derived from the cluster's uid) or newer
 * ones, which a create-only write never replaces. When a child existed, the pass reads everything under the
 * Lease and goes on the usual way; a newer spec arrives as an update and is synced after.
 * @returns the result, or undefined when the usual path is to start over (the Lease is someone else's, the object
 *   changed or went away under the finalizer patch, a write failed: it reads again and reports what fails)
 */
async function syncNewCluster(ctx: SyncContext, added: PostgresqlObject): Promise<SyncResult | undefined> {
  const { namespace, name } = added.metadata;
  const log = ctx.log.with({ cluster: name, namespace });
  const validation = validatePostgresql(added, validationOptions(ctx.config));
  if (!validation.ok) return undefined; // reported by the usual path
  const cluster: NamespacedPostgresql = {
    ...validation.cluster,
    metadata: { ...validation.cluster.metadata, namespace },
  };
  const observation = newClusterObservation(ctx, cluster);
  let plan: ClusterPlanResult;
  try {
    plan = await planPass(ctx, cluster, observation);
  } catch {
    return undefined;
  }
  const applied: Applied = { actions: [], steps: [] };
  const written = createChildren(ctx, cluster, plan, observation.children, applied, log);
  written.catch(() => undefined); // awaited below
  const follow = ctx.config.enable_finalizers ? ensureFinalizer : removeFinalizer;
  const followed = follow(ctx.client, added, ctx.signal);
  followed.catch(() => undefined); // awaited under the Lease
  const settled = () => Promise.allSettled([written, followed]);
  let taken: Awaited<ReturnType<typeof acquireClusterLease>>;
  try {
    // Created or not at all: waiting for a Lease that exists is the usual path's.
    const createOnly = { ...ctx, timing: { ...ctx.timing, waitMs: 0 } };
    taken = await acquireClusterLease(createOnly, added.metadata, { lease: undefined });
  } catch {
    await settled();
    return undefined;
  }
  const { lease, timing } = taken;
  if (!(lease instanceof HeldLease)) {
    await settled();
    return undefined;
  }
  try {
    let raw: PostgresqlObject;
    let existing: string[];
    try {
      existing = await written;
      raw = await followed;
    } catch {
      await settled();
      return undefined;
    }
    const holding = { held: true as const, lease, deletionWaitMs: timing.deletionWaitMs };
    if (existing.length > 0) {
      // This sync created the Lease, so no other sync has written children of this cluster: what this one created is
      // its own to report. The usual pass, under the Lease, reads everything and adds what it does to these writes.
      log.info('Children of the new cluster exist already: reading them', { existing });
      const again = await readCluster(ctx, namespace, name);
      if (!again.ok) return again.result;
      const pass = await syncPass(ctx, again.raw, log, holding, undefined, applied);
      return pass.ended ? pass.result : askedForLeaseAgain(pass.needsLease);
    }
    const manifestWarnings = validation.warnings;
    const pass = await afterApply(ctx, raw, log, holding, { cluster, manifestWarnings, plan, observation, applied });
    return pass.ended ? pass.result : askedForLeaseAgain(pass.needsLease);
  } finally {
    await lease.release();
  }
}

/** Not reached: under the Lease every step may write. Should a step ask anyway, retry instead of looping. */
const askedForLeaseAgain = (why: string): SyncResult => ({
  outcome: 'failed',
  actions: [],
  retryable: true,
  error: `a step asked for the Lease while holding it: ${why}`,
});

/** How a pass ended: with a result, or stopped before its first write because it does not hold the Lease. */
type PassOutcome = { ended: true; result: SyncResult } | { ended: false; needsLease: string; observation: Observation };

const ended = (result: SyncResult): PassOutcome => ({ ended: true, result });

/**
 * One pass: validate, observe, plan, apply (holding the Lease), the pod steps, the role step, then status and
 * Events. Without the Lease it stops at the first write it would make.
 * @param observed what an earlier pass observed (still true), or the children read already started; read here when
 *   absent
 * @param earlier what this sync wrote before the pass (a new cluster's first writes), reported with the pass's own
 */
async function syncPass(
  ctx: SyncContext,
  raw: PostgresqlObject,
  log: Logger,
  holding: LeaseHolding,
  observed?: Observation | Promise<ObservedChildren>,
  earlier: Applied = { actions: [], steps: [] },
): Promise<PassOutcome> {
  const validation = validatePostgresql(raw, validationOptions(ctx.config));
  if (!validation.ok) return ended(await recordInvalid(ctx, raw, describeProblems(validation.problems), log));
  const cluster: NamespacedPostgresql = {
    ...validation.cluster,
    metadata: { ...validation.cluster.metadata, namespace: raw.metadata.namespace },
  };

  const applied = earlier;
  let written: Written;
  try {
    const observation =
      observed === undefined || observed instanceof Promise ? await observeCluster(ctx, cluster, observed) : observed;
    const plan = await planPass(ctx, cluster, observation);
    if (needsWrites(plan)) {
      if (!holding.held) return { ended: false, needsLease: plan.actions.map((a) => a.reason).join('; '), observation };
      await applyChildren(ctx, cluster, plan, observation.children, holding, applied, log);
    }
    written = { cluster, manifestWarnings: validation.warnings, plan, observation, applied };
  } catch (error) {
    return ended(await recordFailure(ctx, raw, log, validation.warnings, applied, error));
  }
  return afterApply(ctx, raw, log, holding, written);
}

/** What a pass knows once the children are written: the input of {@link afterApply}. */
interface Written {
  cluster: NamespacedPostgresql;
  manifestWarnings: string[];
  plan: ClusterPlanResult;
  observation: Observation;
  applied: Applied;
}

/**
 * The rest of a pass once the children are written: the pod steps, the role step, then status and Events. Without
 * the Lease it stops at the first write it would make.
 */
async function afterApply(
  ctx: SyncContext,
  raw: PostgresqlObject,
  log: Logger,
  holding: LeaseHolding,
  { cluster, manifestWarnings, plan, observation, applied }: Written,
): Promise<PassOutcome> {
  try {
    const lease = holding.held ? holding.lease : undefined;
    const rollout = await podSteps(
      ctx,
      raw,
      cluster,
      observation.children,
      plan.instances,
      lease,
      applied.createdWithoutPods,
    );
    if (rollout.needsLease && !holding.held)
      return { ended: false, needsLease: 'a Patroni configuration or rolling update step', observation };
    // DDL and the Secrets of infrastructure roles are written under the Lease too: two syncs never run DDL at once.
    const roles = await syncRolesAndDatabases(ctx, raw, cluster, observation.children, log, {
      leaseHeld: holding.held,
    });
    if (roles.needsLease) return { ended: false, needsLease: roles.needsLease, observation };
    return ended(
      await recordSynced(ctx, raw, log, {
        manifestWarnings,
        plan,
        observed: observation.children,
        applied,
        rollout,
        roles,
      }),
    );
  } catch (error) {
    return ended(await recordFailure(ctx, raw, log, manifestWarnings, applied, error));
  }
}

/**
 * The plan phase (also the operator API's plan preview, lib/api/plan-route.ts): the pure plan
 * (`lib/plan/cluster.ts`), and when it scales down, the pods read to see whether the
 * scale-down would remove the master (then it is planned again, holding the replicas: `scale-down.ts`).
 * @returns the plan and its refusals; throws KubeApiError when the pods cannot be listed
 */
export async function planPass(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  observation: Observation,
): Promise<ClusterPlanResult> {
  const settings = { config: ctx.config, fieldManager: ctx.client.fieldManager };
  const planned = planCluster(cluster, observation.children, observation.passwords, settings);
  const selector = podSelector(ctx, cluster, observation.children.get(`StatefulSet/${cluster.metadata.name}`));
  const hold = await scaleDownHold(ctx, cluster, planned.statefulSet, selector);
  if (!hold) return { ...planned, refusals: planned.statefulSet.refusals };
  const held = planCluster(cluster, observation.children, observation.passwords, {
    ...settings,
    keepReplicas: hold.keep,
  });
  return { ...held, refusals: [hold.refusal, ...held.statefulSet.refusals] };
}
