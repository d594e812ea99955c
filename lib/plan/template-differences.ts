/**
 * The differences between two pod templates, field by field, for a person to read: containers and their env are
 * keyed by name (not by position), and `SPILO_CONFIGURATION` (a JSON document in one env value) is compared
 * inside, so a difference reads `containers.postgres.env.SPILO_CONFIGURATION.bootstrap.initdb[1].auth-host: "md5"
 * -> "scram-sha-256"` rather than one truncated string. Used when taking over a StatefulSet another operator built,
 * where every difference is reported and none restarts a pod. Pure.
 *
 * Source: Kubernetes API reference, core/v1 PodTemplateSpec and Container (names unique within a pod); Spilo's
 * `SPILO_CONFIGURATION` (a YAML/JSON document merged into its Patroni configuration).
 */
import { listDrift } from './drift';

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};

/** An env list as a map by name: `value` parsed when it is `SPILO_CONFIGURATION`, else the value or `valueFrom`. */
function envByName(env: unknown): Json {
  const out: Json = {};
  for (const item of Array.isArray(env) ? (env as Json[]) : []) {
    const name = String(item.name);
    if (name === 'SPILO_CONFIGURATION' && typeof item.value === 'string') {
      try {
        out[name] = JSON.parse(item.value);
        continue;
      } catch {
        // not JSON: compared as text below
      }
    }
    out[name] = item.value ?? item.valueFrom ?? '';
  }
  return out;
}

function containersByName(containers: unknown): Json {
  const out: Json = {};
  for (const container of Array.isArray(containers) ? (containers as Json[]) : []) {
    out[String(container.name)] = { ...container, env: envByName(container.env) };
  }
  return out;
}

/** The template in the keyed form compared here. */
function readable(template: unknown): Json {
  const spec = obj(obj(template).spec);
  return {
    ...obj(template),
    spec: {
      ...spec,
      containers: containersByName(spec.containers),
      initContainers: containersByName(spec.initContainers),
    },
  };
}

/** Env names the other operator set and this one does not (the field-wise comparison only sees wanted fields). */
function extraEnv(desired: Json, observed: Json): string[] {
  const extra: string[] = [];
  const wanted = obj(obj(desired.spec).containers);
  for (const [name, container] of Object.entries(obj(obj(observed.spec).containers))) {
    const wantedEnv = obj(obj(wanted[name]).env);
    for (const key of Object.keys(obj(obj(container).env)))
      if (!(key in wantedEnv)) extra.push(`spec.template.spec.containers.${name}.env.${key}: set -> absent`);
  }
  return extra;
}

/**
 * @param desired the pod template this operator builds
 * @param observed the live pod template
 * @param limit at most this many differences (a last entry counts the rest)
 * @returns each difference as `spec.template.<path>: observed -> desired`; empty when they match
 */
export function templateDifferences(desired: unknown, observed: unknown, limit = 20): string[] {
  const d = readable(desired);
  const o = readable(observed);
  const all = [...listDrift(d, o, 'spec.template', Number.MAX_SAFE_INTEGER), ...extraEnv(d, o)];
  return all.length <= limit ? all : [...all.slice(0, limit), `... and ${all.length - limit} more`];
}
