/**
 * Applies generated objects to a cluster with server-side apply through the project's KubeClient, in the order
 * given, reporting for each whether it was created, changed or already as generated. Running it twice changes
 * nothing the second time (every object reports `unchanged`, resourceVersions stay).
 *
 * Source: Kubernetes "Server-Side Apply" (PATCH application/apply-patch+yaml, fieldManager, force; a no-op apply
 * does not write), API concepts (dryRun=All), "Namespaces".
 */
import type { KubeClient } from '../../lib/k8s/client';
import { isStatus, KubeApiError } from '../../lib/k8s/errors';
import type { DesiredObject } from './meta';

/** Plural and scope of every kind the targets generate. */
const KINDS: Record<string, { plural: string; namespaced: boolean }> = {
  ApiServerSource: { plural: 'apiserversources', namespaced: true },
  Broker: { plural: 'brokers', namespaced: true },
  ClusterRole: { plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { plural: 'clusterrolebindings', namespaced: false },
  ConfigMap: { plural: 'configmaps', namespaced: true },
  CronJob: { plural: 'cronjobs', namespaced: true },
  CronJobTrigger: { plural: 'cronjobtriggers', namespaced: true },
  CustomResourceDefinition: { plural: 'customresourcedefinitions', namespaced: false },
  Deployment: { plural: 'deployments', namespaced: true },
  Function: { plural: 'functions', namespaced: true },
  Namespace: { plural: 'namespaces', namespaced: false },
  NetworkPolicy: { plural: 'networkpolicies', namespaced: true },
  PingSource: { plural: 'pingsources', namespaced: true },
  Role: { plural: 'roles', namespaced: true },
  RoleBinding: { plural: 'rolebindings', namespaced: true },
  Service: { plural: 'services', namespaced: true },
  ServiceAccount: { plural: 'serviceaccounts', namespaced: true },
  Trigger: { plural: 'triggers', namespaced: true },
};

/** @returns the API path of an object (`/apis/apps/v1/namespaces/ns/deployments/name`); throws for an unknown kind */
export function objectPath(object: DesiredObject): string {
  const kind = KINDS[object.kind];
  if (!kind)
    throw new Error(`scripts/deploy cannot apply kind ${object.kind}: add it to KINDS in scripts/deploy/apply.ts`);
  const prefix = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const { name, namespace } = object.metadata;
  if (kind.namespaced && !namespace) throw new Error(`${object.kind} ${name} has no namespace`);
  const scope = kind.namespaced ? `/namespaces/${encodeURIComponent(namespace!)}` : '';
  return `${prefix}${scope}/${kind.plural}/${encodeURIComponent(name)}`;
}

/** @returns `Kind namespace/name` or `Kind name` */
export function describe(object: DesiredObject): string {
  return `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;
}

/** What applying one object did. */
export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface ApplyOptions {
  /** validate on the server without persisting (`dryRun=All`) */
  serverDryRun?: boolean;
  /** called after each object */
  onApplied?: (object: DesiredObject, outcome: ApplyOutcome) => void;
  signal?: AbortSignal;
}

/**
 * @throws Error naming every namespace the objects need that does not exist (nothing is applied then)
 */
export async function requireNamespaces(
  client: KubeClient,
  objects: readonly DesiredObject[],
  signal?: AbortSignal,
): Promise<void> {
  const namespaces = [...new Set(objects.map((o) => o.metadata.namespace).filter((n): n is string => !!n))].sort();
  const found = await Promise.all(namespaces.map((name) => client.get({ kind: 'Namespace', name }, signal)));
  const missing = namespaces.filter((_, i) => !found[i]);
  if (missing.length > 0) {
    throw new Error(
      `namespace${missing.length > 1 ? 's' : ''} ${missing.join(', ')} do${missing.length > 1 ? '' : 'es'} not exist; ` +
        `create ${missing.length > 1 ? 'them' : 'it'} first: ${missing.map((n) => `kubectl create namespace ${n}`).join('; ')}`,
    );
  }
}

/**
 * Applies each object (server-side apply, field manager of the client, `force`) after reading it, in order.
 * @returns the outcome per object, in order
 * @throws Error naming the object and the API's answer; for a kind the cluster does not serve (404), says which
 *   API is missing
 */
export async function applyObjects(
  client: KubeClient,
  objects: readonly DesiredObject[],
  options: ApplyOptions = {},
): Promise<ApplyOutcome[]> {
  const outcomes: ApplyOutcome[] = [];
  for (const object of objects) {
    const path = objectPath(object);
    try {
      let before: DesiredObject | undefined;
      try {
        before = await client.request<DesiredObject>({
          verb: 'get',
          kind: object.kind,
          method: 'GET',
          path,
          signal: options.signal,
        });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
      const after = await client.request<DesiredObject>({
        verb: 'apply',
        kind: object.kind,
        method: 'PATCH',
        path,
        body: object,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: client.fieldManager, force: 'true', dryRun: options.serverDryRun ? 'All' : undefined },
        signal: options.signal,
      });
      const outcome: ApplyOutcome = !before
        ? 'created'
        : before.metadata.resourceVersion === after.metadata.resourceVersion
          ? 'unchanged'
          : 'configured';
      outcomes.push(outcome);
      options.onApplied?.(object, outcome);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) {
        throw new Error(
          `${describe(object)}: the cluster does not serve ${object.apiVersion} ${object.kind}` +
            `${/^(sources|eventing)\.knative\.dev\//.test(object.apiVersion) ? ' (install Knative Eventing first)' : ''}` +
            `${object.apiVersion.startsWith('kubeless.io') ? ' (install Kubeless first)' : ''}: ${error.message}`,
        );
      }
      throw new Error(`${describe(object)}: ${(error as Error).message}`);
    }
  }
  return outcomes;
}
