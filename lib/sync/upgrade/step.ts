/**
 * The in-place major version upgrade step of `syncCluster` (the decisions are `lib/plan/major-upgrade.ts`; this
 * module does their I/O). It runs after the rolling update has nothing left to do, so pods restarted for a new
 * `PGVERSION` are back first, as in Zalando's operator, where the upgrade is the last step of a sync.
 *
 * It reads the master's `GET /patroni` (`server_version`) and `GET /cluster`, unless the stored
 * `MajorVersionUpgrade` condition already says the cluster runs the desired version for this generation (then it
 * makes no request). When an upgrade is due and possible it takes the cluster's Lease and a rollout slot
 * (`lib/sync/rollout/slots.ts`), labels the pods `critical-operation: "true"` (the critical-operation
 * PodDisruptionBudget then holds evictions), runs Spilo's `/scripts/inplace_upgrade.py <members>` in the master pod
 * through `pods/exec` (as `postgres`: through `su` when the container runs as root, found with `id -u`, as Zalando
 * does), then sets the annotation `last-major-upgrade-success` or `last-major-upgrade-failure` (UTC time) on the
 * `postgresql` object, removes the label and frees the slot. A failure annotation stops further attempts until the
 * cluster runs the desired version again, which removes it.
 *
 * Source: Zalando postgres-operator v1.15.1 `majorVersionUpgrade`, `criticalOperationLabel`, `annotatePostgresResource`
 * (https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/majorversionupgrade.go) and its
 * docs/administrator.md "In-place major version upgrade"; Patroni REST API (`GET /patroni` `server_version`,
 * `GET /cluster`); Kubernetes API reference, core/v1 Pod exec.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { execInPod, type ExecResult } from '../../k8s/exec';
import type { HeldLease } from '../../k8s/lease';
import { nameOf } from '../../k8s/meta';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { POSTGRESQL, type Condition, type Postgresql } from '../../model/postgresql';
import { PatroniClient, patroniUrl } from '../../patroni';
import { storedStatus } from '../../plan/cluster-status';
import type { PlannedEvent } from '../../plan/event';
import { checkMaintenanceWindows, clusterMaintenanceWindows } from '../../plan/maintenance-window';
import {
  decideMajorUpgrade,
  desiredMajorVersion,
  holdEvent,
  MAJOR_UPGRADE_CONDITION,
  MAJOR_UPGRADE_EVENT,
  MAJOR_UPGRADE_FAILURE_ANNOTATION,
  MAJOR_UPGRADE_SUCCESS_ANNOTATION,
  majorOf,
  majorUpgradeReport,
  parseMajor,
  runningVersionKnown,
  upgradeCommand,
  upToDateMessage,
  type MajorUpgradeDecision,
  type MajorUpgradeReport,
} from '../../plan/major-upgrade';
import { readPatroniView } from '../pods/patroni';
import { releaseRolloutSlot, takeRolloutSlot } from '../rollout/slots';
import type { SyncContext } from '../context';

/** The container Spilo runs in (Zalando's StatefulSet names it so). */
const SPILO_CONTAINER = 'postgres';
/** Label Spilo's critical operations put on the pods, selected by the critical-operation PodDisruptionBudget. */
const CRITICAL_OPERATION_LABEL = 'critical-operation';
/** How long the upgrade script may run when the invocation has no deadline (ms). */
const DEFAULT_UPGRADE_TIMEOUT_MS = 120_000;
/** Time (ms) an invocation must have left to start the upgrade script (Zalando: "usually well under one minute"). */
const MIN_UPGRADE_TIME_MS = 60_000;
/** Seconds after which a held upgrade looks again (members catching up after the rolling update). */
const LOOK_AGAIN_SECONDS = 5;

/** The `postgresql` object as read: its metadata (generation, annotations) and its stored status. */
export interface UpgradeSubject {
  metadata: V1ObjectMeta & { name: string; namespace: string };
  status?: unknown;
}

/** What the step did: its condition (kept as stored when it did not look), Events, and what is left. */
export interface UpgradeOutcome {
  condition?: Condition;
  events: PlannedEvent[];
  /** why a later call must come back soon */
  pending?: string;
  lookAgainSeconds?: number;
  /** the next step needs the cluster's Lease, and the caller does not hold it */
  needsLease?: boolean;
}

/** @returns the stored `MajorVersionUpgrade` condition */
export function storedUpgradeCondition(raw: UpgradeSubject): Condition | undefined {
  return storedStatus(raw)?.conditions?.find((c) => c.type === MAJOR_UPGRADE_CONDITION);
}

/**
 * The master's `GET /patroni`, and `GET /cluster` when its major is not the desired one, as the plan takes them.
 * @returns undefined when no pod is labelled master or its Patroni does not answer (the step does not look then)
 */
async function readVersions(ctx: SyncContext, pods: readonly V1Pod[], desired: string) {
  const roleLabel = ctx.config.pod_role_label;
  const masterPod = pods.find((p) => p.metadata?.labels?.[roleLabel] === 'master' && p.status?.podIP);
  if (!masterPod) return undefined;
  const status = await new PatroniClient(patroniUrl(masterPod.status!.podIP!), { timeoutMs: 3_000 })
    .getStatus({ signal: ctx.signal })
    .catch(() => undefined);
  if (status?.server_version === undefined) return undefined;
  const master = {
    pod: nameOf(masterPod),
    serverVersion: status.server_version,
    patroniVersion: status.patroni.version,
  };
  if (parseMajor(desired) === majorOf(status.server_version)) return { master, members: undefined, standby: false };
  const view = await readPatroniView(ctx, pods);
  const members = 'cluster' in view ? view.cluster.members : undefined;
  const standby = status.role === 'standby_leader' || (members ?? []).some((m) => m.role === 'standby_leader');
  return { master, members, standby };
}

/**
 * One call's share of the major version upgrade.
 * @param raw the `postgresql` object as read (annotations, stored condition, generation)
 * @param pods the cluster's pods, all Ready and none flagged for the rolling update (the caller checks)
 * @param lease the cluster's Lease when held; the upgrade and the annotation writes need it
 * @returns the condition, Events and pending work; throws KubeApiError when a write fails
 */
export async function majorUpgradeStep(
  ctx: SyncContext,
  raw: UpgradeSubject,
  cluster: Postgresql & { metadata: { namespace: string } },
  pods: readonly V1Pod[],
  lease: HeldLease | undefined,
): Promise<UpgradeOutcome> {
  const previous = storedUpgradeCondition(raw);
  const generation = raw.metadata.generation ?? 0;
  const failedAt = raw.metadata.annotations?.[MAJOR_UPGRADE_FAILURE_ANNOTATION];
  const desired = desiredMajorVersion(cluster.spec.postgresql.version, ctx.config);
  if (runningVersionKnown(previous, generation, desired, failedAt)) return { condition: previous, events: [] };

  const observed = await readVersions(ctx, pods, desired);
  if (!observed) return { condition: previous, events: [] };
  const decision = decideMajorUpgrade({
    specVersion: cluster.spec.postgresql.version,
    teamId: cluster.spec.teamId ?? '',
    config: ctx.config,
    failedAt,
    // The manifest's windows only (Zalando's rule for upgrades), unless windows are turned off.
    window: checkMaintenanceWindows(
      clusterMaintenanceWindows(cluster.spec.maintenanceWindows, { ...ctx.config, maintenance_windows: [] }),
      ctx.now(),
    ),
    pods: pods.length,
    ...observed,
  });
  const report = (state: Parameters<typeof majorUpgradeReport>[3]): MajorUpgradeReport =>
    majorUpgradeReport(previous, generation, ctx.now(), state);

  if (decision.kind === 'up-to-date' || decision.kind === 'refused') {
    if (decision.clearFailure) {
      if (!lease) return { events: [], needsLease: true };
      await removeFailureAnnotation(ctx, raw);
    }
    if (decision.kind === 'up-to-date')
      return report({ active: false, reason: 'UpToDate', message: upToDateMessage(decision.running) });
    return report({
      active: true,
      reason: 'Refused',
      message: decision.message,
      event: holdEvent('Refused', decision.message),
    });
  }
  if (decision.kind === 'hold') return held(report, decision);
  if (!lease) return { events: [], needsLease: true };
  const left = ctx.deadline === undefined ? Infinity : ctx.deadline - ctx.now().getTime();
  if (left < MIN_UPGRADE_TIME_MS) {
    // An exec cut short by the deadline would record a failure while the script goes on in the pod.
    const message = `the upgrade waits for a call with at least ${MIN_UPGRADE_TIME_MS / 1000} s left`;
    return held(report, { kind: 'hold', reason: 'Waiting', message, retry: true });
  }
  const key = { namespace: cluster.metadata.namespace, name: cluster.metadata.name };
  const slot = await takeRolloutSlot(ctx, key);
  if (!slot.granted) {
    return held(report, {
      kind: 'hold',
      reason: 'WaitingForSlot',
      message: `the upgrade waits for a rollout slot: ${slot.reason}`,
      retry: true,
    });
  }
  await lease.renewIfDue();
  try {
    return await runUpgrade(ctx, raw, pods, decision, report);
  } finally {
    await releaseRolloutSlot(ctx, key);
  }
}

function held(
  report: (state: Parameters<typeof majorUpgradeReport>[3]) => MajorUpgradeReport,
  decision: Extract<MajorUpgradeDecision, { kind: 'hold' }>,
): UpgradeOutcome {
  const outcome = report({
    active: true,
    reason: decision.reason,
    message: decision.message,
    event: holdEvent(decision.reason, decision.message),
  });
  return decision.retry ? { ...outcome, pending: decision.message, lookAgainSeconds: LOOK_AGAIN_SECONDS } : outcome;
}

/** Labels the pods, runs the script, annotates the object, unlabels the pods. */
async function runUpgrade(
  ctx: SyncContext,
  raw: UpgradeSubject,
  pods: readonly V1Pod[],
  decision: Extract<MajorUpgradeDecision, { kind: 'upgrade' }>,
  report: (state: Parameters<typeof majorUpgradeReport>[3]) => MajorUpgradeReport,
): Promise<UpgradeOutcome> {
  const namespace = raw.metadata.namespace!;
  const { pod, members, from, to } = decision;
  const started: PlannedEvent = {
    type: 'Normal',
    reason: MAJOR_UPGRADE_EVENT,
    message: `Starting the major version upgrade from PostgreSQL ${from} to ${to} on pod ${pod} of ${members} pods`,
  };
  await ctx.events.record(raw, started.type, started.reason, started.message);
  ctx.log.info(started.message, { reason: started.reason });
  await labelCritical(ctx, namespace, pods, 'true');
  let result: ExecResult | Error;
  try {
    result = await runScript(ctx, namespace, pod, members);
  } catch (error) {
    result = error instanceof Error ? error : new Error(String(error));
  } finally {
    await labelCritical(ctx, namespace, pods, null);
  }
  const succeeded = !(result instanceof Error) && result.exitCode === 0;
  await annotate(ctx, raw, succeeded);
  if (succeeded) {
    const message = `Upgraded from PostgreSQL ${from} to ${to} on pod ${pod}`;
    return report({
      active: false,
      reason: 'Succeeded',
      message,
      event: { type: 'Normal', reason: MAJOR_UPGRADE_EVENT, message },
    });
  }
  const why = result instanceof Error ? result.message : lastLine(result);
  const message = `The upgrade from PostgreSQL ${from} to ${to} on pod ${pod} failed: ${why}; it is not retried while the annotation ${MAJOR_UPGRADE_FAILURE_ANNOTATION} is there`;
  return report({
    active: true,
    reason: 'Failed',
    message,
    event: { type: 'Warning', reason: 'MajorVersionUpgradeFailed', message },
  });
}

/**
 * @returns the last non-empty output line of a failed script (Zalando reports the log's last line), else the exec's
 *   own message (the command could not run), with the exit code
 */
function lastLine(result: ExecResult): string {
  const lines = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return `${lines.at(-1) ?? result.message ?? 'no output'} (exit code ${result.exitCode})`;
}

/** Runs Spilo's script as `postgres` in the master pod's container. */
async function runScript(ctx: SyncContext, namespace: string, pod: string, members: number): Promise<ExecResult> {
  const target = { namespace, pod, container: SPILO_CONTAINER };
  const timeoutMs = ctx.deadline ? Math.max(1_000, ctx.deadline - ctx.now().getTime()) : DEFAULT_UPGRADE_TIMEOUT_MS;
  const kc = ctx.client.kubeConfig;
  const id = await execInPod(kc, target, ['/bin/bash', '-c', '/usr/bin/id -u'], 10_000);
  const command = upgradeCommand(members);
  const argv = id.stdout.trim() === '0' ? ['/bin/su', 'postgres', '-c', command] : ['/bin/bash', '-c', command];
  return execInPod(kc, target, argv, timeoutMs);
}

/** Sets (`'true'`) or removes (`null`) the critical-operation label on every pod; a pod gone meanwhile is skipped. */
async function labelCritical(ctx: SyncContext, namespace: string, pods: readonly V1Pod[], value: 'true' | null) {
  for (const pod of pods) {
    await ctx.client
      .mergePatch(
        { kind: 'Pod', namespace, name: nameOf(pod) },
        { metadata: { labels: { [CRITICAL_OPERATION_LABEL]: value } } },
        undefined,
        ctx.signal,
      )
      .catch((error: unknown) => ctx.log.warn('Could not label the pod', { pod: nameOf(pod), reason: String(error) }));
  }
}

/** Records the attempt on the `postgresql` object: Zalando's annotation with the time (`2006-01-02T15:04:05Z`). */
async function annotate(ctx: SyncContext, raw: UpgradeSubject, succeeded: boolean): Promise<void> {
  const key = succeeded ? MAJOR_UPGRADE_SUCCESS_ANNOTATION : MAJOR_UPGRADE_FAILURE_ANNOTATION;
  const time = ctx
    .now()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');
  await ctx.client.mergePatch(
    { kind: POSTGRESQL.kind, namespace: raw.metadata.namespace, name: raw.metadata.name },
    { metadata: { annotations: { [key]: time } } },
    undefined,
    ctx.signal,
  );
}

async function removeFailureAnnotation(ctx: SyncContext, raw: UpgradeSubject): Promise<void> {
  await ctx.client.mergePatch(
    { kind: POSTGRESQL.kind, namespace: raw.metadata.namespace, name: raw.metadata.name },
    { metadata: { annotations: { [MAJOR_UPGRADE_FAILURE_ANNOTATION]: null } } },
    undefined,
    ctx.signal,
  );
  ctx.log.info('Removed the failure annotation: the cluster runs the desired major version', {
    annotation: MAJOR_UPGRADE_FAILURE_ANNOTATION,
  });
}
