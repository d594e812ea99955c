/**
 * NetworkPolicies of the function pods: only the pods that deliver events may call a function's port. On the plain
 * target (`--per-function`) and the kubeless target those are the event bridge and the CronJob pods that call a
 * scheduled function; on the knative target the Broker's dispatchers, which run in Knative Eventing's namespace
 * (the sources send to the Broker, never to a function). Everything else, in any namespace, is refused once a
 * network plugin enforces NetworkPolicy. Prometheus scraping `/metrics` on the same port is refused too: add a
 * policy that admits the scraper where it is wanted (NetworkPolicies add up).
 *
 * Sources: Kubernetes "Network Policies" (a pod selected by a policy of type Ingress admits only what some policy
 * allows; namespaceSelector on the immutable label `kubernetes.io/metadata.name`, Kubernetes >= 1.21); Knative
 * Eventing installs its Broker filter and ingress in the namespace `knative-eventing`.
 */
import type { FunctionSpec } from '../../lib/registry/functions';
import { APP, FUNCTION_PORT, labels, type DesiredObject } from './meta';
import type { DeployOptions } from './options';

/** The namespace Knative Eventing runs its Broker dispatchers in. */
export const KNATIVE_EVENTING_NAMESPACE = 'knative-eventing';

/** Name of the NetworkPolicy that guards the function pods. */
export const FUNCTIONS_NETWORK_POLICY = `${APP}-ingress`;

/** @returns the app.kubernetes.io/component label of the pods a scheduled function's CronJob starts */
export function cronCallerComponent(spec: FunctionSpec): string {
  return `trigger-${spec.name}`;
}

/** Who may call the functions. */
export type Callers =
  /** the bridge's pod and the CronJob pods of these components, in the operator namespace */
  | { type: 'pods'; components: string[] }
  /** any pod of Knative Eventing's namespace */
  | { type: 'knative' };

/**
 * One NetworkPolicy selecting the pods of `components` (app.kubernetes.io/component: the function names, and the
 * knative target's dead-letter receiver) that admits, on the function port only, the callers and nothing else.
 * @param port the container port the callers reach (the Service's targetPort)
 */
export function functionsNetworkPolicy(
  components: readonly string[],
  callers: Callers,
  options: DeployOptions,
  port: number = FUNCTION_PORT,
): DesiredObject {
  const from =
    callers.type === 'pods'
      ? [
          {
            podSelector: {
              matchLabels: { 'app.kubernetes.io/name': APP },
              matchExpressions: [
                { key: 'app.kubernetes.io/component', operator: 'In', values: [...callers.components].sort() },
              ],
            },
          },
        ]
      : [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': KNATIVE_EVENTING_NAMESPACE } },
          },
        ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: FUNCTIONS_NETWORK_POLICY, namespace: options.namespace, labels: labels('network-policy') },
    spec: {
      podSelector: {
        matchLabels: { 'app.kubernetes.io/name': APP },
        matchExpressions: [
          {
            key: 'app.kubernetes.io/component',
            operator: 'In',
            values: [...components].sort(),
          },
        ],
      },
      policyTypes: ['Ingress'],
      ingress: [{ from, ports: [{ protocol: 'TCP', port }] }],
    },
  };
}
