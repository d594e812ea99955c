/**
 * Reading a `GET /cluster` answer: who leads, how far behind each replica is, which replica is the best
 * switchover candidate. Pure functions of the answer.
 *
 * Source: Patroni REST API docs (https://patroni.readthedocs.io/en/latest/rest_api.html), "Cluster status
 * endpoints"; Patroni tags docs ("nofailover"); Patroni 3.0.2 `cluster_as_json` (lag in bytes, `"unknown"`).
 *
 * @module
 */
import type { PatroniCluster, PatroniMember } from './types';

/** Member roles that hold the leader key. */
const LEADER_ROLES = new Set(['leader', 'standby_leader']);

/** Replica states in which a member can take over: `running` (up to 3.0.3), `streaming` (3.0.4+). */
const HEALTHY_REPLICA_STATES = new Set(['running', 'streaming']);

/** @returns the member holding the leader key, or undefined while the cluster has no leader */
export function clusterLeader(cluster: PatroniCluster): PatroniMember | undefined {
  return cluster.members.find((m) => LEADER_ROLES.has(m.role));
}

/** @returns how many bytes of WAL the member is behind the leader; undefined for the leader or when unknown */
export function lagBytes(member: PatroniMember): number | undefined {
  return typeof member.lag === 'number' ? member.lag : undefined;
}

/**
 * @returns whether the member is a replica that can take over now: not the leader, state `running` or
 *   `streaming`, a known lag, and no `nofailover` tag
 */
export function isHealthyReplica(member: PatroniMember): boolean {
  return !LEADER_ROLES.has(member.role)
    && HEALTHY_REPLICA_STATES.has(member.state)
    && lagBytes(member) !== undefined
    && member.tags?.nofailover !== true;
}

/** Options of {@link pickSwitchoverCandidate}. */
export interface CandidateOptions {
  /** Members not to pick, e.g. the ones on a node that is going away. */
  exclude?: (member: PatroniMember) => boolean;
  /** Skip replicas further behind than this many bytes (Patroni's `maximum_lag_on_failover` is a good value). */
  maxLagBytes?: number;
}

/**
 * @returns the healthiest replica to switch over to: healthy ({@link isHealthyReplica}), not excluded, within
 *   `maxLagBytes`, least lag first, then by name so the choice is stable; undefined when there is none
 */
export function pickSwitchoverCandidate(cluster: PatroniCluster, options: CandidateOptions = {}):
  PatroniMember | undefined {
  const candidates = cluster.members.filter((m) => isHealthyReplica(m)
    && !(options.exclude?.(m) ?? false)
    && (options.maxLagBytes === undefined || (lagBytes(m) ?? Infinity) <= options.maxLagBytes));
  candidates.sort((a, b) => (lagBytes(a)! - lagBytes(b)!) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return candidates[0];
}
