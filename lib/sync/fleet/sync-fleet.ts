/**
 * `syncFleet`: the periodic sync of every cluster in the watched namespaces, cheap enough to run every few minutes
 * with a thousand clusters. Zalando's operator syncs every cluster every `resync_period` and re-syncs the failed
 * ones every `repair_period` (https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/administrator.md,
 * "Running periodic 'autorepair' scans of K8s objects"); here one run does both, and only where needed:
 *
 * 1. List each kind once per namespace scope (all namespaces when `watched_namespace` is `*`, else once per
 *    watched namespace) and page of clusters (`inventory.ts`): the `postgresql` objects, their children, the
 *    shared pod ServiceAccount and RoleBinding.
 * 2. Diff every cluster in memory (`diff.ts`: the same validation, build and plan as `syncCluster`; the decision is
 *    `lib/plan/fleet.ts`).
 * 3. Create the shared ServiceAccount/RoleBinding where a namespace with clusters lacks them (once per namespace).
 * 4. Call `syncCluster` for the clusters that drifted, failed, are not synced for their generation or carry the
 *    `acid.zalan.do/sync-now` annotation, and `finalizeCluster` for those being deleted; at most `parallelism` at
 *    once, starting none when the deadline is near.
 * 5. Record where it stopped (`cursor.ts`) when clusters are left, so the next run starts with them (the order and
 *    the budget arithmetic are `lib/plan/fleet-run.ts`).
 *
 * A fleet in sync costs one GET (the cursor) plus one LIST per kind and scope, and no write.
 */
import { buildPodServiceAccount } from '../../builders/service-account';
import { isStatus } from '../../k8s/errors';
import { watchedNamespaces } from '../../model/config';
import { fleetBudget, mayStartAnother, orderFromCursor, requestDelta, syncDeadline } from '../../plan/fleet-run';
import { objectKey, planChildren } from '../../plan/plan';
import { finalizeCluster } from '../cluster/finalize';
import { diffCluster } from './diff';
import type { FleetDecision } from '../../plan/fleet';
import { readCursor, writeCursor } from './cursor';
import { clusterKey, clusterPages, readShared, type Scope, type SharedObjects } from './inventory';
import { syncCluster } from '../cluster/sync-cluster';
import { oneAtATime } from '../../runtime/one-at-a-time';
import type { SyncContext } from '../context';

/** Clusters diffed between two turns given to the rest of the process (a diff takes about a millisecond). */
const DIFFS_BETWEEN_YIELDS = 50;

/** How to run. */
export interface FleetOptions {
  /** the operator's namespace: used when `watched_namespace` is empty, and where the cursor ConfigMap lives */
  operatorNamespace: string;
  /** time budget in ms from the call (default 240000); no cluster is started when less than `marginMs` remains */
  deadlineMs?: number;
  /** clusters synced at once (default 4) */
  parallelism?: number;
  /** ms kept free before the deadline for the clusters in flight (default 10% of `deadlineMs`, at least 500) */
  marginMs?: number;
  /** the clock the deadline is measured with, in ms (default `ctx.now()`); tests pass a stepping clock */
  clock?: () => number;
}

/** One cluster fleet sync acted on. */
export interface FleetItem {
  cluster: string;
  action: FleetDecision['action'];
  why: string;
  /** outcome of `syncCluster` / `finalizeCluster` */
  outcome: string;
  /** child writes the sync reported */
  writes: number;
  error?: string;
  /** the cluster's rolling update goes on in a later run (see SyncResult.rollingUpdate) */
  rollingUpdate?: string;
  /** seconds until the cluster's rollout should be looked at again (see SyncResult.lookAgainSeconds) */
  lookAgainSeconds?: number;
}

/** What a run did. */
export interface FleetResult {
  /** the namespace scopes listed (`*` for all namespaces) */
  scopes: string[];
  /** `postgresql` objects seen */
  clusters: number;
  /** clusters the in-memory diff found in sync */
  inSync: number;
  /** clusters synced (or finalized) without an error */
  synced: number;
  /** clusters whose sync or finalization failed */
  failed: number;
  /** clusters that needed work but were not started before the deadline */
  left: number;
  /** their keys (`namespace/name`), in the order the next run takes them */
  leftClusters: string[];
  /** where the next run starts (first left cluster), when any are left */
  cursor?: string;
  /** the clusters acted on, in the order they were started */
  items: FleetItem[];
  /** shared objects created or updated (`namespace/Kind/name`) */
  sharedCreated: string[];
  /** scopes that could not be listed, with the error (the run saw only part of the fleet) */
  errors: string[];
  /** other failures that do not stop the run: a shared object or the cursor that could not be written */
  warnings: string[];
  /** API requests of the run, by verb */
  requests: Record<string, number>;
  durationMs: number;
}

interface Work {
  key: string;
  namespace: string;
  name: string;
  decision: FleetDecision;
}

/**
 * Syncs the fleet, one run at a time in this process (`oneAtATime`): a run asked for while one with the same config
 * and options is in flight (the periodic sync and an operator config change, both delivered at the bridge's start)
 * gets that run's result; any other waits for it. Never throws for a cluster's problem (see `items`, `failed`);
 * throws only when the cursor cannot be read (the API is down: the caller answers 503).
 */
export async function syncFleet(ctx: SyncContext, options: FleetOptions): Promise<FleetResult> {
  const { clock: _clock, ...comparable } = options;
  const server = ctx.client.kubeConfig.getCurrentCluster()?.server;
  const fingerprint = JSON.stringify([server, ctx.client.fieldManager, comparable, ctx.config]);
  return oneAtATime('fleet-sync', fingerprint, () => runFleetSync(ctx, options));
}

async function runFleetSync(ctx: SyncContext, options: FleetOptions): Promise<FleetResult> {
  const clock = options.clock ?? (() => ctx.now().getTime());
  const start = clock();
  const wallStart = ctx.now().getTime();
  const budget = fleetBudget(options);
  const before = ctx.client.counter.snapshot();
  const log = ctx.log.with({ component: 'fleet-sync' });

  const watched = watchedNamespaces(ctx.config, options.operatorNamespace);
  const scopes: Scope[] = watched === '*' ? [undefined] : watched;
  const previousCursor = await readCursor(ctx, options.operatorNamespace);
  const errors: string[] = [];
  const work: Work[] = [];
  let clusters = 0;
  const namespacesWithClusters = new Map<string, SharedObjects>();
  // One scope after the other, a page at a time, the next page read while this one is diffed: memory holds two
  // pages of clusters and their children, not the fleet.
  for (const scope of scopes) {
    try {
      const shared = await readShared(ctx, scope);
      const pages = clusterPages(ctx, scope);
      for (let next = pages.next(); ;) {
        const page = await next;
        if (page.done) break;
        next = pages.next();
        for (const raw of page.value.clusters) {
          clusters += 1;
          // Each diff is CPU work (validate, build, plan): the process's other work (deliveries, probes, other
          // calls, the next page's LISTs) gets a turn in between, so ten thousand clusters never hold the event
          // loop for seconds.
          if (clusters % DIFFS_BETWEEN_YIELDS === 0) await new Promise((resolve) => setImmediate(resolve));
          // Listed objects of a namespaced kind always carry both.
          const { namespace = '', name = '' } = raw.metadata ?? {};
          const key = clusterKey(namespace, name);
          if (!raw.metadata?.deletionTimestamp) namespacesWithClusters.set(namespace, shared);
          const decision = diffCluster(ctx, raw, page.value.children.get(key), shared.get(namespace));
          if (decision) work.push({ key, namespace, name, decision });
        }
      }
    } catch (error) {
      errors.push(`${scope ?? '*'}: ${messageOf(error)}`);
      log.error('Could not list the clusters of a scope', { scope: scope ?? '*', error: messageOf(error) });
    }
  }
  const warnings: string[] = [];
  const sharedCreated = await ensureShared(ctx, namespacesWithClusters, warnings);

  const byKey = new Map(work.map((w) => [w.key, w]));
  const queue = orderFromCursor([...byKey.keys()], previousCursor).map((key) => byKey.get(key)!);
  const items: FleetItem[] = [];
  const itemCtx: SyncContext = { ...ctx, deadline: syncDeadline(ctx.deadline, wallStart, budget.deadlineMs) };
  let next = 0;
  const worker = async () => {
    while (next < queue.length && mayStartAnother(budget, start, clock()) && !ctx.signal?.aborted) {
      const item = queue[next++]!;
      const index = items.length;
      items.push({
        cluster: item.key,
        action: item.decision.action,
        why: item.decision.why,
        outcome: 'started',
        writes: 0,
      });
      items[index] = await runOne(itemCtx, item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(budget.parallelism, queue.length) }, worker));

  const leftClusters = queue.slice(next).map((w) => w.key);
  const cursor = leftClusters[0];
  try {
    await writeCursor(ctx, options.operatorNamespace, previousCursor, cursor, leftClusters.length);
  } catch (error) {
    warnings.push(`cursor: ${messageOf(error)}`);
  }
  const failed = items.filter((i) => i.outcome === 'failed').length;
  const result: FleetResult = {
    scopes: watched === '*' ? ['*'] : watched,
    clusters,
    inSync: clusters - work.length,
    synced: items.length - failed,
    failed,
    left: leftClusters.length,
    leftClusters,
    ...(cursor ? { cursor } : {}),
    items,
    sharedCreated,
    errors,
    warnings,
    requests: requestDelta(ctx.client.counter.snapshot(), before),
    durationMs: clock() - start,
  };
  log.info('Fleet sync done', {
    clusters,
    inSync: result.inSync,
    synced: result.synced,
    failed,
    left: result.left,
    durationMs: result.durationMs,
  });
  return result;
}

async function runOne(ctx: SyncContext, work: Work): Promise<FleetItem> {
  const base = { cluster: work.key, action: work.decision.action, why: work.decision.why };
  try {
    if (work.decision.action === 'finalize') {
      const result = await finalizeCluster(ctx, work.namespace, work.name);
      return {
        ...base,
        outcome: result.outcome,
        writes: result.deleted.length,
        ...(result.error ? { error: result.error } : {}),
      };
    }
    const result = await syncCluster(ctx, work.namespace, work.name);
    return {
      ...base,
      outcome: result.outcome,
      writes: result.actions.length,
      ...(result.error ? { error: result.error } : {}),
      ...(result.rollingUpdate ? { rollingUpdate: result.rollingUpdate } : {}),
      ...(result.lookAgainSeconds !== undefined ? { lookAgainSeconds: result.lookAgainSeconds } : {}),
    };
  } catch (error) {
    // Neither function throws by contract; a bug in one cluster must not stop the fleet.
    return { ...base, outcome: 'failed', writes: 0, error: messageOf(error) };
  }
}

/**
 * Creates the pod ServiceAccount and RoleBinding where a namespace with clusters lacks them, and keeps the IRSA
 * annotation of an existing ServiceAccount (the same plan `syncCluster` makes for them, done once per namespace).
 */
async function ensureShared(
  ctx: SyncContext,
  namespaces: Map<string, SharedObjects>,
  warnings: string[],
): Promise<string[]> {
  const written: string[] = [];
  for (const [namespace, shared] of [...namespaces].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const actions = planChildren([], buildPodServiceAccount(ctx.config, namespace), shared.get(namespace) ?? new Map());
    for (const action of actions) {
      const key = `${namespace}/${objectKey(action.object)}`;
      try {
        if (action.type === 'apply') await ctx.client.apply(action.object, ctx.signal);
        else await ctx.client.create(action.object, ctx.signal);
        written.push(key);
        ctx.log.info(`${action.change === 'created' ? 'Created' : 'Updated'} ${action.object.kind}`, {
          namespace,
          name: action.object.metadata.name,
          reason: action.reason,
        });
      } catch (error) {
        // 409: created meanwhile by a concurrent run; done as well.
        if (!isStatus(error, 409)) warnings.push(`${key}: ${messageOf(error)}`);
      }
    }
  }
  return written;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
