/**
 * Whether a cluster may take disruptive rolling-update steps now, by its maintenance windows: the manifest's
 * `maintenanceWindows`, else the operator config's `maintenance_windows`; none at all, or
 * `enable_maintenance_windows: false`, means any time. Pure: the time comes in.
 *
 * Source: Zalando postgres-operator docs, reference/cluster_manifest.md (`maintenanceWindows`: UTC, "HH:MM-HH:MM"
 * or "Ddd:HH:MM-HH:MM") and reference/operator_parameters.md (`enable_maintenance_windows`, `maintenance_windows`);
 * that fleet operations honour the windows is this project's choice: their disruptive steps interrupt clients.
 */
import type { OperatorConfig } from '../model/config';
import { parseMaintenanceWindow, WEEKDAYS, type MaintenanceWindow } from '../model/maintenance-window';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** @returns whether `now` falls in the window (its end minute included) */
function inWindow(window: MaintenanceWindow, now: Date): boolean {
  if (window.weekday !== undefined && window.weekday !== now.getUTCDay()) return false;
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
  return minute >= window.startMinute && minute <= window.endMinute;
}

/** @returns the first start of the window after `now` (within the next 8 days) */
function nextStart(window: MaintenanceWindow, now: Date): Date {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let day = 0; day <= 7; day++) {
    const start = midnight + day * DAY + window.startMinute * MINUTE;
    const weekday = new Date(start).getUTCDay();
    if (start > now.getTime() && (window.weekday === undefined || window.weekday === weekday)) return new Date(start);
  }
  return new Date(midnight + 8 * DAY); // not reached: a weekly window starts again within 7 days
}

/**
 * @param manifestWindows the manifest's `maintenanceWindows` (validated with the manifest)
 * @param config `enable_maintenance_windows` and `maintenance_windows` (validated with the config)
 * @returns the windows that apply to the cluster: none when they are turned off, else the manifest's, else the
 *   config's (a window that does not parse is left out; validation already reported it)
 */
export function clusterMaintenanceWindows(
  manifestWindows: readonly string[] | undefined,
  config: Pick<OperatorConfig, 'enable_maintenance_windows' | 'maintenance_windows'>,
): MaintenanceWindow[] {
  if (!config.enable_maintenance_windows) return [];
  const texts = manifestWindows && manifestWindows.length > 0 ? manifestWindows : config.maintenance_windows;
  return texts.flatMap((text) => {
    const parsed = parseMaintenanceWindow(text);
    return parsed.ok ? [parsed.window] : [];
  });
}

/** Whether now is inside a window, and if not, when the next one starts. */
export type WindowCheck = { open: true } | { open: false; windows: string; nextStart: Date };

/**
 * @param windows the cluster's windows (already parsed); empty means any time
 * @param now the current time
 * @returns open when there are no windows or now is inside one; else the windows as text and the next start
 */
export function checkMaintenanceWindows(windows: readonly MaintenanceWindow[], now: Date): WindowCheck {
  if (windows.length === 0 || windows.some((w) => inWindow(w, now))) return { open: true };
  const next = windows.map((w) => nextStart(w, now)).sort((a, b) => a.getTime() - b.getTime())[0]!;
  return { open: false, windows: windows.map((w) => w.text).join(', '), nextStart: next };
}

/** @returns e.g. `Sat 2030-01-05 22:00 UTC` */
export function describeWindowStart(start: Date): string {
  return `${WEEKDAYS[start.getUTCDay()]} ${start.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
