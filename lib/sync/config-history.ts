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
import type { KubeClient, KubeObject } from '../k8s/client';
import { isStatus } from '../k8s/errors';
import { EVENT_SOURCE } from './events';
import type { ConfigLocation } from './operator-config';

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
export function lastAppliedData(configMap: KubeObject | undefined): ConfigData | undefined {
  const text = configMap?.metadata?.annotations?.[LAST_APPLIED_CONFIG_ANNOTATION] as string | undefined;
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

const short = (value: string) => JSON.stringify(value.length > VALUE_CHARS ? `${value.slice(0, VALUE_CHARS - 3)}...` : value);

/**
 * @returns one line per change, e.g. `docker_image: "spilo:1" -> "spilo:2"`, `+workers: "4"`, `-debug_logging`;
 *   values cut to 40 characters
 */
export function describeConfigDiff(diff: ConfigDiff, before: ConfigData | undefined, after: ConfigData | undefined): string[] {
  return [
    ...diff.added.map((k) => `+${k}: ${short(after![k]!)}`),
    ...diff.removed.map((k) => `-${k}`),
    ...diff.changed.map((k) => `${k}: ${short(before![k]!)} -> ${short(after![k]!)}`),
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
export async function recordAppliedConfig(client: KubeClient, location: ConfigLocation, data: ConfigData | undefined,
  signal?: AbortSignal): Promise<void> {
  await client.mergePatch({ kind: 'ConfigMap', ...location },
    { metadata: { annotations: { [LAST_APPLIED_CONFIG_ANNOTATION]: canonicalConfigData(data) } } }, undefined, signal);
}

/** @returns the first 16 hex digits of the SHA-256 of the canonical data: names the Event about that content */
export function configDataHash(data: ConfigData | undefined): string {
  return createHash('sha256').update(canonicalConfigData(data)).digest('hex').slice(0, 16);
}

/** @returns the name of the Warning Event about this invalid content of the ConfigMap */
export function invalidConfigEventName(location: ConfigLocation, data: ConfigData | undefined): string {
  const suffix = `.invalid-config-${configDataHash(data)}`;
  return `${location.name.slice(0, 253 - suffix.length)}${suffix}`;
}

/**
 * Records the Warning Event `InvalidConfiguration` on the operator ConfigMap, once per distinct invalid content:
 * the Event is named after a hash of the data, so a second delivery of the same data finds it (one GET, no write).
 * Events expire (the apiserver's `--event-ttl`, 1 h by default); the same invalid data delivered after that is
 * reported again, which is a fair reminder. Without permission to read Events the create is tried and an
 * existing one (409) counts as recorded.
 * @returns `recorded`, `exists` (reported before), or the error that kept it from being recorded (never thrown:
 *   an Event is a report, not the work)
 */
export async function recordInvalidConfigEvent(client: KubeClient, location: ConfigLocation, data: ConfigData | undefined,
  message: string, now: Date, signal?: AbortSignal): Promise<'recorded' | 'exists' | Error> {
  const name = invalidConfigEventName(location, data);
  try {
    if (await client.get({ kind: 'Event', namespace: location.namespace, name }, signal)) return 'exists';
  } catch (error) {
    if (!isStatus(error, 403)) return error as Error;
  }
  const time = now.toISOString();
  try {
    await client.create({
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace: location.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', namespace: location.namespace, name: location.name },
      type: 'Warning', reason: 'InvalidConfiguration',
      message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
      source: { component: EVENT_SOURCE }, reportingComponent: EVENT_SOURCE, reportingInstance: EVENT_SOURCE,
      firstTimestamp: time, lastTimestamp: time, count: 1,
    }, signal);
    return 'recorded';
  } catch (error) {
    return isStatus(error, 409) ? 'exists' : error as Error;
  }
}
