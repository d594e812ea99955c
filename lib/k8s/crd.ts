import type { KubeClient, KubeObject } from './client';

/**
 * Installs or updates a CustomResourceDefinition with server-side apply and waits until it is Established.
 * @param timeoutMs how long to wait (default 30000); throws when the CRD is not established by then
 */
export async function installCrd(client: KubeClient, crd: KubeObject, timeoutMs = 30_000): Promise<void> {
  await client.apply(crd);
  const name = crd.metadata!.name as string;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const live = await client.get({ kind: 'CustomResourceDefinition', name });
    if (live?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`CRD ${name} was not established within ${timeoutMs / 1000} s`);
}
