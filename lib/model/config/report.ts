/**
 * What the operator ConfigMap holds beyond what this operator acts on: keys accepted but not acted on, unknown
 * keys (with the known key probably meant), deprecated keys. Reported once per ConfigMap content as a Warning
 * Event on the ConfigMap (`lib/sync/config/change.ts`), and logged.
 *
 * Source: the key table (`keys.ts`); Zalando operator docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md.
 *
 * @module
 */

import { OPERATOR_CONFIG_KEYS, OPERATOR_CONFIG_KEY_NAMES, configKeySpec, type OperatorConfigKey } from './keys';
import { nearestConfigKey } from './operator-config';

/**
 * The keys of one ConfigMap's `data` worth a warning, each list in table order (unknown keys sorted):
 * - `notActedOn`: known keys that no code acts on, with the reason (`BaseSpec.notActedOn`);
 * - `unknown`: keys the table does not know, with the nearest known key when one is near;
 * - `deprecated`: known deprecated keys, with what to use instead.
 * A deprecated key that is also not acted on is in both lists.
 */
export interface ConfigKeyReport {
  notActedOn: Array<{ key: OperatorConfigKey; reason: string }>;
  unknown: Array<{ key: string; nearest?: OperatorConfigKey }>;
  deprecated: Array<{ key: OperatorConfigKey; instead: string }>;
}

/** @returns every key of the table that is accepted but not acted on, with the reason, in table order */
export function keysNotActedOn(): Array<{ key: OperatorConfigKey; reason: string }> {
  return OPERATOR_CONFIG_KEY_NAMES.flatMap((key) => {
    const reason = configKeySpec(key)?.notActedOn;
    return reason === undefined ? [] : [{ key, reason }];
  });
}

/**
 * @param data - the ConfigMap's `data` (undefined: none); only its key names matter, whatever the values
 * @returns the report; all lists empty when every key is known and acted on
 */
export function configKeyReport(data: Readonly<Record<string, string>> | undefined): ConfigKeyReport {
  const given = data ?? {};
  const present = OPERATOR_CONFIG_KEY_NAMES.filter((key) => Object.hasOwn(given, key));
  return {
    notActedOn: present.flatMap((key) => {
      const reason = configKeySpec(key)?.notActedOn;
      return reason === undefined ? [] : [{ key, reason }];
    }),
    unknown: Object.keys(given)
      .filter((key) => !Object.hasOwn(OPERATOR_CONFIG_KEYS, key))
      .sort()
      .map((key) => {
        const nearest = nearestConfigKey(key);
        return nearest === undefined ? { key } : { key, nearest };
      }),
    deprecated: present.flatMap((key) => {
      const instead = configKeySpec(key)?.deprecated;
      return instead === undefined ? [] : [{ key, instead }];
    }),
  };
}

/** The shortest `_`-separated prefix (one to three words) under which every key of the table is not acted on. */
function idleFamily(key: string): string | undefined {
  const words = key.split('_');
  for (const count of [1, 2, 3]) {
    if (words.length <= count) break;
    const prefix = `${words.slice(0, count).join('_')}_`;
    const family = OPERATOR_CONFIG_KEY_NAMES.filter((k) => k.startsWith(prefix));
    if (family.every((k) => configKeySpec(k)?.notActedOn !== undefined)) return prefix;
  }
  return undefined;
}

/** The longest common prefix of `keys` that ends with `_`. */
function commonPrefix(keys: readonly string[]): string {
  let prefix = keys[0] ?? '';
  for (const key of keys) while (!key.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.slice(0, prefix.lastIndexOf('_') + 1);
}

/**
 * Names not-acted-on keys compactly: two or more keys of a family whose every key is not acted on become
 * `resource_check_* (2 keys)`; the others are named one by one.
 */
function compactKeys(keys: readonly string[]): string[] {
  const families = new Map<string, string[]>();
  for (const key of keys) {
    const family = idleFamily(key) ?? key;
    families.set(family, [...(families.get(family) ?? []), key]);
  }
  return [...families.values()].flatMap((members) =>
    members.length >= 2 ? [`${commonPrefix(members)}* (${members.length} keys)`] : members,
  );
}

/**
 * The text of the Warning Event (and log line) about a report.
 *
 * @param report - from {@link configKeyReport}
 * @param maxChars - the longest text wanted (an Event keeps 1024 characters): not-acted-on keys that do not fit
 *   are counted instead of named (`and 3 more`)
 * @returns e.g. `unknown keys, ignored: workes (did you mean workers?); deprecated: enable_load_balancer (use
 *   enable_master_load_balancer and enable_replica_load_balancer); accepted but not acted on: workers,
 *   resource_check_* (2 keys) (docs/config-reference.md)`, or `undefined` when the report is
 *   empty
 */
export function describeConfigKeyReport(report: ConfigKeyReport, maxChars = 1024): string | undefined {
  const parts: string[] = [];
  if (report.unknown.length > 0) {
    const named = report.unknown.map(({ key, nearest }) => (nearest ? `${key} (did you mean ${nearest}?)` : key));
    parts.push(`unknown keys, ignored: ${named.join(', ')}`);
  }
  if (report.deprecated.length > 0)
    parts.push(`deprecated: ${report.deprecated.map(({ key, instead }) => `${key} (${instead})`).join(', ')}`);
  if (report.notActedOn.length === 0) return parts.length > 0 ? parts.join('; ') : undefined;

  const head = parts.length > 0 ? `${parts.join('; ')}; ` : '';
  const names = compactKeys(report.notActedOn.map(({ key }) => key));
  const tail = ' (docs/config-reference.md)';
  for (let shown = names.length; shown >= 0; shown--) {
    const more = names.length - shown;
    const list = [...names.slice(0, shown), ...(more > 0 ? [`and ${more} more`] : [])].join(', ');
    const text = `${head}accepted but not acted on: ${list}${tail}`;
    if (text.length <= maxChars || shown === 0) return text;
  }
  return undefined; // not reached
}
