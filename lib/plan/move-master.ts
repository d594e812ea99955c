/**
 * Moving a master off a node that is going away (node drain) as one decision per invocation: from the cluster's
 * pods, the Nodes they run on and Patroni's `GET /cluster`, decide the ONE next step. `lib/sync/drain/move-master.ts`
 * carries it out under the cluster's Lease; the next invocation decides again from what it observes, so a move
 * resumes from any point.
 *
 * The steps, in the order they are checked:
 * - a single-instance cluster has no replica to hand the master role to: it is reported, never deleted here
 *   (see {@link MoveMasterStep} `single-instance`);
 * - without Patroni's view, or while Patroni has no leader, nothing is done (wait);
 * - the leader no longer runs on the node: done;
 * - every step below that disrupts (a switchover, a recreate) first passes the rule of \`disruption.ts\`: every other
 *   pod Ready and following the leader, so a drain never takes a second pod down beside a rolling update's;
 * - a healthy replica that follows the leader (running or streaming, known lag within `maxLagBytes`, the leader's
 *   timeline, no `nofailover` tag; in the cluster view and, when given, in its own `GET /patroni`) and runs on a
 *   node that is not going away: switch over to it (least lag first);
 * - otherwise, once every pod exists and every replica follows the leader, a healthy replica on a node going away
 *   is recreated (its pod deleted, so the StatefulSet creates it again on a ready node) to become the candidate;
 * - otherwise wait, saying why.
 *
 * Pure: the observations come in as data.
 *
 * Source: Zalando postgres-operator node drain (`MigrateMasterPod` in
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/pod.go: switchover to a replica, recreating a
 * candidate that sits on a node going away first; the old master pod is left to the drain, which evicts it once the
 * master PodDisruptionBudget is satisfied by the new master); CloudNativePG's drain design ("Kubernetes upgrade and
 * maintenance", https://cloudnative-pg.io/documentation/current/kubernetes_upgrade/: cordon or drain taint,
 * switchover before the eviction); Patroni REST API "Cluster status endpoints".
 */
import { disruptionBlocker } from './disruption';
import {
  clusterLeader,
  isHealthyReplica,
  lagBytes,
  ownStatusNotFollowing,
  pickSwitchoverCandidate,
  replicaNotFollowing,
  type MemberView,
  type PatroniObservation,
} from './patroni-members';

/** One pod of the cluster as observed. */
export interface DrainPod {
  name: string;
  uid: string;
  /** `spec.nodeName`; undefined while the pod is not scheduled */
  nodeName?: string;
  /** has a deletionTimestamp */
  deleting: boolean;
  /** phase Running and condition Ready True */
  ready: boolean;
  /** why its node is going away (lib/plan/node-drain.ts), when it is */
  nodeGoingAway?: string;
}

/** What the next step is decided from; without `own`, the cluster view alone decides. */
export interface MoveMasterInputs extends PatroniObservation {
  /** the node going away */
  node: string;
  /** why it is going away, e.g. `unschedulable, taint ToBeDeletedByClusterAutoscaler` */
  nodeReason: string;
  /** the cluster's pods */
  pods: DrainPod[];
  /** the number of instances the cluster should run (the StatefulSet's replicas) */
  instances: number;
}

/** The one next step. */
export type MoveMasterStep =
  /** the master no longer runs on the node (or the cluster has no pod there) */
  | { kind: 'done'; reason: string }
  /** a pod must come back, a member catch up, or Patroni answer first; retry later */
  | { kind: 'wait'; reason: string }
  /** ask Patroni to move the leader key from `leader` (on the node) to `candidate` */
  | { kind: 'switchover'; leader: string; candidate: string; reason: string }
  /** delete the replica pod (precondition: its uid) so that it is recreated on a ready node */
  | { kind: 'recreate'; pod: string; uid: string; reason: string }
  /**
   * the only pod of a single-instance cluster runs on the node: no switchover is possible, and moving it means
   * downtime; the master PodDisruptionBudget keeps the drain from evicting it until someone decides
   */
  | { kind: 'single-instance'; pod: string; reason: string };

/**
 * @returns the next step of moving the cluster's master off `inputs.node`
 */
export function nextMoveMasterStep(inputs: MoveMasterInputs): MoveMasterStep {
  const { node } = inputs;
  const alive = inputs.pods.filter((p) => !p.deleting);
  const onNode = alive.filter((p) => p.nodeName === node);
  if (onNode.length === 0) return { kind: 'done', reason: `no pod of the cluster runs on node ${node}` };

  if (inputs.instances <= 1 && inputs.pods.length <= 1) {
    const pod = onNode[0]!;
    return {
      kind: 'single-instance',
      pod: pod.name,
      reason:
        `single-instance cluster: its master ${pod.name} runs on node ${node}, which is going away (${inputs.nodeReason}); ` +
        'there is no replica to switch over to, so it cannot move without downtime',
    };
  }

  if (!inputs.members)
    return { kind: 'wait', reason: `cannot read Patroni's cluster view: ${inputs.patroniError ?? 'no answer'}` };
  const leader = clusterLeader({ members: inputs.members });
  if (!leader) return { kind: 'wait', reason: 'Patroni has no leader' };
  const podsByName = new Map(inputs.pods.map((p) => [p.name, p]));
  const leaderPod = podsByName.get(leader.name);
  if (!leaderPod) return { kind: 'wait', reason: `the leader ${leader.name} has no pod` };
  if (leaderPod.nodeName !== node) {
    return {
      kind: 'done',
      reason: `the master ${leader.name} runs on node ${leaderPod.nodeName ?? '(none)'}, not on ${node}`,
    };
  }

  const notFollowing = (m: MemberView) =>
    replicaNotFollowing(m, leader) ??
    (inputs.own ? ownStatusNotFollowing(m.name, inputs.own.get(m.name), leader) : undefined);
  const candidate = pickSwitchoverCandidate(
    { members: inputs.members },
    {
      maxLagBytes: inputs.maxLagBytes,
      exclude: (m) => {
        const pod = podsByName.get(m.name);
        return (
          !pod || pod.deleting || !pod.nodeName || pod.nodeGoingAway !== undefined || notFollowing(m) !== undefined
        );
      },
    },
  );
  if (candidate) {
    // The old master restarts as a replica: every other pod must be up first (a rolling update may have one down).
    const blocker = disruptionBlocker(inputs, [leader.name]);
    if (blocker) return { kind: 'wait', reason: `switchover to ${candidate.name} waits: ${blocker}` };
    return {
      kind: 'switchover',
      leader: leader.name,
      candidate: candidate.name,
      reason:
        `switching over from ${leader.name} on node ${node} (going away: ${inputs.nodeReason}) to ${candidate.name} ` +
        `on node ${podsByName.get(candidate.name)!.nodeName} (lag ${lagBytes(candidate)} bytes)`,
    };
  }

  // No candidate on a ready node. Recreating a replica takes one pod down: only when every other one is up.
  const deleting = inputs.pods.find((p) => p.deleting);
  if (deleting) return { kind: 'wait', reason: `pod ${deleting.name} is being deleted` };
  if (inputs.pods.length < inputs.instances)
    return { kind: 'wait', reason: `${inputs.pods.length} of ${inputs.instances} pods exist` };
  const membersByName = new Map(inputs.members.map((m) => [m.name, m]));
  for (const pod of [...inputs.pods].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (pod.name === leader.name) continue;
    if (!pod.nodeName)
      return { kind: 'wait', reason: `pod ${pod.name} is not scheduled yet (no ready node takes it?)` };
    const member = membersByName.get(pod.name);
    if (!member) return { kind: 'wait', reason: `pod ${pod.name} is not a Patroni member yet` };
    const lagging = notFollowing(member);
    if (lagging) return { kind: 'wait', reason: lagging };
  }

  const away = inputs.pods
    .filter(
      (p) => p.name !== leader.name && p.nodeGoingAway !== undefined && isHealthyReplica(membersByName.get(p.name)!),
    )
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  if (away.length > 0) {
    const pod = away[0]!;
    const blocker = disruptionBlocker(inputs, [pod.name]);
    if (blocker) return { kind: 'wait', reason: `recreating replica ${pod.name} waits: ${blocker}` };
    return {
      kind: 'recreate',
      pod: pod.name,
      uid: pod.uid,
      reason:
        `master ${leader.name} on node ${node} (going away: ${inputs.nodeReason}) has no replica on a ready node to switch ` +
        `over to: recreating replica ${pod.name}, which runs on node ${pod.nodeName} (going away: ${pod.nodeGoingAway}), so that ` +
        'it comes back on a ready node',
    };
  }
  return {
    kind: 'wait',
    reason:
      `master ${leader.name} on node ${node} has no replica that can take over ` +
      `(none is healthy within ${inputs.maxLagBytes ?? 'any'} bytes of lag without a nofailover tag)`,
  };
}
