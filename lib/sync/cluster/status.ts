/**
 * Writing the status of a `postgresql` object: computed by `lib/plan/cluster-status.ts` from what a sync observed,
 * written (a merge patch of the status subresource) only when it changed.
 *
 * Where the installed CRD is Zalando's operator's (its status schema takes only strings: it re-registers that CRD
 * each time it starts, so a cluster taken over from it, or handed back, meets it), the API server refuses
 * conditions, warnings and observedGeneration (422). The status is then written with those fields as JSON text,
 * one Warning Event says why, and this process writes that form for the next 10 minutes before trying the full
 * status again, so a sync with nothing new makes no request.
 *
 * Source: Kubernetes API conventions, "Typical status properties"; Zalando postgres-operator v1.15.1
 * manifests/postgresql.crd.yaml (`status: {type: object, additionalProperties: {type: string}}`) and docs for the
 * status values (https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md).
 */
import type { EventSubject } from '../../k8s/events';
import { KubeApiError } from '../../k8s/errors';
import type { KubeObject } from '../../k8s/client';
import { POSTGRESQL, type Condition, type PostgresqlStatus } from '../../model/postgresql';
import { nextStatus, statusMergePatch, stringStatusPatch } from '../../plan/cluster-status';
import type { SyncObservation } from '../../plan/status';
import type { SyncContext } from '../context';

/** The `postgresql` object a status is written to. */
export interface StatusTarget {
  metadata: { name: string; namespace: string };
  status?: unknown;
}

/** How long this process writes the string-only form after a refusal before it tries the full status again, ms. */
const STRING_ONLY_RECHECK_MS = 10 * 60_000;
/** Until when (epoch ms, the sync's clock) statuses are written in the string-only form. */
let stringOnlyUntil = 0;

/**
 * @returns the status fields a 422 names as "must be of type string" (the installed CRD's status takes only
 *   strings), or undefined for any other error
 */
function refusedAsNotString(error: unknown): string[] | undefined {
  if (!(error instanceof KubeApiError) || error.status !== 422) return undefined;
  const fields = [...error.message.matchAll(/(status\.\w+): Invalid value: "\w+": [^,\]]*must be of type string/g)];
  return fields.length > 0 ? fields.map((m) => m[1]!) : undefined;
}

/**
 * Writes the status for this observation at `ctx.now()`, when it differs from the stored one (no request otherwise).
 * @param raw the object as read (its stored status is the previous one)
 * @param extra conditions owned by other steps (roles, rolling update), appended after the derived ones
 * @returns the status now stored (structured, whatever form it is stored in); throws KubeApiError when the patch
 *   fails for another reason than the string-only schema
 */
export async function writeStatus(
  ctx: SyncContext,
  raw: StatusTarget,
  observation: SyncObservation,
  extra: Condition[] = [],
): Promise<PostgresqlStatus> {
  const { status, changed } = nextStatus(raw, observation, ctx.now(), extra);
  if (!changed) return status;
  const target = { kind: POSTGRESQL.kind, namespace: raw.metadata.namespace, name: raw.metadata.name };
  const patch = (body: object) => ctx.client.mergePatch<KubeObject>(target, body, 'status', ctx.signal);
  if (ctx.now().getTime() < stringOnlyUntil) {
    await patch(stringStatusPatch(raw.status, status));
    return status;
  }
  try {
    await patch(statusMergePatch(raw.status, status));
  } catch (error) {
    const refused = refusedAsNotString(error);
    if (!refused) throw error;
    stringOnlyUntil = ctx.now().getTime() + STRING_ONLY_RECHECK_MS;
    await patch(stringStatusPatch(raw.status, status));
    await ctx.events.once(
      'string-only-status',
      { apiVersion: POSTGRESQL.apiVersion, ...raw } as EventSubject,
      'Warning',
      'StatusSchemaRestricted',
      `The installed postgresql CRD takes only strings in status (Zalando's operator's CRD): ${refused.join(', ')} ` +
        `are written as JSON text. Apply this operator's manifests/postgresql.crd.yaml for the structured status ` +
        `(Zalando's operator registers its own CRD again when it starts, unless enable_crd_registration is false).`,
    );
  }
  return status;
}

/** Forgets a string-only schema seen before (tests that switch CRDs within one process). */
export function resetStatusSchemaMemory(): void {
  stringOnlyUntil = 0;
}
