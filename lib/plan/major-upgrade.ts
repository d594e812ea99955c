/**
 * In-place major version upgrades: whether one runs now, and what the `MajorVersionUpgrade` condition and the Events
 * say. Pure: what the sync observed (the master's `server_version` from Patroni, the members, the maintenance window,
 * the annotations) comes in; `lib/sync/upgrade/step.ts` reads it and carries the decision out.
 *
 * Zalando's rules (v1.15.1), kept:
 * - `major_version_upgrade_mode`: `off` upgrades nothing (unless the cluster's `teamId` is in
 *   `major_version_upgrade_team_allow_list`), `manual` upgrades to `spec.postgresql.version`, `full` also upgrades
 *   a cluster whose version is below `minimal_major_version` to `target_major_version` (the manifest is not changed).
 * - The upgrade runs only with a master, every member `running`, every replica `streaming` (Patroni 3.0.4 and
 *   later say so; older ones only `running`) and at most 16 MiB behind, inside a maintenance window when the
 *   manifest has any; never in a standby cluster.
 * - The outcome is the annotation `last-major-upgrade-success` or `last-major-upgrade-failure` (a UTC time) on the
 *   `postgresql` object. A failure annotation stops further attempts until the cluster runs the desired version
 *   again (e.g. `spec.postgresql.version` set back), which removes it.
 *
 * Ours on top: the mode `off` case, a downgrade and a version the upgrade cannot go to are not silent: the condition
 * and a Warning Event name `spec.postgresql.version`; the versions an upgrade may go to are 13 to 18 (Zalando
 * v1.15.1's table has 13 to 17; this operator's CRD accepts 18).
 *
 * Source: Zalando postgres-operator v1.15.1, docs/administrator.md "In-place major version upgrade", "Upgrade
 * during maintenance windows", "Upgrade annotations"; docs/reference/operator_parameters.md
 * (`major_version_upgrade_mode`, `major_version_upgrade_team_allow_list`, `minimal_major_version`,
 * `target_major_version`); https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/majorversionupgrade.go
 * (the checks and their order).
 */
import { desiredMajorVersion, parseMajor, type MajorUpgradeSettings } from '../model/major-version';
import type { Condition } from '../model/postgresql';
import type { PlannedEvent } from './event';
import { describeWindowStart, type WindowCheck } from './maintenance-window';

/** Annotation on the `postgresql` object: the UTC time of the last successful upgrade (Zalando's name). */
export const MAJOR_UPGRADE_SUCCESS_ANNOTATION = 'last-major-upgrade-success';
/** Annotation on the `postgresql` object: the UTC time of the last failed upgrade; no attempt while it is there. */
export const MAJOR_UPGRADE_FAILURE_ANNOTATION = 'last-major-upgrade-failure';
/** Type of the status condition this step owns. */
export const MAJOR_UPGRADE_CONDITION = 'MajorVersionUpgrade';
/** Reason of the Events about an upgrade that starts or finishes (Zalando's Event reason is "Major Version Upgrade"). */
export const MAJOR_UPGRADE_EVENT = 'MajorVersionUpgrade';

export { desiredMajorVersion, parseMajor, type MajorUpgradeSettings } from '../model/major-version';

/** Major versions an in-place upgrade may go to. */
export const UPGRADE_TARGET_MAJORS: readonly number[] = [13, 14, 15, 16, 17, 18];

/** Replication lag above which a replica holds the upgrade (Zalando: 16 MiB). */
export const MAX_UPGRADE_LAG_BYTES = 16 * 1024 * 1024;

/** @returns the major of a `server_version_num` (150004 -> 15); 9.6 and older give 9 */
export const majorOf = (serverVersionNum: number): number => Math.floor(serverVersionNum / 10_000);

/** @returns whether the operator runs upgrades for this cluster: mode `manual`/`full`, or its team is allowed */
export function upgradesEnabled(config: MajorUpgradeSettings, teamId: string): boolean {
  if (config.major_version_upgrade_mode !== 'off') return true;
  return config.major_version_upgrade_team_allow_list.includes(teamId);
}

/** One member as Patroni's `GET /cluster` lists it. */
export interface UpgradeMember {
  name: string;
  role: string;
  state: string;
  lag?: number | string;
}

/** What the sync observed, for {@link decideMajorUpgrade}. */
export interface MajorUpgradeInputs {
  /** `spec.postgresql.version` */
  specVersion: string;
  teamId: string;
  config: MajorUpgradeSettings;
  /** the value of {@link MAJOR_UPGRADE_FAILURE_ANNOTATION}, when the object carries it */
  failedAt?: string;
  /** the cluster's maintenance windows now */
  window: WindowCheck;
  /** how many pods the cluster has (the members the upgrade script expects) */
  pods: number;
  /** the master pod and its `GET /patroni`: `server_version` (e.g. 150004) and Patroni's version */
  master?: { pod: string; serverVersion: number; patroniVersion: string };
  /** a member runs as `standby_leader`: a standby cluster */
  standby: boolean;
  /** `GET /cluster` members; undefined when Patroni did not answer */
  members?: readonly UpgradeMember[];
}

/** What to do about the cluster's major version now. */
export type MajorUpgradeDecision =
  /** it runs the desired version (or the version is not known to differ): nothing to do */
  | { kind: 'up-to-date'; running: number; clearFailure: boolean }
  /** a version the upgrade must not or cannot go to; `clearFailure` when it runs at least the desired one */
  | { kind: 'refused'; message: string; clearFailure: boolean }
  /** the upgrade is due but not now; `retry` when a later call soon may find it possible */
  | { kind: 'hold'; reason: string; message: string; retry: boolean }
  /** run the upgrade in the master pod for `members` members */
  | { kind: 'upgrade'; pod: string; members: number; from: number; to: number };

const SPEC = 'spec.postgresql.version';

/** @returns whether Patroni reports `streaming` for replicas (3.0.4 and later; Zalando's check) */
export function reportsStreaming(patroniVersion: string): boolean {
  const [major = 0, minor = 0, patch = 0] = patroniVersion.split('.').map((p) => Number.parseInt(p, 10) || 0);
  return major !== 3 ? major > 3 : minor > 0 || patch >= 4;
}

/** @returns why the members hold the upgrade, or undefined when every one is ready for it */
function membersHold(
  inputs: MajorUpgradeInputs,
  master: NonNullable<MajorUpgradeInputs['master']>,
): string | undefined {
  const { members } = inputs;
  if (!members) return "Patroni's GET /cluster did not answer";
  if (members.length < inputs.pods) return `${members.length} of ${inputs.pods} members are in Patroni's cluster`;
  const streaming = reportsStreaming(master.patroniVersion);
  for (const member of members) {
    if (member.role === 'leader') {
      if (member.state !== 'running') return `the leader ${member.name} is ${member.state}`;
      continue;
    }
    const ok = streaming ? member.state === 'streaming' : member.state === 'running' || member.state === 'streaming';
    if (!ok) return `replica ${member.name} is ${member.state}, not ${streaming ? 'streaming' : 'running'}`;
    if (typeof member.lag !== 'number') return `replica ${member.name} reports no replication lag`;
    if (member.lag > MAX_UPGRADE_LAG_BYTES) return `replica ${member.name} lags ${member.lag} bytes (more than 16 MiB)`;
  }
  return undefined;
}

/**
 * Decides, in Zalando's order: enabled, the desired version, the running version, standby, a failed attempt, the
 * maintenance window, the members.
 */
export function decideMajorUpgrade(inputs: MajorUpgradeInputs): MajorUpgradeDecision {
  const { config, master } = inputs;
  const desiredText = desiredMajorVersion(inputs.specVersion, config);
  const desired = parseMajor(desiredText);
  if (!master)
    return { kind: 'hold', reason: 'Waiting', message: 'no master to read the running version from', retry: true };
  const running = majorOf(master.serverVersion);
  const full =
    desiredText !== inputs.specVersion
      ? ` (target_major_version, ${SPEC} ${inputs.specVersion} being below minimal_major_version ${config.minimal_major_version})`
      : '';
  if (desired === running) return { kind: 'up-to-date', running, clearFailure: inputs.failedAt !== undefined };
  if (desired === undefined || desired < running) {
    const why =
      desired === undefined
        ? `${SPEC} ${desiredText} is not a major version an in-place upgrade goes to`
        : `${SPEC} ${desiredText}${full} is lower than the running PostgreSQL ${running}: a major version is never downgraded`;
    return {
      kind: 'refused',
      message: `${why}; the cluster keeps running PostgreSQL ${running}`,
      clearFailure: inputs.failedAt !== undefined && desired !== undefined,
    };
  }
  if (!UPGRADE_TARGET_MAJORS.includes(desired)) {
    return {
      kind: 'refused',
      message: `${SPEC} ${desiredText}${full}: in-place upgrades go to PostgreSQL ${UPGRADE_TARGET_MAJORS[0]} to ${UPGRADE_TARGET_MAJORS.at(-1)}; the cluster keeps running PostgreSQL ${running}`,
      clearFailure: false,
    };
  }
  const wanted = `${SPEC} ${desiredText}${full} asks for PostgreSQL ${desired}, PostgreSQL ${running} runs`;
  if (!upgradesEnabled(config, inputs.teamId)) {
    return {
      kind: 'hold',
      reason: 'NotEnabled',
      message: `${wanted}: major_version_upgrade_mode is off (and team ${inputs.teamId || '(none)'} is not in major_version_upgrade_team_allow_list), so the data is not upgraded; run /scripts/inplace_upgrade.py ${inputs.pods} in the master pod, or turn the mode to manual`,
      retry: false,
    };
  }
  if (inputs.standby) {
    return {
      kind: 'hold',
      reason: 'StandbyCluster',
      message: `${wanted}: a standby cluster is not upgraded in place; create it again with the new version`,
      retry: false,
    };
  }
  if (inputs.failedAt !== undefined) {
    return {
      kind: 'hold',
      reason: 'Failed',
      message: `${wanted}: the upgrade attempted at ${inputs.failedAt} failed and is not retried; set ${SPEC} back to ${running} (or remove the annotation ${MAJOR_UPGRADE_FAILURE_ANNOTATION}) to clear it`,
      retry: false,
    };
  }
  if (!inputs.window.open) {
    return {
      kind: 'hold',
      reason: 'WaitingForMaintenanceWindow',
      message: `${wanted}: the upgrade waits for the next maintenance window (${inputs.window.windows}), ${describeWindowStart(inputs.window.nextStart)}`,
      retry: false,
    };
  }
  const hold = membersHold(inputs, master);
  if (hold) return { kind: 'hold', reason: 'Waiting', message: `${wanted}: the upgrade waits: ${hold}`, retry: true };
  return { kind: 'upgrade', pod: master.pod, members: inputs.pods, from: running, to: desired };
}

/** @returns the message of the condition of a cluster that runs its desired major version */
export const upToDateMessage = (major: number): string => `PostgreSQL ${major} runs, the desired major version`;

/**
 * Whether the running version must be read again, or the stored condition already says the cluster runs the
 * desired version for this generation (then no Patroni request is made).
 * @param previous the stored `MajorVersionUpgrade` condition
 * @param generation the object's `metadata.generation`
 * @param desiredVersion {@link desiredMajorVersion} now
 * @param failedAt the failure annotation, when there is one (it is to be cleared: read again)
 */
export function runningVersionKnown(
  previous: Condition | undefined,
  generation: number,
  desiredVersion: string,
  failedAt: string | undefined,
): boolean {
  const desired = parseMajor(desiredVersion);
  return (
    failedAt === undefined &&
    desired !== undefined &&
    previous?.status === 'False' &&
    previous.reason === 'UpToDate' &&
    previous.observedGeneration === generation &&
    previous.message === upToDateMessage(desired)
  );
}

/** Reasons of a `MajorVersionUpgrade` condition that a later sync may resolve without a change of the object. */
export const UPGRADE_WAITS: ReadonlySet<string> = new Set([
  'Waiting',
  'WaitingForMaintenanceWindow',
  'WaitingForSlot',
  'NotEnabled',
]);

/** What the step reports: the condition to store and the Event to record when it changed. */
export interface MajorUpgradeReport {
  condition: Condition;
  events: PlannedEvent[];
}

/**
 * The condition for a decision (or for the upgrade's outcome), and an Event when its reason or message changed
 * (so a state that lasts is reported once).
 * @param active True while an upgrade is due and not done
 */
export function majorUpgradeReport(
  previous: Condition | undefined,
  generation: number,
  now: Date,
  state: { active: boolean; reason: string; message: string; event?: PlannedEvent },
): MajorUpgradeReport {
  const status = state.active ? 'True' : 'False';
  const same = previous?.status === status && previous.reason === state.reason && previous.message === state.message;
  const condition: Condition = {
    type: MAJOR_UPGRADE_CONDITION,
    status,
    observedGeneration: generation,
    lastTransitionTime:
      previous?.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : now.toISOString(),
    reason: state.reason,
    message: state.message,
  };
  return { condition, events: !same && state.event ? [state.event] : [] };
}

/** @returns the Event of a decision that holds or refuses the upgrade (Warning for what needs a person) */
export function holdEvent(reason: string, message: string): PlannedEvent | undefined {
  switch (reason) {
    case 'NotEnabled':
      return { type: 'Warning', reason: 'MajorVersionUpgradeNotEnabled', message };
    case 'Refused':
      return { type: 'Warning', reason: 'MajorVersionUpgradeRefused', message };
    case 'StandbyCluster':
    case 'Failed':
      return { type: 'Warning', reason: 'MajorVersionUpgradeHeld', message };
    case 'WaitingForMaintenanceWindow':
      return { type: 'Normal', reason: 'MajorVersionUpgradeDeferred', message };
    default:
      return undefined;
  }
}

/**
 * Zalando's upgrade command, run with `bash -c` in the master pod (as `postgres` through `su` when the container
 * runs as root): Spilo's script with the number of members, its output kept in `last_upgrade.log`.
 */
export function upgradeCommand(members: number): string {
  return `set -o pipefail && /usr/bin/python3 /scripts/inplace_upgrade.py ${members} 2>&1 | tee last_upgrade.log`;
}
