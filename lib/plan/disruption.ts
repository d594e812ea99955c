/**
 * The one safety rule for every step that takes a member of a cluster down: a pod deletion (rolling update, node
 * drain), a switchover (the old leader restarts as a replica), a failover. Such a step is taken only when every
 * OTHER pod of the cluster exists, is Ready, is a Patroni member, and (replicas) runs and streams on the leader's
 * timeline, as the cluster view and its own Patroni both say. Every path that disrupts asks this rule, so two
 * paths that each take "one pod down" can never take two down together (e.g. a node drain's switchover while a
 * rolling update's recreated replica is still starting).
 *
 * Pure: the pods and Patroni's answers come in as data.
 *
 * Source: Patroni REST API docs (https://patroni.readthedocs.io/en/latest/rest_api.html), "Cluster status
 * endpoints" and "Switchover and failover endpoints"; Kubernetes "Disruptions" (a voluntary disruption waits for
 * the budget of healthy pods).
 */
import {
  clusterLeader,
  ownStatusNotFollowing,
  replicaNotFollowing,
  type MemberView,
  type PatroniObservation,
} from './patroni-members';

/** What the rule needs of one pod of the cluster. */
export interface DisruptionPod {
  name: string;
  /** phase Running and condition Ready True */
  ready: boolean;
  /** has a deletionTimestamp */
  deleting: boolean;
}

/** The cluster as the step that would disrupt it sees it. */
export interface DisruptionInputs extends PatroniObservation {
  pods: readonly DisruptionPod[];
  /** the StatefulSet's replicas */
  instances: number;
}

/**
 * @param disrupted the pods the step takes down: the pod it deletes, or the leader it switches over from
 * @returns why the step must wait (the first reason found: a pod being deleted, missing, not Ready, not a member,
 *   not following the leader), or undefined when every other pod is up and following
 */
export function disruptionBlocker(inputs: DisruptionInputs, disrupted: readonly string[]): string | undefined {
  const others = inputs.pods.filter((p) => !disrupted.includes(p.name));
  const deleting = inputs.pods.find((p) => p.deleting);
  if (deleting) return `pod ${deleting.name} is being deleted`;
  if (inputs.pods.length < inputs.instances) return `${inputs.pods.length} of ${inputs.instances} pods exist`;
  const notReady = others.filter((p) => !p.ready).map((p) => p.name);
  if (notReady.length > 0) return `pod ${notReady.join(', ')} not ready`;
  return patroniBlocker(inputs, others);
}

/** The Patroni half of the rule: a leader, and every other pod a member following it. */
function patroniBlocker(inputs: DisruptionInputs, others: readonly DisruptionPod[]): string | undefined {
  if (!inputs.members) return `cannot read Patroni's cluster view: ${inputs.patroniError ?? 'no answer'}`;
  const leader = clusterLeader({ members: inputs.members });
  if (!leader) return 'Patroni has no leader';
  const byName = new Map<string, MemberView>(inputs.members.map((m) => [m.name, m]));
  for (const pod of others) {
    const member = byName.get(pod.name);
    if (!member) return `pod ${pod.name} is not a Patroni member yet`;
    if (member === leader) continue;
    const lagging = replicaNotFollowing(member, leader);
    if (lagging) return lagging;
    const notFollowing = inputs.own ? ownStatusNotFollowing(pod.name, inputs.own.get(pod.name), leader) : undefined;
    if (notFollowing) return notFollowing;
  }
  return undefined;
}
