/**
 * The local cron: calls periodic-sync on its schedule (UTC), the way a Kubeless CronJobTrigger would, through
 * the delivery queue (so a tick retries like any delivery, and a tick that finds the previous one still running
 * is merged into one waiting call instead of piling up).
 *
 * Source: croner 11 (`new Cron(pattern, options, fn)`, `nextRun()`, `stop()`); Kubeless CronJobTrigger
 * (https://github.com/vmware-archive/cronjob-trigger).
 */
import { Cron } from 'croner';

/** A running schedule. */
export interface PeriodicTrigger {
  /** the next tick, or null when none */
  nextRun(): Date | null;
  stop(): void;
}

/**
 * @param schedule a 5-field cron expression (minute hour day month weekday), or 6 fields with seconds first
 * @param onTick called on every tick; its errors are the caller's to handle (it should not throw)
 * @returns the running schedule; throws for an invalid expression, naming it
 */
export function startPeriodicTrigger(schedule: string, onTick: () => void): PeriodicTrigger {
  try {
    const job = new Cron(schedule, { timezone: 'Etc/UTC', mode: '5-or-6-parts', unref: true }, () => onTick());
    return { nextRun: () => job.nextRun(), stop: () => job.stop() };
  } catch (error) {
    throw new Error(`invalid periodic-sync schedule ${JSON.stringify(schedule)}: ${(error as Error).message}`);
  }
}
