/**
 * The logical backup settings of a cluster: whether it has one, the schedule it runs on, and whether a schedule is
 * one Kubernetes accepts for a CronJob.
 *
 * The CRD's pattern (`^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$`, Zalando v1.15.1's) lets through schedules the API
 * server refuses in a CronJob (`99 * * * *`); those are checked with croner, taking the syntax the pattern allows
 * as Kubernetes' cron parser (robfig/cron, standard five fields) reads it: `N/S` is `N-<max>/S`, and weekdays run
 * 0-6.
 *
 * Source: Zalando postgres-operator v1.15.1 docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md (enableLogicalBackup,
 * logicalBackupSchedule, logicalBackupRetention) and reference/operator_parameters.md (logical_backup_schedule);
 * Kubernetes "CronJob" (schedule syntax), https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/;
 * croner 11 (`new Cron(pattern, { mode: '5-part' })` throws on an invalid pattern).
 *
 * It takes the config key as a plain field (not `OperatorConfig`): the config's value checks import this module.
 */
import { Cron } from 'croner';
import type { PostgresqlSpec } from './postgresql';

/** The five fields of a schedule, with the largest value of each (robfig/cron's bounds). */
const FIELDS = [
  { name: 'minute', max: 59 },
  { name: 'hour', max: 23 },
  { name: 'day of month', max: 31 },
  { name: 'month', max: 12 },
  { name: 'day of week', max: 6 },
] as const;

/** @returns whether the manifest turns the logical backup on */
export const logicalBackupEnabled = (spec: PostgresSpecLike): boolean => spec.enableLogicalBackup === true;

type PostgresSpecLike = Pick<PostgresqlSpec, 'enableLogicalBackup' | 'logicalBackupSchedule'>;

/** @returns the schedule of the CronJob: the manifest's `logicalBackupSchedule`, else `logical_backup_schedule` */
export function logicalBackupSchedule(spec: PostgresSpecLike, config: { logical_backup_schedule: string }): string {
  return spec.logicalBackupSchedule || config.logical_backup_schedule;
}

/**
 * @param schedule five cron fields, e.g. `30 00 * * *`
 * @returns what is wrong with it for a Kubernetes CronJob (completes "the schedule ..."), or undefined when valid
 */
export function cronScheduleProblem(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return `has ${fields.length} fields, a cron schedule has 5 (minute hour day month weekday)`;
  const rewritten: string[] = [];
  for (const [i, field] of fields.entries()) {
    const { name, max } = FIELDS[i]!;
    const match = /^(\d+|\*)(?:\/(\d+))?$/.exec(field);
    if (!match) return `field ${JSON.stringify(field)} (${name}) is not a number or *, with an optional /step`;
    const [, start, step] = match;
    if (start !== '*' && Number(start) > max) return `${name} ${start} is out of range (at most ${max})`;
    // `N/S` means "from N to the end, every S" in Kubernetes' parser; croner wants the range spelled out.
    rewritten.push(step !== undefined && start !== '*' ? `${start}-${max}/${step}` : field);
  }
  try {
    new Cron(rewritten.join(' '), { mode: '5-part', paused: true }).stop();
    return undefined;
  } catch (error) {
    return `is not a valid cron schedule (${(error as Error).message})`;
  }
}

/** @returns the problem of the manifest's `logicalBackupSchedule`, as `{ path, message }`, or none */
export function logicalBackupProblems(spec: PostgresSpecLike): Array<{ path: string; message: string }> {
  if (!spec.logicalBackupSchedule) return [];
  const problem = cronScheduleProblem(spec.logicalBackupSchedule);
  return problem
    ? [{ path: 'spec.logicalBackupSchedule', message: `${JSON.stringify(spec.logicalBackupSchedule)} ${problem}` }]
    : [];
}
