/**
 * The rolling update as a state machine on the objects: pods flagged `zalando-postgres-operator-rolling-update-
 * required` are recreated one at a time, replicas first, then the master after a switchover to the healthiest
 * replica. This module decides the ONE next step from what was observed (the pods and Patroni's `GET /cluster`);
 * `lib/sync/rollout/rolling-update.ts` carries it out under the cluster's Lease. Nothing is remembered between steps
 * but the flags on the pods and Patroni's own state, so a rollout resumes from any point after an invocation is
 * killed.
 *
 * Safety rules, in the order they are checked:
 * - nothing happens while a pod is being deleted, a pod is missing, or a pod is not ready, except that one flagged
 *   pod whose Patroni member is broken (`start failed`, `crashed`, `stopped`) is recreated when all others are
 *   healthy: never two pods of a cluster down at once, and never one that is only starting or demoting;
 * - nothing happens unless Patroni has a leader and every other member follows it (running or streaming, a known
 *   lag, on the leader's timeline), in the cluster view and in its own answer at its pod's IP: a recreated replica
 *   must be back and caught up, and a demoted master must follow the new timeline, before the next pod goes;
 * - flagged replicas go first (the most lagging first, then the highest name), then the flagged leader: a
 *   switchover to the healthiest replica (least lag, not flagged, not on a node going away), and only when the
 *   leader is no longer the leader is its pod recreated (as a replica, by the rules above);
 * - a single-instance cluster has no one to switch over to: its pod is recreated (downtime, as in Zalando's
 *   operator).
 *
 * Pure: the observations come in as data.
 *
 * Source: Zalando postgres-operator v1.15.1, "Understanding rolling update of Spilo pods" (docs/administrator.md)
 * and `recreatePods`, `getSwitchoverCandidate` in pkg/cluster/pod.go
 * (https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/pod.go: flag per pod, replicas first,
 * switchover, old master last; candidate per GET /cluster); one disruptive step per invocation, with the intent
 * kept on the objects (this project's design: a function call is short-lived, so nothing waits inside it and the
 * next call goes on from what the objects say); Patroni REST API "Cluster status endpoints".
 */
import { disruptionBlocker } from './disruption';
import { clusterLeader, pickSwitchoverCandidate, lagBytes, type PatroniObservation } from './patroni-members';

export type { OwnStatus } from './patroni-members';

/** One pod of the cluster as observed. */
export interface RolloutPod {
  name: string;
  uid: string;
  /** carries `zalando-postgres-operator-rolling-update-required: "true"` */
  flagged: boolean;
  /** phase Running and condition Ready True */
  ready: boolean;
  /** has a deletionTimestamp */
  deleting: boolean;
  /** its `pod_role_label` value, e.g. `master` or `replica` */
  role?: string;
  /** why its node is going away (lib/plan/node-drain.ts), when it is */
  nodeGoingAway?: string;
}

/** What the next step is decided from. */
export interface RolloutInputs extends PatroniObservation {
  pods: RolloutPod[];
  /** the StatefulSet's replicas */
  instances: number;
}

/** The one next step. */
export type RolloutStep =
  /** no pod is flagged */
  | { kind: 'done' }
  /** a pod must come back, or a member catch up, first; nothing to do now */
  | { kind: 'wait'; reason: string }
  /** nothing can be done without help (e.g. no healthy replica to switch over to) */
  | { kind: 'blocked'; reason: string }
  /** delete the pod (precondition: its uid) so the StatefulSet recreates it from the current template */
  | { kind: 'recreate'; pod: string; uid: string; reason: string; downtime: boolean }
  /** ask Patroni to move the leader key from `leader` to `candidate` */
  | { kind: 'switchover'; leader: string; candidate: string; reason: string };

/** Patroni member states of a PostgreSQL that will not come up by itself. */
const BROKEN_STATES = new Set(['start failed', 'crashed', 'stopped']);

/** @returns the flagged pods that are not being deleted, by name */
export const flaggedPods = (pods: readonly RolloutPod[]) => pods.filter((p) => p.flagged && !p.deleting);

/**
 * What a cluster still waits for once no pod is flagged: its last recreated pod is not flagged, but the rollout is
 * over only when that pod is back.
 * @returns the first pod being deleted, the pods missing, or the pods not ready; undefined when all are back
 */
export function podsNotBack(pods: readonly RolloutPod[], instances: number): string | undefined {
  const deleting = pods.find((p) => p.deleting);
  if (deleting) return `pod ${deleting.name} is being deleted`;
  if (pods.length < instances) return `${pods.length} of ${instances} pods exist`;
  const notReady = pods.filter((p) => !p.ready).map((p) => p.name);
  return notReady.length > 0 ? `pod ${notReady.join(', ')} not ready` : undefined;
}

/**
 * Whether a rollout that waits has waited too long, as a Deployment's `progressDeadlineSeconds` judges its rollout:
 * the time since its last step (or since it began) against `rollout_progress_deadline`.
 * @param lastProgress ISO time of the last step, or of the rollout's start (the condition's `lastUpdateTime`)
 * @param now the current time
 * @param deadlineMs `rollout_progress_deadline` in ms; 0 never reports
 * @returns e.g. `no step for 12 min`, or undefined while within the deadline (or without a known last step)
 */
export function rolloutStalled(lastProgress: string | undefined, now: Date, deadlineMs: number): string | undefined {
  const since = lastProgress ? Date.parse(lastProgress) : Number.NaN;
  if (deadlineMs <= 0 || Number.isNaN(since)) return undefined;
  const waited = now.getTime() - since;
  return waited > deadlineMs ? `no step for ${Math.floor(waited / 60_000)} min` : undefined;
}

/**
 * Role label values of Patroni's leader: `master` (Spilo with Patroni 3, Zalando's `spilo-role`), `primary` (Patroni
 * 4's default). Source: Patroni "Kubernetes" settings (`labels`, role labels).
 */
const LEADER_ROLE_LABELS: ReadonlySet<string> = new Set(['master', 'primary']);

/** Role label value of a Patroni replica (Spilo's `spilo-role=replica`; the same in Patroni 4). */
const FOLLOWER_ROLE_LABEL = 'replica';

/**
 * @returns the next step of the rolling update of one cluster
 */
export function nextRolloutStep(inputs: RolloutInputs): RolloutStep {
  const flagged = flaggedPods(inputs.pods);
  if (flagged.length === 0) return { kind: 'done' };
  const left = `${flagged.length} flagged pod${flagged.length === 1 ? '' : 's'} left`;

  if (inputs.pods.length === 1 && inputs.instances <= 1 && !inputs.pods[0]!.deleting) {
    const pod = flagged[0]!;
    return {
      kind: 'recreate',
      pod: pod.name,
      uid: pod.uid,
      downtime: true,
      reason: `single-instance cluster: no replica to switch over to, recreating pod ${pod.name} (${left})`,
    };
  }
  // At most one pod may be down, and only a flagged one (recreated below when Patroni says it is broken): every
  // other pod must be up and following the leader, the rule every disruptive step obeys.
  const notReady = inputs.pods.filter((p) => !p.ready);
  const down = notReady.length === 1 && notReady[0]!.flagged ? notReady[0] : undefined;
  const blocker = disruptionBlocker(inputs, down ? [down.name] : []);
  if (blocker) return { kind: 'wait', reason: `${blocker} (${left})` };
  const members = inputs.members!;
  const leader = clusterLeader({ members })!;
  const byName = new Map(members.map((m) => [m.name, m]));
  if (down) {
    // The one pod down is flagged. Recreating it takes no second pod down and may be what brings it back, but only
    // when Patroni says it is broken: a pod is also briefly not ready while it starts, or while a switched-over
    // master demotes itself, and then it must be left to finish.
    const member = byName.get(down.name);
    // A switched-over master stops PostgreSQL to come back as a replica ('stopped' for a moment) while its pod still
    // carries the leader's role label, or none (Patroni 3.0 `Kubernetes.touch_member` removes the role label of a
    // member that is neither the leader nor running): that is the demotion going on, not a broken member. A member
    // still labelled a replica that stopped, or one that crashed or failed to start, is broken.
    const demoting =
      member !== leader &&
      (LEADER_ROLE_LABELS.has(down.role ?? '') || (member?.state === 'stopped' && down.role !== FOLLOWER_ROLE_LABEL));
    if (member && member !== leader && !demoting && BROKEN_STATES.has(member.state)) {
      return {
        kind: 'recreate',
        pod: down.name,
        uid: down.uid,
        downtime: false,
        reason: `pod ${down.name} is flagged for a rolling update and its member is ${member.state} (${left})`,
      };
    }
    const why = demoting
      ? `, ${down.role ? `still labelled ${down.role}` : 'not labelled yet'} while Patroni demotes it`
      : '';
    return {
      kind: 'wait',
      reason: `pod ${down.name} not ready${member ? ` (member ${member.state})` : ''}${why} (${left})`,
    };
  }

  const replicas = flagged.filter((p) => p.name !== leader.name && !LEADER_ROLE_LABELS.has(p.role ?? ''));
  // Patroni has demoted it (a switchover just now) but not relabelled its pod yet: the master Service still selects
  // it, so deleting it would cut the clients it still has. Its next HA loop relabels it.
  const relabelling = flagged.find((p) => p.name !== leader.name && LEADER_ROLE_LABELS.has(p.role ?? ''));
  if (replicas.length === 0 && relabelling) {
    return {
      kind: 'wait',
      reason: `pod ${relabelling.name} is still labelled ${relabelling.role}, though Patroni's leader is ${leader.name} (${left})`,
    };
  }
  if (replicas.length > 0) {
    const lag = (p: RolloutPod) => lagBytes(byName.get(p.name)!) ?? 0;
    const pod = [...replicas].sort((a, b) => lag(b) - lag(a) || (a.name < b.name ? 1 : -1))[0]!;
    return {
      kind: 'recreate',
      pod: pod.name,
      uid: pod.uid,
      downtime: false,
      reason: `replica ${pod.name} is flagged for a rolling update (${left})`,
    };
  }

  // Only the leader is flagged: hand its role to the healthiest replica first.
  const podsByName = new Map(inputs.pods.map((p) => [p.name, p]));
  const candidate = pickSwitchoverCandidate(
    { members },
    {
      maxLagBytes: inputs.maxLagBytes,
      exclude: (m) => podsByName.get(m.name)?.flagged === true || podsByName.get(m.name)?.nodeGoingAway !== undefined,
    },
  );
  if (!candidate) {
    const away = inputs.pods
      .filter((p) => p.nodeGoingAway && p.name !== leader.name)
      .map((p) => `${p.name} (${p.nodeGoingAway})`);
    return {
      kind: 'blocked',
      reason:
        `master ${leader.name} is flagged, but no replica can take over` +
        (away.length
          ? `: replicas on nodes going away: ${away.join(', ')}`
          : ': no healthy replica within the allowed lag'),
    };
  }
  return {
    kind: 'switchover',
    leader: leader.name,
    candidate: candidate.name,
    reason:
      `master ${leader.name} is flagged for a rolling update: switching over to ${candidate.name} ` +
      `(lag ${lagBytes(candidate)} bytes) before recreating it`,
  };
}
