/**
 * The operator configuration that was last applied, kept on the operator ConfigMap itself as the annotation
 * `acid.zalan.do/last-applied-config` (canonical JSON of the ConfigMap `data` that `onOperatorConfigChange` rolled
 * out to the fleet). Every invocation already reads that ConfigMap, so falling back to the last good
 * configuration when the current `data` is invalid costs no extra request and no extra permission.
 *
 * Also here: the diff between two ConfigMap `data` maps, and the Warning Event about an invalid configuration,
 * recorded once per distinct invalid content (its name carries a hash of the content, so a second delivery of the
 * same data finds it with one GET and writes nothing).
 *
 * Source: Kubernetes API reference, core/v1 ConfigMap (`metadata.annotations`), core/v1 Event; JSON merge patch
 * (RFC 7386) for the annotation; design §5 (an invalid input never disrupts what runs).
 */
import { createHash } from 'node:crypto';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { KubeClient } from '../../k8s/client';
import type { ConfigLocation } from '../context';

/** Annotation on the operator ConfigMap: canonical JSON of the `data` last applied to the fleet. */
export const LAST_APPLIED_CONFIG_ANNOTATION = 'acid.zalan.do/last-applied-config';

/** ConfigMap `data`: key to text value. */
export type ConfigData = Record<string, string>;

/**
 * @param data ConfigMap `data` (undefined: no ConfigMap, or one without data)
 * @returns JSON of the data with its keys sorted, so equal data gives equal text whatever the key order
 */
export function canonicalConfigData(data: ConfigData | undefined): string {
  const sorted: ConfigData = {};
  for (const key of Object.keys(data ?? {}).sort()) sorted[key] = data![key]!;
  return JSON.stringify(sorted);
}

/**
 * Reads the last applied data from a ConfigMap's annotation.
 * @returns the data, or undefined when there is no annotation or it is not a JSON object of strings (then it is
 *   treated as absent: a damaged annotation must not stop anything, the next applied change rewrites it)
 */
export function lastAppliedData(configMap: V1ConfigMap | undefined): ConfigData | undefined {
  const text = configMap?.metadata?.annotations?.[LAST_APPLIED_CONFIG_ANNOTATION];
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    if (!Object.values(parsed).every((v) => typeof v === 'string')) return undefined;
    return parsed as ConfigData;
  } catch {
    return undefined;
  }
}

/** @returns whether two ConfigMap data maps hold the same keys and values */
export function sameConfigData(a: ConfigData | undefined, b: ConfigData | undefined): boolean {
  return canonicalConfigData(a) === canonicalConfigData(b);
}

/** What changed between two ConfigMap data maps (keys sorted). */
export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/** @returns the keys added, removed and changed from `before` to `after` */
export function diffConfigData(before: ConfigData | undefined, after: ConfigData | undefined): ConfigDiff {
  const old = before ?? {};
  const now = after ?? {};
  const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])].sort();
  return {
    added: keys.filter((k) => !Object.hasOwn(old, k)),
    removed: keys.filter((k) => !Object.hasOwn(now, k)),
    changed: keys.filter((k) => Object.hasOwn(old, k) && Object.hasOwn(now, k) && old[k] !== now[k]),
  };
}

/** Values in logs and Events are cut to this many characters (a ConfigMap value can be a long template). */
const VALUE_CHARS = 40;

const short = (value: string) =>
  JSON.stringify(value.length > VALUE_CHARS ? `${value.slice(0, VALUE_CHARS - 3)}...` : value);

/**
 * Config keys whose values are credentials (Zalando's operator parameters: the logical backup's S3 and Azure keys,
 * Scalyr's API key): a change of one is named in logs and Events, its value never.
 */
export const CREDENTIAL_KEYS: ReadonlySet<string> = new Set([
  'logical_backup_s3_access_key_id',
  'logical_backup_s3_secret_access_key',
  'logical_backup_azure_storage_account_key',
  'scalyr_api_key',
]);

/** @returns the value as logs and Events show it: cut, or `(hidden)` for a credential */
const shown = (key: string, value: string) => (CREDENTIAL_KEYS.has(key) ? '(hidden)' : short(value));

/**
 * @returns one line per change, e.g. `docker_image: "spilo:1" -> "spilo:2"`, `+workers: "4"`, `-debug_logging`;
 *   values cut to 40 characters, credentials (`CREDENTIAL_KEYS`) shown as `(hidden)`
 */
export function describeConfigDiff(
  diff: ConfigDiff,
  before: ConfigData | undefined,
  after: ConfigData | undefined,
): string[] {
  return [
    ...diff.added.map((k) => `+${k}: ${shown(k, after![k]!)}`),
    ...diff.removed.map((k) => `-${k}`),
    ...diff.changed.map((k) => `${k}: ${shown(k, before![k]!)} -> ${shown(k, after![k]!)}`),
  ];
}

/** @returns every key the diff names, sorted */
export const changedKeys = (diff: ConfigDiff): string[] => [...diff.added, ...diff.removed, ...diff.changed].sort();

/**
 * Records `data` as the last applied configuration: a JSON merge patch of `metadata.annotations` only, so no other
 * field (nor a concurrent edit of `data`) is touched. Our own patch triggers an update event, which then finds
 * the data equal to the annotation and does nothing.
 * @throws KubeApiError when the patch fails (the caller answers 503 and the change is applied again)
 */
export async function recordAppliedConfig(
  client: KubeClient,
  location: ConfigLocation,
  data: ConfigData | undefined,
  signal?: AbortSignal,
): Promise<void> {
  await client.mergePatch(
    { kind: 'ConfigMap', ...location },
    { metadata: { annotations: { [LAST_APPLIED_CONFIG_ANNOTATION]: canonicalConfigData(data) } } },
    undefined,
    signal,
  );
}

/** @returns the first 16 hex digits of the SHA-256 of the canonical data: names the Event about that content */
export function configDataHash(data: ConfigData | undefined): string {
  return createHash('sha256').update(canonicalConfigData(data)).digest('hex').slice(0, 16);
}
