/**
 * Reading Patroni's view of a cluster (`GET /cluster`): who leads, how far behind each replica is, which replica is
 * the best switchover candidate, whether every member is healthy. Pure functions of the answer; the shapes are
 * structural so this layer needs no client (lib/patroni validates the answers and re-exports these).
 *
 * Source: Patroni REST API docs (https://patroni.readthedocs.io/en/latest/rest_api.html), "Cluster status
 * endpoints"; Patroni tags docs ("nofailover"); Patroni 3.0.2 `cluster_as_json` (lag in bytes, `"unknown"`).
 *
 * @module
 */

/** The fields of one `GET /cluster` member read here. */
export interface MemberView {
  name: string;
  /** `leader`, `standby_leader`, `sync_standby`, `quorum_standby` (4.0+) or `replica` */
  role: string;
  /** e.g. `running`, `streaming` (replicas, 3.0.4+), `starting`, `stopped`, `start failed`, `crashed` */
  state: string;
  timeline?: number;
  /** bytes behind the leader; absent on the leader, `"unknown"` without a reported WAL position */
  lag?: number | string;
  tags?: Record<string, unknown>;
}

/** The fields of a `GET /cluster` answer read here. */
export interface ClusterView {
  members: MemberView[];
}

/** Member roles that hold the leader key. */
const LEADER_ROLES = new Set(['leader', 'standby_leader']);

/** Replica states in which a member can take over: `running` (up to 3.0.3), `streaming` (3.0.4+). */
const HEALTHY_REPLICA_STATES = new Set(['running', 'streaming']);

/** @returns the member holding the leader key, or undefined while the cluster has no leader */
export function clusterLeader<M extends MemberView>(cluster: { members: M[] }): M | undefined {
  return cluster.members.find((m) => LEADER_ROLES.has(m.role));
}

/** @returns how many bytes of WAL the member is behind the leader; undefined for the leader or when unknown */
export function lagBytes(member: MemberView): number | undefined {
  return typeof member.lag === 'number' ? member.lag : undefined;
}

/**
 * @returns whether the member is a replica that can take over now: not the leader, state `running` or
 *   `streaming`, a known lag, and no `nofailover` tag
 */
export function isHealthyReplica(member: MemberView): boolean {
  return (
    !LEADER_ROLES.has(member.role) &&
    HEALTHY_REPLICA_STATES.has(member.state) &&
    lagBytes(member) !== undefined &&
    member.tags?.nofailover !== true
  );
}

/**
 * Why a replica is not (yet) following the leader: not running or streaming, no known lag, or still on an older
 * timeline (a demoted master is labelled replica before it has followed the new timeline).
 * @returns the reason, or undefined when the member follows the leader
 */
export function replicaNotFollowing(member: MemberView, leader: MemberView): string | undefined {
  if (!HEALTHY_REPLICA_STATES.has(member.state)) return `member ${member.name} is ${member.state}`;
  if (lagBytes(member) === undefined) return `member ${member.name} reports no replication lag`;
  if (leader.timeline !== undefined && member.timeline !== leader.timeline) {
    return `member ${member.name} is on timeline ${member.timeline ?? 'unknown'}, the leader on ${leader.timeline}`;
  }
  return undefined;
}

/**
 * A member's own view of itself (`GET /patroni` at its pod's IP): `state` e.g. `running`, `starting`; `role` e.g.
 * `replica`. The cluster view can still list the member of a pod's previous incarnation for a moment after the pod
 * was replaced (seen on the full plane): only the pod's own answer says that its Patroni is back.
 */
export interface OwnStatus {
  state: string;
  role: string;
  timeline?: number | null;
  /** a replica streams from the leader (`replication_state` of Patroni 3.0.4+); undefined when not reported */
  streaming?: boolean;
  /**
   * the scope (cluster) of the Patroni that answered, when it is not the pod's cluster: a pod IP handed on while
   * another pod's Patroni still answered there
   */
  foreignScope?: string;
}

/**
 * Why a pod's own Patroni does not (yet) follow the leader: no answer, PostgreSQL not `running`, not streaming
 * (when Patroni says), or another timeline than the leader's.
 * @param self its own answer; undefined when it did not answer
 * @returns the reason, or undefined when it follows the leader
 */
export function ownStatusNotFollowing(
  pod: string,
  self: OwnStatus | undefined,
  leader: MemberView,
): string | undefined {
  if (!self) return `the Patroni of pod ${pod} does not answer`;
  if (self.foreignScope !== undefined)
    return `the Patroni answering at the IP of pod ${pod} belongs to cluster ${self.foreignScope}`;
  if (self.state !== 'running') return `pod ${pod}: PostgreSQL is ${self.state}`;
  if (self.streaming === false) return `pod ${pod} does not stream from the leader yet`;
  if (leader.timeline !== undefined && self.timeline !== leader.timeline) {
    return `pod ${pod} is on timeline ${self.timeline ?? 'unknown'}, the leader on ${leader.timeline}`;
  }
  return undefined;
}

/** What a plan that moves the master sees of Patroni (rolling update, node drain). */
export interface PatroniObservation {
  /** Patroni's `GET /cluster` members; undefined when it could not be read (see `patroniError`) */
  members?: MemberView[];
  patroniError?: string;
  /**
   * each pod's own Patroni (`GET /patroni` at the pod's IP), by pod name, undefined for one that did not answer
   * (see {@link OwnStatus}: the cluster view alone can list a replaced pod's previous incarnation)
   */
  own?: Map<string, OwnStatus | undefined>;
  /** a replica further behind than this many bytes is not a switchover candidate (`maximum_lag_on_failover`) */
  maxLagBytes?: number;
}

/** Options of {@link pickSwitchoverCandidate}. */
export interface CandidateOptions<M extends MemberView = MemberView> {
  /** Members not to pick, e.g. the ones on a node that is going away. */
  exclude?: (member: M) => boolean;
  /** Skip replicas further behind than this many bytes (Patroni's `maximum_lag_on_failover` is a good value). */
  maxLagBytes?: number;
}

/**
 * @returns the healthiest replica to switch over to: healthy ({@link isHealthyReplica}), not excluded, within
 *   `maxLagBytes`, least lag first, then by name so the choice is stable; undefined when there is none
 */
export function pickSwitchoverCandidate<M extends MemberView>(
  cluster: { members: M[] },
  options: CandidateOptions<M> = {},
): M | undefined {
  const candidates = cluster.members.filter(
    (m) =>
      isHealthyReplica(m) &&
      !(options.exclude?.(m) ?? false) &&
      (options.maxLagBytes === undefined || (lagBytes(m) ?? Infinity) <= options.maxLagBytes),
  );
  candidates.sort((a, b) => lagBytes(a)! - lagBytes(b)! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return candidates[0];
}
