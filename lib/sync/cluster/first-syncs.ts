/**
 * The new clusters whose first sync (`syncNewCluster`) this process has started, by uid.
 *
 * Why: a new cluster's first sync usually ends pending (its roles wait for the master pod), answered 503, and the
 * event source delivers the same add event again a few seconds later. That event still carries the object as it
 * was added, without the status the first sync wrote, so it looks new: without this record the retry would send
 * every create again, each refused with 409, before reading everything as the usual path does anyway. Measured by
 * `npm run bench -- peer`: the retries landed on the API server while the next cluster was being created.
 *
 * Per process (a warm function keeps it between invocations): a retry that reaches another process costs one round
 * of refused creates, nothing more. The most recent {@link FIRST_SYNCS_REMEMBERED} uids are kept.
 */

/** How many uids are remembered; older ones are forgotten first. */
const FIRST_SYNCS_REMEMBERED = 10_000;

const started = new Set<string>();

/** @returns whether this process has started the first sync of the cluster with this uid */
export function firstSyncStarted(uid: string): boolean {
  return started.has(uid);
}

/**
 * Records that the first sync of the cluster with this uid starts now.
 * @returns false when this process has started it already (the caller takes the usual path)
 */
export function claimFirstSync(uid: string): boolean {
  if (started.has(uid)) return false;
  started.add(uid);
  if (started.size > FIRST_SYNCS_REMEMBERED) started.delete(started.values().next().value!);
  return true;
}
