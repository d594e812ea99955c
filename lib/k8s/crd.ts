import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import type { KubeClient, ObjectToWrite } from './client';
import { nameOf } from './meta';

/**
 * Installs or updates a CustomResourceDefinition with server-side apply and waits until it is Established.
 * @param timeoutMs how long to wait (default 30000); throws when the CRD is not established by then
 */
export async function installCrd(client: KubeClient, crd: ObjectToWrite, timeoutMs = 30_000): Promise<void> {
  await client.apply(crd);
  const name = nameOf(crd);
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const live = await client.get<V1CustomResourceDefinition>({ kind: 'CustomResourceDefinition', name });
    if (live?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`CRD ${name} was not established within ${timeoutMs / 1000} s`);
}
