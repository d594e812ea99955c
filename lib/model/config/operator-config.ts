/**
 * Parsing and validation of the operator ConfigMap into a typed {@link OperatorConfig}.
 *
 * Source: Zalando operator docs, `docs/reference/operator_parameters.md` (ConfigMap form) and the loading and
 * validation rules of Zalando v2.0.1, the same as v1.15.1's (`NewFromMap` and `validate` in
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/util/config/config.go, value parsing in
 * `util.go` beside it). Unlike Zalando, which stops at the first bad value, every problem is collected and
 * reported at once, and unknown keys are warnings.
 *
 * @module
 */

import { DNS_1123_LABEL } from '../labels';
import { parseMaintenanceWindows } from '../maintenance-window';
import { checkValue } from './checks';
import { OPERATOR_CONFIG_KEYS, OPERATOR_CONFIG_KEY_NAMES, type ConfigKeySpec, type OperatorConfigKey } from './keys';
import {
  formatDuration,
  formatMap,
  parseBool,
  parseDays,
  parseDuration,
  parseInteger,
  parseList,
  parseMap,
  type ParseResult,
} from './syntax';

type ConfigValueOf<S> = S extends { kind: 'bool' }
  ? boolean
  : S extends { kind: 'int'; default: null }
    ? number | null
    : S extends { kind: 'int' | 'duration' | 'days' }
      ? number
      : S extends { kind: 'list' }
        ? string[]
        : S extends { kind: 'map' }
          ? Record<string, string>
          : string;

/**
 * The decoded operator configuration: one property per key of `OPERATOR_CONFIG_KEYS`, named exactly by the
 * Zalando snake_case key and typed by the key's kind:
 * `bool` → `boolean`; `int` → `number` (`number | null` for `spilo_runasuser`, `spilo_runasgroup`,
 * `spilo_fsgroup`, which are unset by default); `list` → `string[]`; `map` → `Record<string, string>`;
 * `duration` → `number` of **milliseconds**; `days` → `number` of days; `string` and `enum` → `string`.
 *
 * Derived from the key table, so adding a key there adds the property here.
 */
export type OperatorConfig = {
  -readonly [K in OperatorConfigKey]: ConfigValueOf<(typeof OPERATOR_CONFIG_KEYS)[K]>;
};

/**
 * One invalid configuration value.
 *
 * - `key`: the ConfigMap key at fault (for a rule between two keys, the one to change; the message names both);
 * - `value`: the value as written in the ConfigMap (or the default, in ConfigMap syntax, when the key was absent);
 * - `expected`: what a valid value looks like, e.g. `an integer`;
 * - `message`: the full sentence, `invalid value "abc" for key "workers": expected an integer`.
 */
export type ConfigError = { key: string; value: string; expected: string; message: string };

/**
 * Result of {@link parseOperatorConfig}: either the complete config plus warnings (unknown or deprecated keys),
 * or every error found. Never both: a config with any invalid value is not used at all.
 */
export type ConfigResult =
  { ok: true; config: OperatorConfig; warnings: string[] } | { ok: false; errors: ConfigError[] };

/** The environment variables that override ConfigMap keys (Zalando's operator reads the same two). */
export type ConfigEnv = { WATCHED_NAMESPACE?: string; SCALYR_API_KEY?: string };

function cloneValue(value: unknown): unknown {
  if (Array.isArray(value)) return [...(value as unknown[])];
  if (value !== null && typeof value === 'object') return { ...(value as Record<string, unknown>) };
  return value;
}

/**
 * The configuration used when no ConfigMap exists: every key at its default (see `OPERATOR_CONFIG_KEYS` for
 * the values and the deliberate choices among them). Returns a fresh object each call; mutating it is safe.
 *
 * @returns the default {@link OperatorConfig}
 */
export function defaultOperatorConfig(): OperatorConfig {
  const config: Record<string, unknown> = {};
  for (const key of OPERATOR_CONFIG_KEY_NAMES) config[key] = cloneValue(OPERATOR_CONFIG_KEYS[key].default);
  return config as OperatorConfig;
}

/**
 * Decodes one ConfigMap value according to a key spec. An empty (or all-blank) value is empty for `string`,
 * `list` and `map` keys and the key's default for every other kind. Integer bounds (`min`) are checked here, and
 * so is the key's `check` (`checks.ts`): an empty `docker_image`, a resource default that is not a quantity, a
 * label that is not a valid label fail.
 *
 * @param spec - the key's spec from `OPERATOR_CONFIG_KEYS`
 * @param raw - the ConfigMap value
 * @returns the decoded value or what was expected
 */
export function parseConfigValue(spec: ConfigKeySpec, raw: string): ParseResult<unknown> {
  const parsed = decodeConfigValue(spec, raw);
  if (!parsed.ok || spec.check === undefined) return parsed;
  const expected = checkValue(spec.check, parsed.value);
  return expected === undefined ? parsed : { ok: false, expected };
}

function decodeConfigValue(spec: ConfigKeySpec, raw: string): ParseResult<unknown> {
  const text = raw.trim();
  if (text === '') {
    switch (spec.kind) {
      case 'string':
        return { ok: true, value: '' };
      case 'list':
        return { ok: true, value: [] };
      case 'map':
        return { ok: true, value: {} };
      default:
        return { ok: true, value: cloneValue(spec.default) };
    }
  }
  switch (spec.kind) {
    case 'bool':
      return parseBool(text);
    case 'int': {
      const parsed = parseInteger(text);
      if (parsed.ok && spec.min !== undefined && parsed.value < spec.min) {
        return { ok: false, expected: `an integer of at least ${spec.min}` };
      }
      return parsed;
    }
    case 'string':
      return { ok: true, value: text };
    case 'list':
      return { ok: true, value: parseList(text) };
    case 'map':
      return parseMap(text);
    case 'duration': {
      const parsed = parseDuration(text);
      if (parsed.ok && parsed.value < 0) return { ok: false, expected: 'a duration that is not negative' };
      return parsed;
    }
    case 'days':
      return parseDays(text);
    case 'enum':
      return spec.values.includes(text)
        ? { ok: true, value: text }
        : { ok: false, expected: `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}` };
  }
}

/**
 * Writes a decoded value back in ConfigMap syntax, so that {@link parseConfigValue} reads it back unchanged
 * (for map keys and values without commas, colons or quotes). Used for defaults in docs and in error values.
 *
 * @param spec - the key's spec
 * @param value - a value of the key's type
 * @returns the ConfigMap text; `""` for `null`
 */
export function formatConfigValue(spec: ConfigKeySpec, value: unknown): string {
  if (value === null || value === undefined) return '';
  switch (spec.kind) {
    case 'duration':
      return formatDuration(value as number);
    case 'list':
      return (value as string[]).join(',');
    case 'map':
      return formatMap(value as Record<string, string>);
    default:
      return String(value);
  }
}

/**
 * Builds a {@link ConfigError} with the standard message.
 *
 * @returns e.g. `{ key: "workers", value: "abc", expected: "an integer",
 *   message: 'invalid value "abc" for key "workers": expected an integer' }`
 */
export function configError(key: string, value: string, expected: string): ConfigError {
  return {
    key,
    value,
    expected,
    message: `invalid value ${JSON.stringify(value)} for key ${JSON.stringify(key)}: expected ${expected}`,
  };
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known key an unknown one was probably meant to be: the nearest by edit distance when it is at most 2 edits
 * away (`workes` → `workers`), else a known key that contains it or that it contains, for keys of 6 characters or
 * more (`pooler_image` → `connection_pooler_image`).
 *
 * @param unknown - a key the table does not know
 * @returns the known key, or `undefined` when none is near
 */
export function nearestConfigKey(unknown: string): OperatorConfigKey | undefined {
  let best: OperatorConfigKey | undefined;
  let bestDistance = 3; // near misses only (at most 2 edits)
  for (const key of OPERATOR_CONFIG_KEY_NAMES) {
    const distance = editDistance(unknown, key);
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  if (best !== undefined || unknown.length < 6) return best;
  return OPERATOR_CONFIG_KEY_NAMES.find((key) => key.includes(unknown) || unknown.includes(key));
}

/**
 * Parses and validates the `data` of the operator ConfigMap.
 *
 * - A missing key takes its default; `data` `undefined` (no ConfigMap) gives the defaults.
 * - Values use Zalando's ConfigMap syntax (see `syntax.ts`); an empty value is empty for `string`, `list` and
 *   `map` keys and the default for other kinds.
 * - An unknown key is a warning, `unknown key "x" ignored` (with `(did you mean "y"?)` for a near miss), never
 *   an error. A deprecated key that is present is a warning too.
 * - Env `WATCHED_NAMESPACE`, when non-empty, replaces `watched_namespace`; env `SCALYR_API_KEY`, when
 *   non-empty, replaces `scalyr_api_key` (Zalando v1.15.1 modifyConfigFromEnvironment).
 * - Validation, as in Zalando: `workers` ≥ 1; `connection_pooler_number_of_instances` ≥ 1; `min_instances`
 *   not above `max_instances` when both are ≥ 0; `connection_pooler_user` differs from `super_username`.
 *   Cross-key rules are checked only when both values parsed.
 * - Every invalid value is reported, in table order, followed by the cross-key errors.
 *
 * Pure: reads nothing but its arguments.
 *
 * @param data - the ConfigMap's `data`
 * @param env - environment overrides, passed in by the caller
 * @returns `{ ok: true, config, warnings }` or `{ ok: false, errors }`; never throws
 */
export function parseOperatorConfig(data: Record<string, string> | undefined, env: ConfigEnv = {}): ConfigResult {
  const config = defaultOperatorConfig() as Record<string, unknown>;
  const errors: ConfigError[] = [];
  const warnings: string[] = [];
  const failed = new Set<string>();
  const given = data ?? {};

  for (const key of OPERATOR_CONFIG_KEY_NAMES) {
    if (!Object.hasOwn(given, key)) continue;
    const raw: unknown = given[key];
    const text = typeof raw === 'string' ? raw : String(raw);
    const spec: ConfigKeySpec = OPERATOR_CONFIG_KEYS[key];
    const parsed = parseConfigValue(spec, text);
    if (parsed.ok) {
      config[key] = parsed.value;
    } else {
      failed.add(key);
      errors.push(configError(key, text, parsed.expected));
    }
    if (spec.deprecated !== undefined) warnings.push(`key ${JSON.stringify(key)} is deprecated: ${spec.deprecated}`);
  }

  for (const key of Object.keys(given).sort()) {
    if (Object.hasOwn(OPERATOR_CONFIG_KEYS, key)) continue;
    const suggestion = nearestConfigKey(key);
    warnings.push(
      `unknown key ${JSON.stringify(key)} ignored${suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : ''}`,
    );
  }

  const watched = env.WATCHED_NAMESPACE?.trim();
  if (watched) config.watched_namespace = watched;
  if (env.SCALYR_API_KEY) config.scalyr_api_key = env.SCALYR_API_KEY;

  const typed = config as OperatorConfig;
  const valueText = (key: OperatorConfigKey): string =>
    Object.hasOwn(given, key) ? String(given[key]) : formatConfigValue(OPERATOR_CONFIG_KEYS[key], typed[key]);

  if (
    !failed.has('min_instances') &&
    !failed.has('max_instances') &&
    typed.min_instances >= 0 &&
    typed.max_instances >= 0 &&
    typed.min_instances > typed.max_instances
  ) {
    errors.push(
      configError(
        'min_instances',
        valueText('min_instances'),
        `a number no higher than "max_instances" (${typed.max_instances})`,
      ),
    );
  }
  // Roles that must not be the superuser: the pooler's and the replication role (each has its own Secret).
  for (const key of ['connection_pooler_user', 'replication_username'] as const) {
    if (failed.has(key) || failed.has('super_username') || typed[key] !== typed.super_username) continue;
    errors.push(
      configError(
        key,
        valueText(key),
        `a user name other than "super_username" (${JSON.stringify(typed.super_username)})`,
      ),
    );
  }

  // Zalando v1.15.1 (addSecretVolume) names the volume after the Secret and mounts it at the path in every container:
  // a name that is no volume name, or no absolute path, makes every StatefulSet invalid.
  if (typed.additional_secret_mount && !failed.has('additional_secret_mount')) {
    if (typed.additional_secret_mount.length > 63 || !DNS_1123_LABEL.test(typed.additional_secret_mount))
      errors.push(
        configError(
          'additional_secret_mount',
          valueText('additional_secret_mount'),
          'the name of a Secret that is also a volume name (lower case letters, digits and "-", at most 63 characters)',
        ),
      );
    if (!failed.has('additional_secret_mount_path') && !typed.additional_secret_mount_path.startsWith('/'))
      errors.push(
        configError(
          'additional_secret_mount_path',
          valueText('additional_secret_mount_path'),
          'an absolute path to mount additional_secret_mount at',
        ),
      );
  }

  if (!failed.has('maintenance_windows')) {
    const windows = parseMaintenanceWindows(typed.maintenance_windows);
    if (!windows.ok) {
      errors.push(
        configError(
          'maintenance_windows',
          valueText('maintenance_windows'),
          `windows like "Sat:22:00-23:59" or "01:00-06:00" (UTC): ${windows.errors.map((e) => e.error).join('; ')}`,
        ),
      );
    }
  }

  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: typed, warnings };
}

/**
 * The namespaces the operator watches, from `watched_namespace` (after the env override).
 *
 * @param config - a parsed config
 * @param operatorNamespace - the operator's own namespace, used when `watched_namespace` is empty
 * @returns `'*'` for all namespaces (the value contains a `*` item); otherwise the comma-separated names,
 *   trimmed and without duplicates, in written order; `[operatorNamespace]` when the value names none
 */
export function watchedNamespaces(
  config: Pick<OperatorConfig, 'watched_namespace'>,
  operatorNamespace: string,
): string[] | '*' {
  const names = parseList(config.watched_namespace);
  if (names.includes('*')) return '*';
  if (names.length === 0) return [operatorNamespace];
  return [...new Set(names)];
}
