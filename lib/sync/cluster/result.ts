/**
 * How a cluster sync ends (`SyncResult`), in a file of its own so every phase of `syncCluster` can build one
 * without importing the orchestration.
 */
import type { AppliedAction } from '../../plan/cluster-events';
import type { RolesSummary } from '../roles/step';

/** How a sync ended. */
export interface SyncResult {
  /** `busy`: another invocation held the cluster's Lease for the whole wait (retryable; it is doing the work) */
  outcome: 'synced' | 'invalid' | 'not-found' | 'deleting' | 'failed' | 'busy';
  /** the writes made to children, with their reasons */
  actions: AppliedAction[];
  status?: string;
  /** for `failed` and `busy`: whether trying again later may succeed; for `synced`: set with `pending` */
  retryable?: boolean;
  error?: string;
  /** for `synced`: work left for a later sync (e.g. roles waiting for the master pod) */
  pending?: string;
  /**
   * for `synced`: the pods are not all Ready yet (e.g. `1 of 2 pods ready`) and the status should follow them soon:
   * an event-driven caller asks to be called again after `retryAfterSeconds` (the fleet sync does not)
   */
  waitingForPods?: { progress: string; retryAfterSeconds: number };
  /** for `synced`: the rolling update goes on in a later invocation (a step was taken, or it waits), and why */
  rollingUpdate?: string;
  /**
   * for `synced`: seconds after which an event-driven caller should call again even when it watches the pods'
   * readiness, because what the sync waits for (Patroni's state) shows in no watched object
   */
  lookAgainSeconds?: number;
  /** roles and databases in PostgreSQL, when they were synced */
  roles?: RolesSummary;
}

/** @returns the message of anything thrown (an Error's message, else the value as text) */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * @param retryable whether trying again later may succeed
 * @param context what was being done, prefixed to the error's message (`taking the Lease x: ...`)
 * @returns the result of a sync that failed before it wrote anything
 */
export function failedBeforeWrites(error: unknown, retryable: boolean, context?: string): SyncResult {
  return {
    outcome: 'failed',
    actions: [],
    retryable,
    error: context ? `${context}: ${messageOf(error)}` : messageOf(error),
  };
}
