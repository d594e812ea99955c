/**
 * The arithmetic of a fleet sync run: its time budget and parallelism, whether another cluster may start, the
 * deadline the syncs it starts get, the order of its work list from the cursor where the last run stopped, and how
 * its results read. Pure: times come in as epoch milliseconds; `lib/sync/fleet/sync-fleet.ts` reads the clock.
 *
 * Source: Zalando postgres-operator docs, "Running periodic 'autorepair' scans of K8s objects" (resync and repair
 * periods, which one fleet run covers here):
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/administrator.md.
 */

/** Default time budget of a run, in ms from its start. */
export const DEFAULT_FLEET_DEADLINE_MS = 240_000;
/** Default number of clusters synced at once. */
export const DEFAULT_FLEET_PARALLELISM = 4;

/** How long a run may take and how many clusters it syncs at once. */
export interface FleetBudget {
  /** ms from the run's start */
  deadlineMs: number;
  /** ms kept free before the deadline for the clusters in flight: no cluster starts within it */
  marginMs: number;
  /** clusters synced at once, at least 1 */
  parallelism: number;
}

/**
 * @param options `deadlineMs` (default 240000), `marginMs` (default 10% of the deadline, at least 500),
 *   `parallelism` (default 4; rounded down, at least 1)
 * @returns the budget with the defaults filled in
 */
export function fleetBudget(options: { deadlineMs?: number; marginMs?: number; parallelism?: number }): FleetBudget {
  const deadlineMs = options.deadlineMs ?? DEFAULT_FLEET_DEADLINE_MS;
  return {
    deadlineMs,
    marginMs: options.marginMs ?? Math.max(500, deadlineMs / 10),
    parallelism: Math.max(1, Math.floor(options.parallelism ?? DEFAULT_FLEET_PARALLELISM)),
  };
}

/**
 * @param startMs when the run started, on the run's clock (ms)
 * @param nowMs the time now, on the same clock
 * @returns whether another cluster may be started: more than the margin is left of the budget
 */
export const mayStartAnother = (budget: FleetBudget, startMs: number, nowMs: number): boolean =>
  startMs + budget.deadlineMs - nowMs > budget.marginMs;

/**
 * The syncs' own waits (for a Lease, for an old StatefulSet to go) end by the fleet's deadline too.
 * @param invocationDeadline the invocation's deadline (epoch ms), if any
 * @param wallStartMs when the run started (epoch ms)
 * @returns the deadline (epoch ms) of the syncs the run starts: the earlier of the two
 */
export const syncDeadline = (invocationDeadline: number | undefined, wallStartMs: number, deadlineMs: number): number =>
  Math.min(invocationDeadline ?? Infinity, wallStartMs + deadlineMs);

/**
 * @param keys the work list's keys (`namespace/name`)
 * @param cursor where the last run stopped (the first cluster it did not start), if it did
 * @returns the keys sorted, starting at the first key at or after the cursor (wrapping around)
 */
export function orderFromCursor(keys: readonly string[], cursor: string | undefined): string[] {
  const sorted = [...keys].sort();
  if (!cursor) return sorted;
  const start = sorted.findIndex((k) => k >= cursor);
  return start <= 0 ? sorted : [...sorted.slice(start), ...sorted.slice(0, start)];
}

/**
 * @param after request counts by verb at the end of the run
 * @param before request counts by verb at its start
 * @returns the requests of the run by verb (verbs without any left out)
 */
export function requestDelta(
  after: Readonly<Record<string, number>>,
  before: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [verb, n] of Object.entries(after)) if (n - (before[verb] ?? 0) > 0) out[verb] = n - (before[verb] ?? 0);
  return out;
}

/** One cluster a run acted on, as far as its summary line reads it. */
export interface FleetItemSummary {
  cluster: string;
  action: string;
  why: string;
  outcome: string;
  /** the cluster's rolling update goes on in a later run */
  rollingUpdate?: string;
}

/** @returns e.g. `ns/acid-a: sync (Service acid-a-repl is missing) -> synced`, with ` (<rolling update>)` when one goes on */
export const describeFleetItem = (item: FleetItemSummary): string =>
  `${item.cluster}: ${item.action} (${item.why}) -> ${item.outcome}` +
  (item.rollingUpdate ? ` (${item.rollingUpdate})` : '');
