/**
 * The Lease phase of `syncCluster`: writes to a cluster's children are made only while holding the cluster's
 * Lease `<cluster>-operator` (`lib/builders/lease.ts`, `lib/k8s/lease.ts`), so two syncs of one cluster at once
 * end as one sync would. Taken only when a first pass found writes to make; released when the work ends.
 */
import { clusterLeaseTarget } from '../../builders/lease';
import { isRetryable } from '../../k8s/errors';
import { acquireLease, DEFAULT_LEASE_TIMING, HeldLease, newHolderIdentity } from '../../k8s/lease';
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
 * Takes the cluster's Lease (waiting up to `timing.waitMs` while another invocation holds it), runs `work` while
 * holding it, and releases it.
 * @param raw the `postgresql` object (its name, namespace and uid make the Lease's name, labels and owner)
 * @returns what `work` returns; `busy` (retryable) when another holder kept the Lease for the whole wait; `failed`
 *   when the Lease could not be read or written (retryable as the API error says)
 */
export async function underClusterLease(
  ctx: SyncContext,
  raw: PostgresqlObject,
  log: Logger,
  work: (holding: LeaseHeld) => Promise<SyncResult>,
): Promise<SyncResult> {
  const timing = { ...DEFAULT_TIMING, ...ctx.timing };
  const target = clusterLeaseTarget(raw.metadata, ctx.config);
  let lease: Awaited<ReturnType<typeof acquireLease>>;
  try {
    lease = await acquireLease(
      ctx.client,
      target,
      ctx.holder ?? newHolderIdentity(),
      timing,
      ctx.now,
      ctx.signal,
      ctx.deadline,
    );
  } catch (error) {
    return failedBeforeWrites(error, isRetryable(error), `taking the Lease ${target.name}`);
  }
  if (!(lease instanceof HeldLease)) {
    log.info('Another sync holds the Lease', { holder: lease.heldBy });
    return {
      outcome: 'busy',
      actions: [],
      retryable: true,
      error: `Lease ${target.name} is held by ${lease.heldBy} until ${lease.until.toISOString()}`,
    };
  }
  try {
    return await work({ held: true, lease, deletionWaitMs: timing.deletionWaitMs });
  } finally {
    await lease.release();
  }
}
