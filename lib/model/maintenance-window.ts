/**
 * Maintenance windows: `HH:MM-HH:MM` (every day) or `Ddd:HH:MM-HH:MM` (that weekday only), in UTC, as the manifest's
 * `maintenanceWindows` and the operator config's `maintenance_windows` give them. Both ends fall on the same day: a
 * window names one weekday at most (written on the start, or on both ends alike), ends no earlier than it starts,
 * and includes its end minute (`01:00-01:30` still holds at 01:30:59).
 *
 * Source: Zalando postgres-operator docs, reference/cluster_manifest.md (`maintenanceWindows`) and
 * reference/operator_parameters.md (`enable_maintenance_windows`, `maintenance_windows`).
 */

/** Day names as written in a window, index = `Date.getUTCDay()` (0 = Sunday). */
export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** One parsed window. */
export interface MaintenanceWindow {
  /** the window as written (trimmed), for messages */
  text: string;
  /** 0 (Sunday) to 6; undefined: every day */
  weekday?: number;
  /** first minute of the day inside the window, 0 to 1439 */
  startMinute: number;
  /** last minute of the day inside the window, startMinute to 1439 */
  endMinute: number;
}

const END = /^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun):)?([01]?\d|2[0-3]):([0-5]?\d)$/;

/**
 * @param text a window, e.g. `Sat:22:00-23:59` or `01:00-06:00`
 * @returns the window, or why it is not one
 */
export function parseMaintenanceWindow(
  text: string,
): { ok: true; window: MaintenanceWindow } | { ok: false; error: string } {
  const trimmed = text.trim();
  const ends = trimmed.split('-');
  const from = ends.length === 2 ? END.exec(ends[0]!) : null;
  const to = ends.length === 2 ? END.exec(ends[1]!) : null;
  if (!from || !to)
    return { ok: false, error: `${JSON.stringify(text)} is not a window: write HH:MM-HH:MM or Ddd:HH:MM-HH:MM (UTC)` };
  if (to[1] && to[1] !== from[1]) {
    return {
      ok: false,
      error: `${JSON.stringify(text)}: a window ends on the day it starts (${from[1] ?? 'every day'}, not ${to[1]})`,
    };
  }
  const startMinute = Number(from[2]) * 60 + Number(from[3]);
  const endMinute = Number(to[2]) * 60 + Number(to[3]);
  if (endMinute < startMinute) return { ok: false, error: `${JSON.stringify(text)}: the window ends before it starts` };
  const weekday = from[1] ? WEEKDAYS.indexOf(from[1] as (typeof WEEKDAYS)[number]) : undefined;
  return { ok: true, window: { text: trimmed, ...(weekday === undefined ? {} : { weekday }), startMinute, endMinute } };
}

/**
 * @param texts windows as written
 * @returns the windows, or the error of each one that is not a window (with its index)
 */
export function parseMaintenanceWindows(
  texts: readonly string[],
): { ok: true; windows: MaintenanceWindow[] } | { ok: false; errors: Array<{ index: number; error: string }> } {
  const windows: MaintenanceWindow[] = [];
  const errors: Array<{ index: number; error: string }> = [];
  texts.forEach((text, index) => {
    const parsed = parseMaintenanceWindow(text);
    if (parsed.ok) windows.push(parsed.window);
    else errors.push({ index, error: parsed.error });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, windows };
}
