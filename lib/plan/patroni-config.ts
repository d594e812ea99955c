/**
 * What to change in Patroni's dynamic configuration (`GET /config`) so it holds what the manifest asks for:
 * SPILO_CONFIGURATION's `bootstrap.dcs` only seeds a new cluster, so a changed `ttl` or DCS parameter (e.g.
 * `max_connections`) reaches a running cluster only through `PATCH /config` (`lib/sync/rollout/patroni-config.ts`).
 *
 * Compared, as Zalando's operator does: the top-level keys the manifest sets, each DCS parameter it sets
 * (`postgresql.parameters`; values compared as text, since Patroni keeps what it was sent, e.g. `100` or `"100"`),
 * and each slot it names (`slots`). What the manifest does not set is left alone, slots included: a permanent slot
 * may have been added with `patronictl edit-config`, and nothing here tells it from one the manifest dropped
 * (Zalando's operator removes the slots it set itself, which it remembers in memory only). Pure.
 *
 * Source: Zalando postgres-operator v1.15.1 `syncPatroniConfig` (sync Patroni config on each sync,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/sync.go) and pkg/util/patroni/patroni.go
 * (`PATCH /config` with the differences to `GET /config`); Patroni docs, "Dynamic Configuration Settings".
 */
import type { PlannedEvent } from './event';

/** The change to send with `PATCH /config`, and one line per difference for Events and logs. */
export interface PatroniConfigChange {
  patch: Record<string, unknown>;
  /** e.g. `ttl: 30 -> 20`, `postgresql.parameters.max_connections: 100 -> 200` */
  changes: string[];
}

type Config = Record<string, unknown>;

const isObject = (value: unknown): value is Config =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON with object keys sorted, and scalars as text: what counts as equal here. */
function canonical(value: unknown): string {
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return JSON.stringify(value === undefined || value === null ? null : String(value));
}

const shown = (value: unknown) =>
  value === undefined ? '(unset)' : typeof value === 'string' ? value : JSON.stringify(value);

/**
 * @param desired the dynamic configuration the manifest asks for (`patroniDynamicConfiguration`)
 * @param current Patroni's `GET /config`
 * @returns the patch and its lines, or undefined when Patroni already holds everything asked for
 */
export function patroniConfigChange(desired: Config, current: Config): PatroniConfigChange | undefined {
  const patch: Config = {};
  const changes: string[] = [];
  for (const [key, value] of Object.entries(desired)) {
    if (key === 'postgresql' || key === 'slots') continue;
    if (canonical(value) === canonical(current[key])) continue;
    patch[key] = value;
    changes.push(`${key}: ${shown(current[key])} -> ${shown(value)}`);
  }

  const wantedParameters =
    isObject(desired.postgresql) && isObject(desired.postgresql.parameters) ? desired.postgresql.parameters : {};
  const currentParameters =
    isObject(current.postgresql) && isObject(current.postgresql.parameters) ? current.postgresql.parameters : {};
  const parameters: Config = {};
  for (const [name, value] of Object.entries(wantedParameters)) {
    if (canonical(value) === canonical(currentParameters[name])) continue;
    parameters[name] = value;
    changes.push(`postgresql.parameters.${name}: ${shown(currentParameters[name])} -> ${shown(value)}`);
  }
  if (Object.keys(parameters).length > 0) patch.postgresql = { parameters };

  const wantedSlots = isObject(desired.slots) ? desired.slots : {};
  const currentSlots = isObject(current.slots) ? current.slots : {};
  const slots: Config = {};
  for (const [name, slot] of Object.entries(wantedSlots)) {
    if (canonical(slot) === canonical(currentSlots[name])) continue;
    slots[name] = slot;
    changes.push(`slots.${name}: ${shown(currentSlots[name])} -> ${shown(slot)}`);
  }
  if (Object.keys(slots).length > 0) patch.slots = slots;

  return changes.length > 0 ? { patch, changes } : undefined;
}

/**
 * How bringing Patroni's dynamic configuration to the manifest's went, as `syncPatroniConfig`
 * (`lib/sync/pods/patroni.ts`) reports it: `needs-write` when a change is due and the caller may not write.
 */
export type PatroniConfigSyncReport =
  | { outcome: 'unchanged' }
  | { outcome: 'needs-write'; change: PatroniConfigChange }
  | { outcome: 'patched'; change: PatroniConfigChange; via: string }
  | { outcome: 'error'; error: string };

/** What the Patroni configuration step of a sync reports. */
export interface PatroniConfigStepReport {
  /** a change is due and the caller does not hold the cluster's Lease: come back holding it */
  needsLease?: boolean;
  /** `PatroniConfigUpdated` when a change was made */
  events: PlannedEvent[];
  /** why the configuration could not be read or written, to log (not an error of the sync: the next one tries again) */
  warning?: string;
}

/**
 * @param desired the dynamic configuration the manifest asks for
 * @param pods how many pods the cluster has
 * @returns whether Patroni is asked at all: not when the manifest sets none of it, nor without a pod to ask
 */
export const patroniConfigWanted = (desired: Config, pods: number): boolean =>
  Object.keys(desired).length > 0 && pods > 0;

/** @returns the step's report: the Event of a change made, the Lease it needs, or the failure to log */
export function patroniConfigReport(sync: PatroniConfigSyncReport): PatroniConfigStepReport {
  switch (sync.outcome) {
    case 'needs-write':
      return { events: [], needsLease: true };
    case 'error':
      return { events: [], warning: sync.error };
    case 'unchanged':
      return { events: [] };
    default:
      return {
        events: [
          {
            type: 'Normal',
            reason: 'PatroniConfigUpdated',
            message:
              `Updated Patroni's dynamic configuration ` +
              `(through ${sync.via}): ${sync.change.changes.join(', ')}; a parameter that needs a restart takes effect ` +
              'when the pods next restart',
          },
        ],
      };
  }
}
