/**
 * The `acid.zalan.do/sync-now` annotation: a user (or a script) sets it on a `postgresql` object to ask for a sync
 * now, e.g. `kubectl annotate postgresql acid-a acid.zalan.do/sync-now="$(date +%s)" --overwrite`. The annotation
 * change is an update event, so the bridge triggers `onUpdate` at once; fleet sync also syncs every cluster that
 * carries it (without it, fleet sync skips a cluster whose children match, and so never re-runs the steps it cannot
 * diff in memory, such as roles in PostgreSQL). The sync that honours it removes it, so it acts once.
 *
 * Source: JSON Patch (RFC 6902) `test` then `remove`: a value set again meanwhile fails the test and stays.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { KubeClient } from '../../k8s/client';
import { isStatus } from '../../k8s/errors';
import { SYNC_NOW_ANNOTATION } from '../../model/annotations';
import { POSTGRESQL } from '../../model/postgresql';

/** JSON Pointer escaping of a map key (`/` -> `~1`, `~` -> `~0`). */
const pointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Removes the annotation when present with the value that was read (no request when absent). A 422 (the value
 * changed or it is gone) is not an error: the newer request stays for the next sync.
 * @returns whether a request removed it; throws KubeApiError for other API failures
 */
export async function clearSyncNow(
  client: KubeClient,
  raw: { metadata: Pick<V1ObjectMeta, 'annotations'> & { name: string; namespace: string } },
  signal?: AbortSignal,
): Promise<boolean> {
  const value = raw.metadata.annotations?.[SYNC_NOW_ANNOTATION];
  if (value === undefined) return false;
  const path = `/metadata/annotations/${pointer(SYNC_NOW_ANNOTATION)}`;
  try {
    await client.jsonPatch(
      { kind: POSTGRESQL.kind, namespace: raw.metadata.namespace, name: raw.metadata.name },
      [
        { op: 'test', path, value },
        { op: 'remove', path },
      ],
      signal,
    );
    return true;
  } catch (error) {
    if (isStatus(error, 422)) return false;
    throw error;
  }
}
