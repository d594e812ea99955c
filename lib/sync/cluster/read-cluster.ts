/**
 * The first read of a sync: the `postgresql` object, with the operator's finalizer added or removed as
 * `enable_finalizers` says (see `finalizer.ts`), or how the sync ends before it starts.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { isRetryable, isStatus } from '../../k8s/errors';
import { POSTGRESQL } from '../../model/postgresql';
import type { SyncContext } from '../context';
import { ensureFinalizer, removeFinalizer } from './finalizer';
import { failedBeforeWrites, type SyncResult } from './result';

/** A `postgresql` object as read by namespace and name (so its metadata has both), before validation. */
export type PostgresqlObject = {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec?: unknown;
  /** as stored: Zalando's object, or a legacy plain string */
  status?: unknown;
};

/** The object, ready to sync, or the sync's end. */
export type ReadOutcome = { ok: true; raw: PostgresqlObject } | { ok: false; result: SyncResult };

/**
 * Reads the object and adds the finalizer (`enable_finalizers`) or removes it. A concurrent change of its finalizers (the patch's `test` fails with
 * 422) is read again once.
 * @returns the object, or `not-found`, `deleting`, `failed` (retryable as the API error says); never throws
 */
export async function readCluster(ctx: SyncContext, namespace: string, name: string): Promise<ReadOutcome> {
  for (let attempt = 0; ; attempt++) {
    let raw: PostgresqlObject | undefined;
    try {
      raw = await ctx.client.get<PostgresqlObject>({ kind: POSTGRESQL.kind, namespace, name }, ctx.signal);
    } catch (error) {
      return { ok: false, result: failedBeforeWrites(error, isRetryable(error)) };
    }
    if (!raw) return { ok: false, result: { outcome: 'not-found', actions: [] } };
    if (raw.metadata.deletionTimestamp) return { ok: false, result: { outcome: 'deleting', actions: [] } };
    try {
      const follow = ctx.config.enable_finalizers ? ensureFinalizer : removeFinalizer;
      return { ok: true, raw: await follow(ctx.client, raw, ctx.signal) };
    } catch (error) {
      // A failed `test` (422) means the object changed under us (e.g. a concurrent sync added the finalizer): read again.
      if (isStatus(error, 422) && attempt === 0) continue;
      const what = ctx.config.enable_finalizers ? 'adding the finalizer' : 'removing the finalizer';
      return { ok: false, result: failedBeforeWrites(error, true, what) };
    }
  }
}
