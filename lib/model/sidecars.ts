/**
 * Sidecars: the rules of the manifest's `spec.sidecars` and of the global sidecars of the operator config
 * (`sidecars`, `sidecar_docker_images`), checked before any child is written.
 *
 * Zalando v1.15.1 (generateStatefulSet, getSidecarContainer, patchSidecarContainers, validateContainers in
 * pkg/cluster/k8sres.go; createStatefulSet in pkg/cluster/resources.go) takes a manifest sidecar's `name`, `image`,
 * `command`, `ports`, `env` and `resources` only; names a sidecar without a name `sidecar-<index>`; refuses a
 * sidecar without an image; refuses manifest sidecars when `enable_sidecars` is false; keeps the first of two
 * sidecars of one name (manifest, then config `sidecars`, then `sidecar_docker_images`); and gives every sidecar
 * `POD_NAME`, `POD_NAMESPACE`, `POSTGRES_USER` and `POSTGRES_PASSWORD`, which win over the sidecar's own env.
 *
 * Its ConfigMap form cannot express `sidecars` (it splits the value on commas into containers without a name, and
 * every StatefulSet then fails), so this operator reads that key as a JSON list of core/v1 Containers.
 *
 * Source: https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md#sidecar-definitions
 * and https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md (sidecars,
 * sidecar_docker_images, enable_sidecars); Kubernetes API reference, core/v1 Container (names are DNS-1123 labels,
 * unique among the pod's containers and init containers).
 */
import { DNS_1123_LABEL } from './labels';
import type { Postgresql } from './postgresql';
import type { Finding, RuleFindings } from './rules';

/** The Spilo container's name, which no sidecar may take. */
export const POSTGRES_CONTAINER = 'postgres';
/** The fields of a manifest sidecar that Zalando's operator copies into the container. */
export const SIDECAR_FIELDS: readonly string[] = ['name', 'image', 'command', 'ports', 'env', 'resources'];
/** The env names the operator gives every sidecar, in Zalando's order; a sidecar's own value of them is not used. */
export const SIDECAR_ENV_NAMES: readonly string[] = ['POD_NAME', 'POD_NAMESPACE', 'POSTGRES_USER', 'POSTGRES_PASSWORD'];

type Json = Record<string, unknown>;
const quoted = (text: string): string => JSON.stringify(text);

/** @returns the name of the manifest sidecar at `index`: its own, else Zalando's `sidecar-<index>` */
export const sidecarName = (sidecar: { name?: string }, index: number): string => sidecar.name || `sidecar-${index}`;

/** @returns why `name` cannot name a sidecar container (a DNS-1123 label, not `postgres`), or undefined */
export function containerNameProblem(name: string): string | undefined {
  if (name.length > 63) return `container name ${quoted(name)} is longer than 63 characters`;
  if (!DNS_1123_LABEL.test(name)) return `container name ${quoted(name)} must match ${DNS_1123_LABEL.source}`;
  if (name === POSTGRES_CONTAINER) return `container name ${quoted(name)} is the database container's`;
  return undefined;
}

/**
 * `spec.sidecars`. Problems: sidecars while `enable_sidecars` is false, a name that is not a container name or is
 * an init container's, a missing image. Warnings (the part is left out, as Zalando does): a second sidecar of one
 * name, fields Zalando does not copy, env names the operator sets itself.
 *
 * @param enableSidecars `enable_sidecars` of the operator config
 */
export function sidecarFindings(spec: Postgresql['spec'], enableSidecars: boolean): RuleFindings {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  const sidecars = spec.sidecars ?? [];
  if (sidecars.length === 0) return { problems, warnings };
  if (!enableSidecars) {
    problems.push({
      path: 'spec.sidecars',
      message: 'sidecar containers specified but disabled in configuration (enable_sidecars is false)',
    });
  }
  const initNames = new Set((spec.initContainers ?? spec.init_containers ?? []).map((c) => c.name));
  const names = new Map<string, number>();
  sidecars.forEach((sidecar, index) => {
    const path = `spec.sidecars.${index}`;
    const name = sidecarName(sidecar, index);
    const problem =
      containerNameProblem(name) ??
      (initNames.has(name) ? `container name ${quoted(name)} is an init container's` : undefined);
    if (problem) problems.push({ path: `${path}.name`, message: problem });
    else if (names.has(name))
      warnings.push({
        path: `${path}.name`,
        message: `container name ${quoted(name)} is used by spec.sidecars.${names.get(name)}: this sidecar is not added`,
      });
    else names.set(name, index);
    if (!sidecar.image) problems.push({ path: `${path}.image`, message: 'image is required' });
    for (const field of Object.keys(sidecar)
      .filter((f) => !SIDECAR_FIELDS.includes(f))
      .sort())
      warnings.push({
        path: `${path}.${field}`,
        message: `not used: a sidecar takes ${SIDECAR_FIELDS.slice(0, -1).join(', ')} and ${SIDECAR_FIELDS.at(-1)} (as Zalando's operator)`,
      });
    (sidecar.env ?? []).forEach((variable, envIndex) => {
      if (SIDECAR_ENV_NAMES.includes(variable.name.toUpperCase()))
        warnings.push({
          path: `${path}.env.${envIndex}`,
          message: `${variable.name} is set by the operator: this value is not used`,
        });
    });
  });
  return { problems, warnings };
}

/**
 * @param text the config's `sidecars` value
 * @returns its containers (empty for an empty value); throws on a value `configSidecarsProblem` refuses
 */
export function parseConfigSidecars(text: string): Json[] {
  return text.trim() === '' ? [] : (JSON.parse(text) as Json[]);
}

/** @returns what the config's `sidecars` value should be (completes "expected …"), or undefined when it is valid */
export function configSidecarsProblem(text: string): string | undefined {
  const expected = 'a JSON list of containers such as [{"name":"exporter","image":"exporter:1.0"}]';
  let value: unknown;
  try {
    value = parseConfigSidecars(text);
  } catch (error) {
    return `${expected} (${(error as Error).message})`;
  }
  if (!Array.isArray(value)) return `${expected} (not a list)`;
  const seen = new Set<string>();
  for (const [index, item] of value.entries()) {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      return `${expected} (item ${index} is not an object)`;
    const { name, image } = item as Json;
    if (typeof name !== 'string') return `${expected} (item ${index} has no name)`;
    const problem = containerNameProblem(name) ?? (seen.has(name) ? `container name ${quoted(name)} twice` : undefined);
    if (problem) return `${expected} (${problem})`;
    seen.add(name);
    if (typeof image !== 'string' || image.trim() === '') return `${expected} (${quoted(name)} has no image)`;
  }
  return undefined;
}

/** @returns what `sidecar_docker_images` should be, or undefined when every name and image is valid */
export function sidecarImagesProblem(images: Record<string, string>): string | undefined {
  for (const [name, image] of Object.entries(images)) {
    const problem = containerNameProblem(name) ?? (image.trim() === '' ? `${quoted(name)} has no image` : undefined);
    if (problem) return `container names and images like "exporter:registry.example.com/exporter" (${problem})`;
  }
  return undefined;
}
