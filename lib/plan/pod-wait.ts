/**
 * How soon to look again at a cluster whose pods are not all Ready yet, so that its status turns `Running` within
 * seconds of the last pod becoming Ready rather than at the next periodic sync. Pods of a new cluster or of a
 * rolling update step come up within seconds to a few minutes (Spilo's bootstrap, a base backup); a pod still not
 * Ready after ten minutes waits for something else (an image, a node, a volume), which the Ready and
 * Progressing conditions name, and the periodic sync looks again then. Pure: the clock is passed in.
 *
 * Source: Kubernetes API conventions, "Typical status properties" (conditions' lastTransitionTime); RFC 9110
 * §10.2.3 (Retry-After in seconds).
 */

// Each look is a sync (reads, no writes), so the pace is a cost: a fleet created at once polls together. Fast for
// the time most pods take to start, slow for a while after, then left to the periodic sync.
/** Looks again every this many seconds during the first 90 seconds of a wait. */
export const POD_WAIT_FAST_SECONDS = 3;
/** ... then every this many seconds until ten minutes. */
export const POD_WAIT_SLOW_SECONDS = 15;
const FAST_FOR_MS = 90_000;
const GIVE_UP_AFTER_MS = 10 * 60_000;

/**
 * @param waitingSince RFC 3339 time the cluster stopped being Ready (the Ready condition's lastTransitionTime)
 * @param now the current time
 * @returns the seconds until the next look (a `Retry-After`), or undefined once the wait is long enough to leave to
 *   the periodic sync (or when the start of the wait is not known)
 */
export function podWaitRetryAfter(waitingSince: string | undefined, now: Date): number | undefined {
  const since = waitingSince ? Date.parse(waitingSince) : Number.NaN;
  if (Number.isNaN(since)) return undefined;
  const waited = now.getTime() - since;
  if (waited < FAST_FOR_MS) return POD_WAIT_FAST_SECONDS;
  if (waited < GIVE_UP_AFTER_MS) return POD_WAIT_SLOW_SECONDS;
  return undefined;
}
