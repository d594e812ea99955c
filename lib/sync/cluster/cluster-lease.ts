/**
 * The Lease phase of `syncCluster`: writes to a cluster's children are made only while holding the cluster's
 * Lease `<cluster>-operator` (`lib/builders/lease.ts`, `lib/k8s/lease.ts`), so two syncs of one cluster at once
 * end as one sync would. Taken only when a first pass found writes to make; released when the work ends.
 */
import { clusterLeaseTarget, leaseName } from '../../builders/lease';
import { isRetryable } from '../../k8s/errors';
import {
  acquireLease,
  DEFAULT_LEASE_TIMING,
  HeldLease,
  newHolderIdentity,
  readLease,
  type LeaseBusy,
  type LeaseSnapshot,
} from '../../k8s/lease';
import type { Logger } from '../../log/logger';
import type { SyncContext, SyncTiming } from '../context';
import type { PostgresqlObject } from './read-cluster';
import { failedBeforeWrites, type SyncResult } from './result';

/** Timings of a sync unless `ctx.timing` overrides them. */
const DEFAULT_TIMING: SyncTiming = { ...DEFAULT_LEASE_TIMING, deletionWaitMs: 10_000 };

/** The cluster's Lease, held: what a pass needs to write. */
export interface LeaseHeld {
  held: true;
  lease: HeldLease;
  /** ms to wait for an old StatefulSet to go during a re-create (`SyncTiming.deletionWaitMs`) */
  deletionWaitMs: number;
}

/** Whether a pass of the sync holds the cluster's Lease: without it, it may only read (and write status). */
export type LeaseHolding = { held: false } | LeaseHeld;

/**
 * Reads the cluster's Lease before a sync reads anything else of the cluster (`LeaseSnapshot`, `lib/k8s/lease.ts`).
 * @returns the snapshot; throws KubeApiError when the API cannot be read
 */
export function readClusterLease(ctx: SyncContext, namespace: string, cluster: string): Promise<LeaseSnapshot> {
  return readLease(ctx.client, { namespace, name: leaseName(cluster) }, ctx.signal);
}

/**
 * Takes the cluster's Lease as every writer of a cluster does (sync, node drain): holder `ctx.holder` (else a new
 * identity), timings `ctx.timing` over the defaults, waiting while another invocation holds it but never past
 * `ctx.deadline`.
 * @param cluster the `postgresql` object's name, namespace and uid (the Lease's name, labels and owner)
 * @param snapshot the Lease as read before the caller's reads (`readClusterLease`): the first attempt starts from it
 * @returns the held Lease or who holds it, the Lease's name, and the sync timings in force; throws KubeApiError
 */
export async function acquireClusterLease(
  ctx: SyncContext,
  cluster: { name: string; namespace: string; uid?: string },
  snapshot?: LeaseSnapshot,
): Promise<{ lease: HeldLease | LeaseBusy; name: string; timing: SyncTiming }> {
  const timing = { ...DEFAULT_TIMING, ...ctx.timing };
  const target = clusterLeaseTarget(cluster, ctx.config);
  const holder = ctx.holder ?? newHolderIdentity();
  const lease = await acquireLease(ctx.client, target, holder, timing, ctx.now, ctx.signal, ctx.deadline, snapshot);
  return { lease, name: target.name, timing };
}

/**
 * Takes the cluster's Lease (waiting up to `timing.waitMs` while another invocation holds it), runs `work` while
 * holding it, and releases it.
 * @param raw the `postgresql` object (its name, namespace and uid make the Lease's name, labels and owner)
 * @param snapshot the Lease as read before the caller's reads: the first attempt starts from it
 * @returns what `work` returns; `busy` (retryable) when another holder kept the Lease for the whole wait; `failed`
 *   when the Lease could not be read or written (retryable as the API error says)
 */
export async function underClusterLease(
  ctx: SyncContext,
  raw: PostgresqlObject,
  log: Logger,
  work: (holding: LeaseHeld) => Promise<SyncResult>,
  snapshot?: LeaseSnapshot,
): Promise<SyncResult> {
  let taken: Awaited<ReturnType<typeof acquireClusterLease>>;
  try {
    taken = await acquireClusterLease(ctx, raw.metadata, snapshot);
  } catch (error) {
    return failedBeforeWrites(error, isRetryable(error), `taking the Lease ${leaseName(raw.metadata.name)}`);
  }
  const { lease, name, timing } = taken;
  if (!(lease instanceof HeldLease)) {
    log.info('Another sync holds the Lease', { holder: lease.heldBy });
    return {
      outcome: 'busy',
      actions: [],
      retryable: true,
      error: `Lease ${name} is held by ${lease.heldBy} until ${lease.until.toISOString()}`,
    };
  }
  try {
    return await work({ held: true, lease, deletionWaitMs: timing.deletionWaitMs });
  } finally {
    await lease.release();
  }
}
