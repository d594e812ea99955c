/**
 * The ServiceAccount the database pods run as (`pod_service_account_name`, shape from
 * `pod_service_account_definition`), and the RoleBinding that grants it the ClusterRole Patroni needs
 * (`pod_service_account_role_binding_definition`, by default to the ClusterRole of the same name). One of each
 * per namespace, shared by the clusters there, so they have no owner. With `irsa_role_arn` the ServiceAccount
 * carries `eks.amazonaws.com/role-arn` (the one field kept in sync on an existing ServiceAccount, as in Zalando).
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (pod_service_account_name,
 * pod_service_account_definition, pod_service_account_role_binding_definition, irsa_role_arn).
 */
import { parse } from 'yaml';
import type { OperatorConfig } from '../model/config';
import type { DesiredObject } from './object-meta';

/** ServiceAccount annotation EKS reads the IAM role of the pods from (IRSA), set from `irsa_role_arn`. */
export const IRSA_ANNOTATION = 'eks.amazonaws.com/role-arn';

function fromDefinition(definition: string, kind: string): DesiredObject | undefined {
  if (!definition.trim()) return undefined;
  const parsed = parse(definition) as DesiredObject | null;
  if (!parsed || typeof parsed !== 'object' || parsed.kind !== kind) {
    throw new Error(`the ${kind} definition in the operator config is not a ${kind} object`);
  }
  return parsed;
}

/**
 * @returns the ServiceAccount and RoleBinding for `namespace`; throws when a definition in the config is not an
 *   object of the right kind (the config layer reports it)
 */
export function buildPodServiceAccount(config: OperatorConfig, namespace: string): DesiredObject[] {
  const name = config.pod_service_account_name;
  const account = fromDefinition(config.pod_service_account_definition, 'ServiceAccount') ?? {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name },
  };
  // The pods run as pod_service_account_name, so that name wins over one in the definition (as in Zalando's).
  const accountName = name;
  const binding = fromDefinition(config.pod_service_account_role_binding_definition, 'RoleBinding') ?? {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: accountName },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: accountName },
    subjects: [{ kind: 'ServiceAccount', name: accountName }],
  };
  const metadata: DesiredObject['metadata'] = { ...account.metadata, name: accountName, namespace };
  if (config.irsa_role_arn) metadata.annotations = { ...metadata.annotations, [IRSA_ANNOTATION]: config.irsa_role_arn };
  return [
    { ...account, metadata },
    // Subjects as given: Zalando v1.15.1 names no namespace in them, and RBAC reads a ServiceAccount subject
    // without one as the RoleBinding's own namespace.
    { ...binding, metadata: { ...binding.metadata, namespace } },
  ];
}
