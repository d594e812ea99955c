/**
 * Fields of Zalando's manifest that the operator accepts and keeps but does not act on yet. A field counts only
 * when it asks for something (a volume type named, a stream listed), so an empty list or section stays
 * silent.
 */
import type { PostgresqlSpec } from './postgresql';

const isSet = (value: unknown): boolean => {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.values(value as object).some(isSet);
  return true;
};

const checks: Record<string, (spec: PostgresqlSpec) => boolean> = {
  streams: (s) => isSet(s.streams),
  'volume.iops': (s) => isSet(s.volume.iops),
  'volume.throughput': (s) => isSet(s.volume.throughput),
  'volume.type': (s) => isSet(s.volume.type),
  'volume.selector': (s) => isSet(s.volume.selector),
};

/** @returns the field paths (relative to `spec`, sorted) that are set but not implemented yet */
export function unsupportedFields(spec: PostgresqlSpec): string[] {
  return Object.entries(checks)
    .filter(([, check]) => check(spec))
    .map(([field]) => field)
    .sort();
}
