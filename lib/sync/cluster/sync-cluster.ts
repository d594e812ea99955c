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
import type { Logger } from '../../log/logger';
import { describeProblems, validatePostgresql, validationOptions } from '../../model/validate';
import { needsWrites, planCluster, type ClusterPlanResult } from '../../plan/cluster';
import { syncRolesAndDatabases } from '../roles/step';
import type { SyncContext } from '../context';
import { applyChildren, type Applied } from './apply-children';
import { underClusterLease, type LeaseHolding } from './cluster-lease';
import { observeCluster, podSelector, type NamespacedPostgresql, type Observation } from './observe';
import { podSteps } from './pod-steps';
import { readCluster, type PostgresqlObject } from './read-cluster';
import { recordFailure, recordInvalid, recordSynced } from './record';
import type { SyncResult } from './result';
import { scaleDownHold } from './scale-down';

/** How a sync ended (`result.ts`); exported here too, where callers of `syncCluster` look for it. */
export type { SyncResult } from './result';

/**
 * Converges one cluster.
 * @returns what was done; never throws for invalid input or API failures (see `outcome` and `retryable`)
 */
export async function syncCluster(ctx: SyncContext, namespace: string, name: string): Promise<SyncResult> {
  const log = ctx.log.with({ cluster: name, namespace });
  const read = await readCluster(ctx, namespace, name);
  if (!read.ok) return read.result;
  // A first pass without the Lease: a sync with nothing to write ends here, without a write request to children.
  const first = await syncPass(ctx, read.raw, log, { held: false });
  if (first.ended) return first.result;
  log.debug('Taking the Lease', { why: first.needsLease });
  return underClusterLease(ctx, read.raw, log, async (holding) => {
    // Read everything again under the Lease: the previous holder may have made these changes already. Unless this
    // sync created the Lease (a cluster's first sync): then no writer has held it, and what the first pass read
    // still holds (a create saves a GET and the LISTs).
    if (holding.lease.fresh) {
      const second = await syncPass(ctx, read.raw, log, holding, first.observation);
      if (second.ended) return second.result;
    }
    const again = await readCluster(ctx, namespace, name);
    if (!again.ok) return again.result;
    const second = await syncPass(ctx, again.raw, log, holding);
    if (second.ended) return second.result;
    // Not reached: under the Lease every step may write. Should a step ask anyway, retry instead of looping.
    return {
      outcome: 'failed',
      actions: [],
      retryable: true,
      error: `a step asked for the Lease while holding it: ${second.needsLease}`,
    };
  });
}

/** How a pass ended: with a result, or stopped before its first write because it does not hold the Lease. */
type PassOutcome = { ended: true; result: SyncResult } | { ended: false; needsLease: string; observation: Observation };

const ended = (result: SyncResult): PassOutcome => ({ ended: true, result });

/**
 * One pass: validate, observe, plan, apply (holding the Lease), the pod steps, the role step, then status and
 * Events. Without the Lease it stops at the first write it would make.
 */
async function syncPass(
  ctx: SyncContext,
  raw: PostgresqlObject,
  log: Logger,
  holding: LeaseHolding,
  observed?: Observation,
): Promise<PassOutcome> {
  const validation = validatePostgresql(raw, validationOptions(ctx.config));
  if (!validation.ok) return ended(await recordInvalid(ctx, raw, describeProblems(validation.problems), log));
  const cluster: NamespacedPostgresql = {
    ...validation.cluster,
    metadata: { ...validation.cluster.metadata, namespace: raw.metadata.namespace },
  };

  const applied: Applied = { actions: [], steps: [] };
  try {
    const observation = observed ?? (await observeCluster(ctx, cluster));
    const plan = await planPass(ctx, cluster, observation);
    if (needsWrites(plan)) {
      if (!holding.held) return { ended: false, needsLease: plan.actions.map((a) => a.reason).join('; '), observation };
      await applyChildren(ctx, cluster, plan, observation.children, holding, applied, log);
    }
    const lease = holding.held ? holding.lease : undefined;
    const rollout = await podSteps(ctx, raw, cluster, observation.children, plan.instances, lease);
    if (rollout.needsLease && !holding.held)
      return { ended: false, needsLease: 'a Patroni configuration or rolling update step', observation };
    // DDL and the Secrets of infrastructure roles are written under the Lease too: two syncs never run DDL at once.
    const roles = await syncRolesAndDatabases(ctx, raw, cluster, observation.children, log, {
      leaseHeld: holding.held,
    });
    if (roles.needsLease) return { ended: false, needsLease: roles.needsLease, observation };
    return ended(
      await recordSynced(ctx, raw, log, {
        manifestWarnings: validation.warnings,
        plan,
        observed: observation.children,
        applied,
        rollout,
        roles,
      }),
    );
  } catch (error) {
    return ended(await recordFailure(ctx, raw, log, validation.warnings, applied, error));
  }
}

/**
 * The plan phase: the pure plan (`lib/plan/cluster.ts`), and when it scales down, the pods read to see whether the
 * scale-down would remove the master (then it is planned again, holding the replicas: `scale-down.ts`).
 * @returns the plan and its refusals; throws KubeApiError when the pods cannot be listed
 */
async function planPass(
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
