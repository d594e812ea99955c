/**
 * Resources of the Postgres container: manifest values, else the config defaults; limits raised to
 * `min_cpu_limit`/`min_memory_limit`; a limit below its request raised to the request; with
 * `set_memory_request_to_limit` the memory request raised to the limit; requests capped at
 * `max_cpu_request`/`max_memory_request`. The ignore annotation turns the min/max rules off. A manifest sidecar's
 * resources follow the same rules without the min/max ones, which Zalando v1.15.1 applies to the Postgres container
 * only (generateResourceRequirements).
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md ("Postgres Pod resources").
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { compareQuantities, parseQuantity } from '../model/quantity';

type ResourceList = Record<string, string>;
export interface ContainerResources {
  requests: ResourceList;
  limits: ResourceList;
}

const pick = (value: string | undefined, fallback: string): string =>
  value === undefined || value === '' || parseQuantity(value) === 0 ? fallback : value;

const larger = (a: string, b: string) => (compareQuantities(a, b) >= 0 ? a : b);
const smaller = (a: string, b: string) => (compareQuantities(a, b) <= 0 ? a : b);

/** @returns requests and limits of the Spilo container; hugepages from the manifest are passed through */
export function postgresResources(cluster: Postgresql, config: OperatorConfig): ContainerResources {
  return postgresAdjusted(cluster, config).resources;
}

/**
 * What `postgresResources` changed from the value given (the manifest's, else the config default), one note per
 * field: `spec.resources.limits.cpu: 100m given, 250m used (raised to the request)`.
 */
export function resourceNotes(cluster: Postgresql, config: OperatorConfig): string[] {
  return postgresAdjusted(cluster, config).notes;
}

function postgresAdjusted(cluster: Postgresql, config: OperatorConfig): AdjustedResources {
  const ignoreKey = config.ignore_resources_limits_annotation_key;
  const enforce = !(ignoreKey && cluster.metadata.annotations?.[ignoreKey] === 'true');
  return adjustedResources(cluster.spec.resources, config, 'spec.resources', enforce);
}

/** Resources as built, and one note per field whose value differs from the one given. */
export interface AdjustedResources {
  resources: ContainerResources;
  notes: string[];
}

/**
 * @param spec the requests and limits given (a manifest's `resources`), or undefined
 * @param field the manifest path the notes name, e.g. `spec.sidecars.0.resources`
 * @param enforce whether the min/max keys apply (the Postgres container without the ignore annotation)
 * @returns the config defaults filled in and the limits and requests adjusted, with a note per value changed
 */
export function adjustedResources(
  spec: { requests?: unknown; limits?: unknown } | undefined,
  config: OperatorConfig,
  field: string,
  enforce: boolean,
): AdjustedResources {
  const requests: ResourceList = { ...(spec?.requests as ResourceList | undefined) };
  const limits: ResourceList = { ...(spec?.limits as ResourceList | undefined) };
  const given = (value: string | undefined, key: string): string =>
    value === undefined || value === '' || parseQuantity(value) === 0 ? `default ${key}` : 'given';
  const origins: Record<string, string> = {
    'requests.cpu': given(requests.cpu, 'default_cpu_request'),
    'requests.memory': given(requests.memory, 'default_memory_request'),
    'limits.cpu': given(limits.cpu, 'default_cpu_limit'),
    'limits.memory': given(limits.memory, 'default_memory_limit'),
  };
  requests.cpu = pick(requests.cpu, config.default_cpu_request);
  requests.memory = pick(requests.memory, config.default_memory_request);
  limits.cpu = pick(limits.cpu, config.default_cpu_limit);
  limits.memory = pick(limits.memory, config.default_memory_limit);
  const start: Record<string, string> = {
    'requests.cpu': requests.cpu,
    'requests.memory': requests.memory,
    'limits.cpu': limits.cpu,
    'limits.memory': limits.memory,
  };
  const why: Record<string, string> = {};
  const set = (list: ResourceList, path: string, value: string, reason: string) => {
    const key = path.slice(path.indexOf('.') + 1);
    if (compareQuantities(value, list[key]!) !== 0) why[path] = reason;
    list[key] = value;
  };

  if (enforce && config.min_cpu_limit)
    set(limits, 'limits.cpu', larger(limits.cpu, config.min_cpu_limit), `min_cpu_limit ${config.min_cpu_limit}`);
  if (enforce && config.min_memory_limit)
    set(
      limits,
      'limits.memory',
      larger(limits.memory, config.min_memory_limit),
      `min_memory_limit ${config.min_memory_limit}`,
    );
  set(limits, 'limits.cpu', larger(limits.cpu, requests.cpu), 'raised to the request');
  set(limits, 'limits.memory', larger(limits.memory, requests.memory), 'raised to the request');
  if (config.set_memory_request_to_limit)
    set(requests, 'requests.memory', larger(requests.memory, limits.memory), 'set_memory_request_to_limit');
  if (enforce && config.max_cpu_request)
    set(
      requests,
      'requests.cpu',
      smaller(requests.cpu, config.max_cpu_request),
      `max_cpu_request ${config.max_cpu_request}`,
    );
  if (enforce && config.max_memory_request)
    set(
      requests,
      'requests.memory',
      smaller(requests.memory, config.max_memory_request),
      `max_memory_request ${config.max_memory_request}`,
    );
  const used: Record<string, string> = {
    'requests.cpu': requests.cpu,
    'requests.memory': requests.memory,
    'limits.cpu': limits.cpu,
    'limits.memory': limits.memory,
  };
  const notes = Object.keys(why)
    .filter((key) => compareQuantities(start[key]!, used[key]!) !== 0)
    .sort()
    .map((key) => {
      const origin = origins[key] === 'given' ? 'given' : `given (${origins[key]})`;
      return `${field}.${key}: ${start[key]} ${origin}, ${used[key]} used (${why[key]})`;
    });
  return { resources: { requests, limits }, notes };
}
