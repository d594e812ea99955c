/**
 * A Lease (`coordination.k8s.io/v1`; per cluster `<cluster>-operator`, see `lib/builders/lease.ts`) held while a sync writes to the
 * cluster's children, so two invocations for one cluster (an event and the periodic sync, or two deliveries of one
 * event) do not both make the same changes, record the same Events, or both re-create the StatefulSet. The one
 * that waits re-reads everything once it holds the Lease and usually finds nothing left to do.
 *
 * Every change of the Lease is a JSON patch that first tests the `resourceVersion` that was read, so two
 * acquirers cannot both win; a holder that stops renewing (a crashed invocation) loses the Lease when
 * `leaseDurationSeconds` has passed since its last `renewTime`. The Lease is owned by the `postgresql` object and
 * goes with it.
 *
 * Source: Kubernetes API reference, coordination.k8s.io/v1 Lease (holderIdentity, leaseDurationSeconds,
 * acquireTime, renewTime, leaseTransitions; MicroTime); JSON Patch (RFC 6902) `test`.
 */
import { randomUUID } from 'node:crypto';
import type { V1Lease } from '@kubernetes/client-node';
import type { KubeClient } from './client';
import { isStatus } from './errors';
import { resourceVersionOf } from './meta';

/** How long a Lease is held without renewal, and how long to wait for one held by someone else. */
export interface LeaseTiming {
  /** ms a holder keeps the Lease without renewing it (rounded up to whole seconds); default 30000 */
  durationMs: number;
  /** ms to wait for a Lease held by another invocation; default 10000 */
  waitMs: number;
  /** ms between attempts while waiting; default 200 */
  pollMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { durationMs: 30_000, waitMs: 10_000, pollMs: 200 };

/** @returns a holder identity unique to this invocation: `<host or pid>-<random>` */
export function newHolderIdentity(): string {
  return `${process.env.HOSTNAME || `pid${process.pid}`}-${randomUUID().slice(0, 8)}`;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export const microTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** The Lease could not be kept: another holder took it over after it expired. */
export class LeaseLostError extends Error {
  constructor(
    readonly lease: string,
    readonly holder: string,
  ) {
    super(`lost the Lease ${lease} to ${holder}`);
    this.name = 'LeaseLostError';
  }
}

type LeaseSpec = {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
};

/** A Lease as read: client-node's V1Lease, with the MicroTime fields as the RFC 3339 strings the JSON carries. */
type LiveLease = Omit<V1Lease, 'spec'> & { spec?: LeaseSpec };

/** What to create the Lease with when it does not exist: name, namespace, labels, owner references. */
export interface LeaseTarget {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  ownerReferences?: Array<Record<string, unknown>>;
}

/** A Lease this invocation holds. */
export class HeldLease {
  private resourceVersion: string;
  private renewedAt: number;

  constructor(
    private readonly client: KubeClient,
    readonly target: LeaseTarget,
    readonly holder: string,
    lease: LiveLease,
    private readonly durationMs: number,
    private readonly now: () => Date,
    /**
     * no writer held the Lease since the reads this acquire started from: it created the Lease (nobody held it
     * before: a writer creates it before its first write, and a release keeps the object), or it took a released
     * Lease unchanged since a {@link LeaseSnapshot} read before them (see {@link readLease})
     */
    readonly noWriterSinceRead = false,
  ) {
    this.resourceVersion = resourceVersionOf(lease);
    this.renewedAt = now().getTime();
  }

  private async patch(spec: Partial<LeaseSpec>, remove: Array<keyof LeaseSpec> = []): Promise<void> {
    try {
      const updated = await this.client.jsonPatch<LiveLease>(
        { kind: 'Lease', namespace: this.target.namespace, name: this.target.name },
        [
          { op: 'test', path: '/metadata/resourceVersion', value: this.resourceVersion },
          ...Object.entries(spec).map(([key, value]) => ({ op: 'add', path: `/spec/${key}`, value })),
          ...remove.map((key) => ({ op: 'remove', path: `/spec/${key}` })),
        ],
      );
      this.resourceVersion = resourceVersionOf(updated);
    } catch (error) {
      if (isStatus(error, 422) || isStatus(error, 409) || isStatus(error, 404))
        throw new LeaseLostError(this.target.name, 'another holder');
      throw error;
    }
  }

  /** Renews the Lease when a third of its duration has passed (no request otherwise); throws LeaseLostError. */
  async renewIfDue(): Promise<void> {
    const now = this.now();
    if (now.getTime() - this.renewedAt < this.durationMs / 3) return;
    await this.patch({ renewTime: microTime(now) });
    this.renewedAt = now.getTime();
  }

  /** Gives the Lease up (clears the holder). Never throws: a Lease that cannot be released expires. */
  async release(): Promise<void> {
    try {
      await this.patch({ renewTime: microTime(this.now()) }, ['holderIdentity']);
    } catch {
      // Lost or unreachable: it expires after leaseDurationSeconds.
    }
  }
}

/**
 * The Lease as read before a sync's own reads (absent: `lease` undefined). An acquire that starts from it and
 * succeeds (its patch tests the snapshot's `resourceVersion`) proves that nobody took the Lease in between; when the
 * snapshot also had no holder, every write made under the Lease happened before the snapshot was read, so reads
 * started after it saw them and need not be repeated.
 */
export interface LeaseSnapshot {
  lease: LiveLease | undefined;
}

/**
 * Reads the Lease for a later {@link tryAcquireLease} (one GET; none of the sync's reads may start before it ends).
 * @returns the snapshot; throws KubeApiError when the API cannot be read
 */
export async function readLease(
  client: KubeClient,
  ref: { namespace: string; name: string },
  signal?: AbortSignal,
): Promise<LeaseSnapshot> {
  return { lease: await client.get<LiveLease>({ kind: 'Lease', ...ref }, signal) };
}

/** Someone else holds the Lease. */
export interface LeaseBusy {
  heldBy: string;
  until: Date;
}

/**
 * One attempt to take the Lease: create it, or take it over when it is free or expired.
 * @param snapshot the Lease as read earlier (no GET then); an acquire from a snapshot without a holder is
 *   `noWriterSinceRead`
 * @returns the held Lease, or who holds it; throws KubeApiError for API failures
 */
export async function tryAcquireLease(
  client: KubeClient,
  target: LeaseTarget,
  holder: string,
  durationMs: number,
  now: () => Date,
  signal?: AbortSignal,
  snapshot?: LeaseSnapshot,
): Promise<HeldLease | LeaseBusy> {
  const ref = { kind: 'Lease', namespace: target.namespace, name: target.name };
  const seconds = Math.max(1, Math.ceil(durationMs / 1000));
  const time = microTime(now());
  const current = snapshot ? snapshot.lease : await client.get<LiveLease>(ref, signal);
  if (!current) {
    try {
      const created = await client.create<LiveLease>(
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: target.name,
            namespace: target.namespace,
            ...(target.labels ? { labels: target.labels } : {}),
            ...(target.ownerReferences ? { ownerReferences: target.ownerReferences } : {}),
          },
          spec: {
            holderIdentity: holder,
            leaseDurationSeconds: seconds,
            acquireTime: time,
            renewTime: time,
            leaseTransitions: 0,
          },
        },
        signal,
      );
      return new HeldLease(client, target, holder, created, durationMs, now, true);
    } catch (error) {
      if (isStatus(error, 409))
        return { heldBy: 'another holder (just created)', until: new Date(now().getTime() + durationMs) };
      throw error;
    }
  }
  const spec: LeaseSpec = current.spec ?? {};
  const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
  const until = new Date(renewed + (spec.leaseDurationSeconds ?? 0) * 1000);
  if (spec.holderIdentity && spec.holderIdentity !== holder && until.getTime() > now().getTime()) {
    return { heldBy: spec.holderIdentity, until };
  }
  try {
    const taken = await client.jsonPatch<LiveLease>(
      ref,
      [
        { op: 'test', path: '/metadata/resourceVersion', value: resourceVersionOf(current) },
        {
          op: 'add',
          path: '/spec',
          value: {
            holderIdentity: holder,
            leaseDurationSeconds: seconds,
            acquireTime: time,
            renewTime: time,
            leaseTransitions: (spec.leaseTransitions ?? 0) + (spec.holderIdentity === holder ? 0 : 1),
          },
        },
      ],
      signal,
    );
    const released = snapshot !== undefined && !spec.holderIdentity;
    return new HeldLease(client, target, holder, taken, durationMs, now, released);
  } catch (error) {
    if (isStatus(error, 422) || isStatus(error, 409)) return { heldBy: 'another holder (taken meanwhile)', until };
    throw error;
  }
}

/**
 * Takes the Lease, waiting up to `timing.waitMs` (and never past `deadline`, epoch ms) while another invocation
 * holds it.
 * @param snapshot the Lease as read before the caller's reads: the first attempt starts from it (no GET)
 * @returns the held Lease, or who holds it when the wait ran out
 */
export async function acquireLease(
  client: KubeClient,
  target: LeaseTarget,
  holder: string,
  timing: LeaseTiming,
  now: () => Date,
  signal?: AbortSignal,
  deadline?: number,
  snapshot?: LeaseSnapshot,
): Promise<HeldLease | LeaseBusy> {
  const giveUp = Math.min(now().getTime() + timing.waitMs, deadline ?? Infinity);
  for (let first = snapshot; ; first = undefined) {
    const result = await tryAcquireLease(client, target, holder, timing.durationMs, now, signal, first);
    if (result instanceof HeldLease || now().getTime() + timing.pollMs > giveUp || signal?.aborted) return result;
    await new Promise((resolve) => setTimeout(resolve, timing.pollMs));
  }
}
