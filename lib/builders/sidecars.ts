/**
 * The sidecar containers of the database pods, as Zalando v1.15.1 builds them (generateStatefulSet,
 * generateSidecarContainers, getSidecarContainer, mergeContainers, patchSidecarContainers): the manifest's
 * `sidecars` (resources from the config defaults), then the config's `sidecars` as given, then
 * `sidecar_docker_images` sorted by name (resources from the config defaults), then the deprecated Scalyr sidecar
 * (`scalyr_*` keys); the first of a name wins. Each gets
 * the data volume mount and `POD_NAME`, `POD_NAMESPACE`, `POSTGRES_USER` and `POSTGRES_PASSWORD` (the superuser's
 * Secret) before its own env. The rules of the fields are in `lib/model/sidecars.ts`.
 *
 * Source: https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md#sidecar-definitions;
 * Kubernetes API reference, core/v1 Container.
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { parseConfigSidecars, SIDECAR_ENV_NAMES, sidecarName } from '../model/sidecars';
import { secretName } from './names';
import { adjustedResources } from './resources';

type Json = Record<string, unknown>;

/** The sidecars in pod order, and a note for each value used in place of the one given or sidecar left out. */
export interface Sidecars {
  containers: Json[];
  notes: string[];
}

/** The variables every sidecar gets first (the model's SIDECAR_ENV_NAMES, whose warnings name them). */
function injectedEnv(cluster: Postgresql, config: OperatorConfig): Json[] {
  const fieldRef = (fieldPath: string) => ({ fieldRef: { apiVersion: 'v1', fieldPath } });
  const password = secretName(config, cluster.metadata.name, config.super_username);
  return [
    { name: 'POD_NAME', valueFrom: fieldRef('metadata.name') },
    { name: 'POD_NAMESPACE', valueFrom: fieldRef('metadata.namespace') },
    { name: 'POSTGRES_USER', value: config.super_username },
    { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: password, key: 'password' } } },
  ];
}

/** Zalando's appendEnvVars: a variable whose name (compared without case) is already there is left out. */
function appendEnv(first: Json[], more: Json[]): Json[] {
  const out = [...first];
  for (const variable of more) {
    const name = String(variable.name).toUpperCase();
    if (!out.some((v) => String(v.name).toUpperCase() === name)) out.push(variable);
  }
  return out;
}

/** getSidecarContainer: the fields Zalando copies, the resources filled from the config defaults. */
function defaultedSidecar(
  sidecar: { name?: string; image?: string; command?: unknown; ports?: unknown; env?: unknown; resources?: unknown },
  name: string,
  config: OperatorConfig,
  field: string,
): { container: Json; notes: string[] } {
  const resources = adjustedResources(
    sidecar.resources as { requests?: unknown; limits?: unknown } | undefined,
    config,
    field,
    false,
  );
  const container: Json = {
    name,
    image: sidecar.image ?? '',
    imagePullPolicy: 'IfNotPresent',
    resources: resources.resources,
  };
  if (sidecar.env !== undefined) container.env = sidecar.env;
  if (sidecar.ports !== undefined) container.ports = sidecar.ports;
  if (sidecar.command !== undefined) container.command = sidecar.command;
  return { container, notes: resources.notes };
}

/** Zalando's name of the Scalyr log shipping sidecar. */
export const SCALYR_SIDECAR = 'scalyr-sidecar';

/**
 * The deprecated Scalyr sidecar of Zalando v1.15.1 (generateScalyrSidecarSpec): added to every cluster's pods when
 * both `scalyr_api_key` (the operator's env `SCALYR_API_KEY` wins, see parseOperatorConfig) and `scalyr_image` are
 * set, with `SCALYR_API_KEY`, `SCALYR_SERVER_HOST` (the cluster's name) and, when set, `SCALYR_SERVER_URL` in its env
 * (the key in plain text in the pod spec, as Zalando puts it) and the `scalyr_*` requests and limits, the
 * `default_*` resources filling empty ones. An image without a key adds nothing, which is said, as Zalando logs it.
 * Source: https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md#scalyr-options-deprecated
 * @returns the container, or undefined
 */
function scalyrSidecar(cluster: Postgresql, config: OperatorConfig, notes: string[]): Json | undefined {
  if (!config.scalyr_api_key || !config.scalyr_image) {
    if (config.scalyr_image)
      notes.push('no Scalyr sidecar: scalyr_image is set but scalyr_api_key is empty (and no env SCALYR_API_KEY)');
    return undefined;
  }
  const env = [
    { name: 'SCALYR_API_KEY', value: config.scalyr_api_key },
    { name: 'SCALYR_SERVER_HOST', value: cluster.metadata.name },
    ...(config.scalyr_server_url ? [{ name: 'SCALYR_SERVER_URL', value: config.scalyr_server_url }] : []),
  ];
  const resources = {
    requests: { cpu: config.scalyr_cpu_request, memory: config.scalyr_memory_request },
    limits: { cpu: config.scalyr_cpu_limit, memory: config.scalyr_memory_limit },
  };
  const built = defaultedSidecar(
    { name: SCALYR_SIDECAR, image: config.scalyr_image, env, resources },
    SCALYR_SIDECAR,
    config,
    `${SCALYR_SIDECAR}.resources`,
  );
  notes.push(...built.notes);
  return built.container;
}

/**
 * @param pgdataMount the data volume mount of the Spilo container, which every sidecar gets too
 * @returns the sidecar containers, before the pod-wide mounts (`share_pgsocket_with_sidecars`, additional volumes)
 */
export function buildSidecars(cluster: Postgresql, config: OperatorConfig, pgdataMount: Json): Sidecars {
  const notes: string[] = [];
  const candidates: Array<{ container: Json; from: string }> = [];
  (cluster.spec.sidecars ?? []).forEach((sidecar, index) => {
    const field = `spec.sidecars.${index}`;
    const built = defaultedSidecar(sidecar, sidecarName(sidecar, index), config, `${field}.resources`);
    notes.push(...built.notes);
    candidates.push({ container: built.container, from: field });
  });
  for (const container of parseConfigSidecars(config.sidecars))
    candidates.push({ container, from: `the config's sidecars` });
  const images = Object.entries(config.sidecar_docker_images).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [name, image] of images) {
    const field = `sidecar_docker_images.${name}.resources`;
    const built = defaultedSidecar({ name, image }, name, config, field);
    notes.push(...built.notes);
    candidates.push({ container: built.container, from: `the config's sidecar_docker_images` });
  }
  const scalyr = scalyrSidecar(cluster, config, notes);
  if (scalyr) candidates.push({ container: scalyr, from: `the config's scalyr_* keys` });

  const taken = new Map<string, string>();
  const containers: Json[] = [];
  const env = injectedEnv(cluster, config);
  for (const { container, from } of candidates) {
    const name = String(container.name);
    const first = taken.get(name);
    if (first !== undefined) {
      // Two sidecars of one name in the manifest are reported by the validation already.
      if (!(from.startsWith('spec.') && first.startsWith('spec.')))
        notes.push(`sidecar ${JSON.stringify(name)} of ${from} is not added: ${first} has a sidecar of that name`);
      continue;
    }
    taken.set(name, from);
    // The manifest's own are reported by the validation; the config's are reported here.
    const overridden = ((container.env ?? []) as Json[]).filter((v) =>
      SIDECAR_ENV_NAMES.includes(String(v.name).toUpperCase()),
    );
    if (!from.startsWith('spec.') && overridden.length > 0)
      notes.push(
        `sidecar ${JSON.stringify(name)} of ${from}: ${overridden.map((v) => String(v.name)).join(', ')} set by the operator, the value given is not used`,
      );
    containers.push({
      ...container,
      env: appendEnv(env, (container.env ?? []) as Json[]),
      volumeMounts: [...((container.volumeMounts ?? []) as Json[]), pgdataMount],
    });
  }
  return { containers, notes };
}
