/**
 * Resources of the Postgres container: manifest values, else the config defaults; limits raised to
 * `min_cpu_limit`/`min_memory_limit`; a limit below its request raised to the request; with
 * `set_memory_request_to_limit` the memory request raised to the limit; requests capped at
 * `max_cpu_request`/`max_memory_request`. The ignore annotation turns the min/max rules off.
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
  const spec = cluster.spec.resources;
  const requests: ResourceList = { ...(spec?.requests as ResourceList | undefined) };
  const limits: ResourceList = { ...(spec?.limits as ResourceList | undefined) };
  requests.cpu = pick(requests.cpu, config.default_cpu_request);
  requests.memory = pick(requests.memory, config.default_memory_request);
  limits.cpu = pick(limits.cpu, config.default_cpu_limit);
  limits.memory = pick(limits.memory, config.default_memory_limit);

  const ignoreKey = config.ignore_resources_limits_annotation_key;
  const enforce = !(ignoreKey && cluster.metadata.annotations?.[ignoreKey] === 'true');
  if (enforce && config.min_cpu_limit) limits.cpu = larger(limits.cpu, config.min_cpu_limit);
  if (enforce && config.min_memory_limit) limits.memory = larger(limits.memory, config.min_memory_limit);
  limits.cpu = larger(limits.cpu, requests.cpu);
  limits.memory = larger(limits.memory, requests.memory);
  if (config.set_memory_request_to_limit) requests.memory = larger(requests.memory, limits.memory);
  if (enforce && config.max_cpu_request) requests.cpu = smaller(requests.cpu, config.max_cpu_request);
  if (enforce && config.max_memory_request) requests.memory = smaller(requests.memory, config.max_memory_request);
  return { requests, limits };
}
