/**
 * Writing the status of a `postgresql` object: computed by `lib/plan/cluster-status.ts` from what a sync observed,
 * written (a merge patch of the status subresource) only when it changed.
 *
 * Source: Kubernetes API conventions, "Typical status properties"; Zalando postgres-operator docs for the status
 * values (research/zalando.md §1.3).
 */
import type { KubeObject } from '../../k8s/client';
import { POSTGRESQL, type Condition, type PostgresqlStatus } from '../../model/postgresql';
import { nextStatus, statusMergePatch } from '../../plan/cluster-status';
import type { SyncObservation } from '../../plan/status';
import type { SyncContext } from '../context';

/** The `postgresql` object a status is written to. */
export interface StatusTarget {
  metadata: { name: string; namespace: string };
  status?: unknown;
}

/**
 * Writes the status for this observation at `ctx.now()`, when it differs from the stored one (no request otherwise).
 * @param raw the object as read (its stored status is the previous one)
 * @param extra conditions owned by other steps (roles, rolling update), appended after the derived ones
 * @returns the status now stored; throws KubeApiError when the patch fails
 */
export async function writeStatus(
  ctx: SyncContext,
  raw: StatusTarget,
  observation: SyncObservation,
  extra: Condition[] = [],
): Promise<PostgresqlStatus> {
  const { status, changed } = nextStatus(raw, observation, ctx.now(), extra);
  if (changed) {
    await ctx.client.mergePatch<KubeObject>(
      { kind: POSTGRESQL.kind, namespace: raw.metadata.namespace, name: raw.metadata.name },
      statusMergePatch(raw.status, status),
      'status',
      ctx.signal,
    );
  }
  return status;
}
