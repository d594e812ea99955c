/**
 * The local cron: calls periodic-sync on its schedule (UTC), the way a Kubeless CronJobTrigger would, through
 * the delivery queue (so a tick retries like any delivery, and a tick that finds the previous one still running
 * is merged into one waiting call instead of piling up).
 *
 * croner reads the schedule and gives each next tick; one timer sleeps until it (a schedule of croner's own wakes
 * the process every 30 s to check its clock). A timer that ends before its tick by the wall clock (the clock was
 * set back, or the tick is further than a timer can wait) sleeps again for what is left.
 *
 * Source: croner 11 (`new Cron(pattern, options)` without a function: the pattern alone; `nextRun()`); Kubeless
 * CronJobTrigger (https://github.com/vmware-archive/cronjob-trigger).
 */
import { Cron } from 'croner';
import { MAX_TIMER_MS } from '../runtime/idle';

/** A running schedule. */
export interface PeriodicTrigger {
  /** the next tick, or null when none */
  nextRun(): Date | null;
  stop(): void;
}

/**
 * @param schedule a 5-field cron expression (minute hour day month weekday), or 6 fields with seconds first
 * @param onTick called on every tick; its errors are the caller's to handle (it should not throw)
 * @returns the running schedule (its timer does not keep the process alive); throws for an invalid expression,
 *   naming it
 */
export function startPeriodicTrigger(schedule: string, onTick: () => void): PeriodicTrigger {
  let pattern: Cron;
  try {
    pattern = new Cron(schedule, { timezone: 'Etc/UTC', mode: '5-or-6-parts' });
  } catch (error) {
    throw new Error(`invalid periodic-sync schedule ${JSON.stringify(schedule)}: ${(error as Error).message}`);
  }
  let timer: NodeJS.Timeout | undefined;
  let next: Date | null = null;
  const arm = () => {
    next = pattern.nextRun();
    if (next) sleepUntil(next);
  };
  const sleepUntil = (tick: Date) => {
    timer = setTimeout(
      () => {
        if (Date.now() < tick.getTime()) return sleepUntil(tick);
        onTick();
        arm();
      },
      Math.min(Math.max(0, tick.getTime() - Date.now()), MAX_TIMER_MS),
    ).unref();
  };
  arm();
  return {
    nextRun: () => next,
    stop: () => {
      clearTimeout(timer);
      next = null;
    },
  };
}
