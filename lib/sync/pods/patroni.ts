/**
 * Patroni as the operator reaches it: the REST API of a cluster's pods at their pod IPs (port 8008, as in Spilo
 * pods). Any member answers `GET /cluster` and `GET /config` for the whole cluster and accepts a switchover or a
 * configuration change, so the pods are tried in turn, the one labelled master first.
 *
 * Source: Patroni REST API docs (https://patroni.readthedocs.io/en/latest/rest_api.html), "Cluster status
 * endpoints", "Switchover and failover endpoints", "Config endpoint"; Zalando operator v1.15.1 `apiURL` (pod IP,
 * port 8008) in https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/util/patroni/patroni.go.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { nameOf } from '../../k8s/meta';
import {
  PatroniClient,
  patroniUrl,
  type PatroniCluster,
  type PatroniStatus,
  type SwitchoverResult,
} from '../../patroni';
import { patroniConfigChange, type PatroniConfigChange } from '../../plan/patroni-config';
import type { OwnStatus } from '../../plan/patroni-members';
import type { SyncContext } from '../context';

/** A cluster view read from one member. */
export interface PatroniView {
  cluster: PatroniCluster;
  /** the pod whose member answered */
  from: string;
}

/** Patroni timeouts of a sync: each GET, and a switchover (Patroni answers once it sees the new leader). */
export interface PatroniTiming {
  /** ms per `GET /cluster`; default 3000 */
  getMs: number;
  /** ms per `POST /switchover`; default 25000 (Patroni waits up to 2 × max(10 s, loop_wait) for the new leader) */
  switchoverMs: number;
}

export const DEFAULT_PATRONI_TIMING: PatroniTiming = { getMs: 3_000, switchoverMs: 25_000 };

/** A pod whose member can be asked: its name and pod IP. */
interface Member {
  name: string;
  ip: string;
}

/** Pods with an IP that are not being deleted, the one labelled master first, then by name. */
function reachable(pods: readonly V1Pod[], roleLabel: string): Member[] {
  const members: Array<Member & { rank: number }> = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (ip && !pod.metadata?.deletionTimestamp)
      members.push({ name: nameOf(pod), ip, rank: pod.metadata?.labels?.[roleLabel] === 'master' ? 0 : 1 });
  }
  return members.sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : 1));
}

/**
 * Asks the pods' members in turn (the master first) until one answers.
 * @returns the first answer and the pod it came from, or every member's error; never throws
 */
async function askFirst<T>(
  ctx: SyncContext,
  pods: readonly V1Pod[],
  timing: PatroniTiming,
  what: string,
  ask: (client: PatroniClient) => Promise<T>,
): Promise<{ value: T; from: Member } | { error: string }> {
  const candidates = reachable(pods, ctx.config.pod_role_label);
  if (candidates.length === 0) return { error: 'no pod has an IP yet' };
  const errors: string[] = [];
  for (const member of candidates) {
    try {
      return { value: await ask(new PatroniClient(patroniUrl(member.ip), { timeoutMs: timing.getMs })), from: member };
    } catch (error) {
      errors.push(`${member.name}: ${(error as Error).message}`);
    }
  }
  return { error: `Patroni's REST API did not answer ${what} (${errors.join('; ')})` };
}

/**
 * Reads `GET /cluster` from the first pod that answers.
 * @returns the view, or why none could be read (no pod with an IP, or every member's error); never throws
 */
export async function readPatroniView(
  ctx: SyncContext,
  pods: readonly V1Pod[],
  timing: PatroniTiming = DEFAULT_PATRONI_TIMING,
): Promise<PatroniView | { error: string }> {
  const answer = await askFirst(ctx, pods, timing, 'GET /cluster', (client) =>
    client.getCluster({ signal: ctx.signal }),
  );
  return 'error' in answer ? answer : { cluster: answer.value, from: answer.from.name };
}

/** How bringing Patroni's dynamic configuration to the manifest's went. */
export type PatroniConfigSync =
  | { outcome: 'unchanged' }
  | { outcome: 'needs-write'; change: PatroniConfigChange }
  | { outcome: 'patched'; change: PatroniConfigChange; via: string }
  | { outcome: 'error'; error: string };

/**
 * Brings Patroni's dynamic configuration to `desired` (the differences: `lib/plan/patroni-config.ts`): `GET /config`
 * from the first member that answers, then `PATCH /config` through the same member.
 * @param desired the dynamic configuration the manifest asks for (`patroniDynamicConfiguration`)
 * @param options `write: false` only tells whether a write is due (`needs-write`); `timing` of the calls
 * @returns `unchanged` (no write), the change made or due, or why it could not be read or written; never throws
 */
export async function syncPatroniConfig(
  ctx: SyncContext,
  pods: readonly V1Pod[],
  desired: Record<string, unknown>,
  options: { write: boolean; timing?: PatroniTiming },
): Promise<PatroniConfigSync> {
  const { write, timing = DEFAULT_PATRONI_TIMING } = options;
  const current = await askFirst(ctx, pods, timing, 'GET /config', (client) =>
    client.getConfig({ signal: ctx.signal }),
  );
  if ('error' in current) return { outcome: 'error', error: current.error };
  const change = patroniConfigChange(desired, current.value);
  if (!change) return { outcome: 'unchanged' };
  if (!write) return { outcome: 'needs-write', change };
  const via = current.from.name;
  try {
    await new PatroniClient(patroniUrl(current.from.ip), { timeoutMs: timing.getMs }).patchConfig(change.patch, {
      signal: ctx.signal,
    });
    return { outcome: 'patched', change, via };
  } catch (error) {
    return { outcome: 'error', error: `${via}: ${(error as Error).message}` };
  }
}

/**
 * Asks Patroni to move the leader key from `leader` to `candidate`, through the candidate's own REST API (it is
 * healthy, or it would not be the candidate), falling back to `/failover` on a Patroni without `/switchover`.
 * @returns Patroni's answer; throws PatroniError (e.g. 412 when the leader changed meanwhile)
 */
export async function switchover(
  ctx: SyncContext,
  candidatePod: V1Pod,
  leader: string,
  candidate: string,
  timing: PatroniTiming = DEFAULT_PATRONI_TIMING,
): Promise<SwitchoverResult> {
  const ip = candidatePod.status?.podIP;
  if (typeof ip !== 'string')
    throw new Error(`the candidate pod ${candidatePod.metadata?.name ?? candidate} has no IP`);
  const client = new PatroniClient(patroniUrl(ip), { switchoverTimeoutMs: timing.switchoverMs });
  return client.switchover({ leader, candidate }, { signal: ctx.signal });
}

/**
 * Asks each pod's own Patroni (`GET /patroni` at its pod IP) how it is, in parallel. An answer whose
 * `patroni.scope` is not `scope` (Spilo's `SCOPE`, the cluster name) comes from another cluster's Patroni at that
 * IP and is marked so ({@link OwnStatus} `foreignScope`).
 *
 * Started is not enough to count a replica as back: under load one was seen running, then down again. Patroni
 * 3.0.4+ says whether a replica streams (`replication_state`), which becomes `streaming`; 3.0.2 does not (its
 * `received_location` falls back to the replayed one), and then `running` on the leader's timeline is all there is.
 * @returns pod name -> its state, or undefined when it has no IP or did not answer in time; never throws
 */
export async function readOwnStatuses(
  ctx: SyncContext,
  pods: readonly V1Pod[],
  scope: string,
  timing: PatroniTiming = DEFAULT_PATRONI_TIMING,
): Promise<Map<string, OwnStatus | undefined>> {
  const answers = await Promise.all(
    pods.map(async (pod) => {
      const ip = pod.status?.podIP;
      if (!ip || pod.metadata?.deletionTimestamp) return undefined;
      return new PatroniClient(patroniUrl(ip), { timeoutMs: timing.getMs })
        .getStatus({ signal: ctx.signal })
        .catch(() => undefined);
    }),
  );
  return new Map(pods.map((pod, i) => [nameOf(pod), answers[i] && ownStatus(answers[i], scope)]));
}

function ownStatus(answer: PatroniStatus, scope: string): OwnStatus {
  return {
    state: answer.state,
    role: answer.role,
    timeline: answer.timeline,
    ...(typeof answer.replication_state === 'string' ? { streaming: answer.replication_state === 'streaming' } : {}),
    ...(answer.patroni.scope !== scope ? { foreignScope: answer.patroni.scope } : {}),
  };
}
