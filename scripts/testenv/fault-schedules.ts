/**
 * Fault schedules, the pure half: a seed gives one schedule (a change to a fleet of Patroni clusters and the faults
 * injected while the operator carries it out), so any run can be replayed from the seed it printed. The runner that
 * applies a schedule to a running fleet is `fault-fleet.ts`.
 *
 * The faults are those a serverless operator meets in production: a function host killed mid-step (restarted at once
 * or only after a while, as a platform with back-off would), the event bridge killed and restarted (its relist
 * re-sends every object), the kube-apiserver restarted, events duplicated, reversed and stale, two hosts of one
 * function invoked at once, an invalid operator ConfigMap value for a while, and the node of a cluster's master
 * cordoned while a replica of that cluster is being replaced.
 *
 * Seeded randomness from pure-rand (https://github.com/dubzzz/pure-rand): xoroshiro128+ and its uniform integer
 * distribution.
 */
import prand from 'pure-rand';

/** What the operator is asked to do while the faults happen. */
export type ChangeKind =
  /** `docker_image` flips in the operator ConfigMap: every pod of every cluster is replaced (a rolling update) */
  | 'image'
  /** one cluster's `numberOfInstances` goes 3 → 4 or back */
  | 'instances'
  /** one cluster's manifest gets a new user and a database it owns */
  | 'user';

export type FaultKind =
  | 'kill-host'
  | 'kill-host-long'
  | 'kill-bridge'
  | 'restart-apiserver'
  | 'stale-events'
  | 'second-host'
  | 'invalid-config'
  | 'cordon-master';

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill-host',
  'kill-host-long',
  'kill-bridge',
  'restart-apiserver',
  'stale-events',
  'second-host',
  'invalid-config',
  'cordon-master',
];

/** When a fault fires, counted from the change being applied. */
export type Trigger =
  /** once `pods` pods of cluster `cluster` (an index into the fleet) have been replaced: the last one is starting */
  | { podsReplaced: number; cluster: number }
  /** after this many ms */
  | { afterMs: number };

export interface Fault {
  kind: FaultKind;
  trigger: Trigger;
  /** the function it hits (kill-host, kill-host-long, second-host) */
  target?: string;
  /** the cluster it concerns (cordon-master, stale-events), as an index into the fleet */
  cluster?: number;
  /** how long the fault lasts in ms (a host or the bridge down, the apiserver down, the invalid config kept) */
  holdMs?: number;
}

export interface Schedule {
  seed: number;
  change: ChangeKind;
  /** the cluster a per-cluster change (instances, user) applies to, as an index into the fleet */
  cluster: number;
  faults: Fault[];
}

/** Options of {@link makeSchedule}. */
export interface ScheduleOptions {
  /** clusters in the fleet */
  clusters: number;
  /** pods per cluster */
  instances: number;
  /** force the change (default: drawn, image twice as likely as each of the others) */
  change?: ChangeKind;
  /** force the faults (default: 1 to 3 drawn from {@link FAULT_KINDS}) */
  faults?: readonly FaultKind[];
}

/** The functions that carry each change forward: the ones worth killing or doubling. */
const CARRIERS: Record<ChangeKind, readonly string[]> = {
  image: ['on-operator-config-change', 'on-update', 'on-node-drain'],
  instances: ['on-update'],
  user: ['on-update'],
};

/** @returns the schedule of `seed`: the same seed and options always give the same schedule */
export function makeSchedule(seed: number, options: ScheduleOptions): Schedule {
  const rng = prand.xoroshiro128plus(seed);
  const int = (from: number, to: number) => prand.unsafeUniformIntDistribution(from, to, rng);
  const pick = <T>(list: readonly T[]): T => list[int(0, list.length - 1)]!;
  const change = options.change ?? pick<ChangeKind>(['image', 'image', 'instances', 'user']);
  const cluster = int(0, options.clusters - 1);
  const kinds = options.faults ?? Array.from({ length: int(1, 3) }, () => pick(FAULT_KINDS));
  const faults = kinds.map((kind): Fault => {
    const target = pick(CARRIERS[change]);
    const on = int(0, options.clusters - 1);
    // During a rolling update, fire when a pod of some cluster has just been replaced (the most delicate moment:
    // a replica is starting); other changes are short, so fire within their first seconds.
    const trigger: Trigger =
      change === 'image' && int(0, 3) > 0
        ? { podsReplaced: int(1, options.instances - 1), cluster: on }
        : { afterMs: int(0, change === 'image' ? 20_000 : 3_000) };
    switch (kind) {
      case 'kill-host':
        return { kind, trigger, target };
      case 'kill-host-long':
        return { kind, trigger, target, holdMs: int(15_000, 40_000) };
      case 'kill-bridge':
        return { kind, trigger, holdMs: int(500, 5_000) };
      case 'restart-apiserver':
        // Down for the hold plus ~3 s to start: within Patroni's retry_timeout (10 s), past which a leader with a
        // member down (as in every rollout step) demotes itself whatever the operator does.
        return { kind, trigger, holdMs: int(0, 3_000) };
      case 'stale-events':
        return { kind, trigger, cluster: on };
      case 'second-host':
        return { kind, trigger, target };
      case 'invalid-config':
        return { kind, trigger, holdMs: int(3_000, 20_000) };
      case 'cordon-master':
        // The schedule of issue 21's first defect: the master's node is cordoned while a replica of the same
        // cluster is starting, so the drain must wait for it.
        return {
          kind,
          trigger: change === 'image' ? { podsReplaced: int(1, options.instances - 1), cluster: on } : trigger,
          cluster: on,
        };
    }
  });
  return { seed, change, cluster, faults };
}

/** @returns a one-line description of a fault, for the table ("kill-host on-update @2 pods of #1") */
export function describeFault(fault: Fault): string {
  const when =
    'afterMs' in fault.trigger
      ? `@${fault.trigger.afterMs}ms`
      : `@${fault.trigger.podsReplaced} pods of #${fault.trigger.cluster}`;
  const what = [fault.kind, fault.target, fault.cluster !== undefined ? `#${fault.cluster}` : undefined]
    .filter(Boolean)
    .join(' ');
  return `${what}${fault.holdMs ? ` ${(fault.holdMs / 1000).toFixed(1)}s` : ''} ${when}`;
}
