/**
 * Loose zod shapes for Kubernetes core types embedded in a `postgresql` manifest (tolerations, env, probes, ...).
 * They check the few fields the operator reads and keep every other field as given: the API server's own
 * validation of the pod template is the authority on the rest.
 *
 * Source: Kubernetes API reference, core/v1 (Toleration, EnvVar, EnvFromSource, Container, NodeAffinity,
 * TopologySpreadConstraint, Probe, LabelSelector).
 */
import * as z from 'zod';

const kubernetesObject = (description: string, shape: z.ZodRawShape = {}) =>
  z.looseObject(shape).meta({ description, 'x-kubernetes-preserve-unknown-fields': true });

/** core/v1 Toleration. */
export const toleration = z
  .looseObject({
    key: z.string().optional().describe('Taint key the toleration applies to; empty matches all keys.'),
    operator: z.enum(['Exists', 'Equal']).optional().describe('Exists or Equal (default Equal).'),
    value: z.string().optional().describe('Taint value to match with operator Equal.'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute', ''])
      .optional()
      .describe('Taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty matches all.'),
    tolerationSeconds: z.int().optional().describe('Seconds a NoExecute taint is tolerated.'),
  })
  .describe('A core/v1 Toleration.');

/** core/v1 EnvVar. */
export const envVar = z
  .looseObject({
    name: z.string().min(1).describe('Environment variable name.'),
    value: z.string().optional().describe('Literal value.'),
    valueFrom: kubernetesObject(
      'Source of the value (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef).',
    ).optional(),
  })
  .describe('A core/v1 EnvVar.');

/** core/v1 EnvFromSource. */
export const envFromSource = z
  .looseObject({
    prefix: z.string().optional().describe('Prefix added to every variable name.'),
    configMapRef: kubernetesObject('ConfigMap whose keys become variables.', {
      name: z.string().optional(),
    }).optional(),
    secretRef: kubernetesObject('Secret whose keys become variables.', { name: z.string().optional() }).optional(),
  })
  .describe('A core/v1 EnvFromSource.');

/** core/v1 Container (init containers): name and image are checked, the rest is passed to the pod template. */
export const container = z
  .looseObject({
    name: z.string().min(1).describe('Container name, unique in the pod.'),
    image: z.string().min(1).optional().describe('Container image.'),
  })
  .meta({ description: 'A core/v1 Container.', 'x-kubernetes-preserve-unknown-fields': true });

/** core/v1 NodeAffinity. */
export const nodeAffinity = kubernetesObject(
  'A core/v1 NodeAffinity for the database pods, combined with node_readiness_label.',
);

/** core/v1 TopologySpreadConstraint. */
export const topologySpreadConstraint = kubernetesObject('A core/v1 TopologySpreadConstraint for the database pods.');

/** core/v1 Probe. */
export const probe = kubernetesObject('A core/v1 Probe.');

/** meta/v1 LabelSelector. */
export const labelSelector = kubernetesObject('A meta/v1 LabelSelector.');

/** Any Kubernetes object kept as given (volume sources, pooler resources, ...). */
export const anyObject = (description: string) => kubernetesObject(description);
