/**
 * A cluster running for real on the full plane: Patroni + PostgreSQL behind its pods (scripts/testenv/patroni-pods.ts)
 * and the operator's sync repeated until the role step has run against the elected master, which is what the tests
 * of pooler pods and logical backup pods need before they start.
 */
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import type { SyncContext } from '../../lib/sync/context';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { until, type PatroniTools } from '../../scripts/testenv/patroni-process';
import { PatroniPods } from '../../scripts/testenv/patroni-pods';

/**
 * Starts a Patroni member behind every database pod of `namespace` (the hosts file is `/etc/hosts`: the full phase
 * runs in scripts/testenv/netns.sh, with a private copy). Stop the result in `after`.
 */
export function startMembers(
  namespace: string,
  tools: PatroniTools,
  dir: string,
  log: (line: string) => void,
): PatroniPods {
  const pods = new PatroniPods({
    kubeconfig: process.env.KUBECONFIG!,
    namespace,
    tools,
    dir,
    hostsFile: '/etc/hosts',
    log,
  });
  pods.start();
  return pods;
}

/** Syncs the cluster until its `RolesSynced` condition is True (the master answered); fails after 3 minutes. */
export async function syncUntilRolesSynced(
  ctx: SyncContext,
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<void> {
  await until(
    'roles synced',
    180_000,
    async () => {
      await syncCluster(ctx, namespace, name);
      const object = await client.get({ kind: 'postgresql', namespace, name });
      const roles = (object?.status?.conditions as KubeObject[] | undefined)?.find((c) => c.type === 'RolesSynced');
      return roles?.status === 'True' ? true : undefined;
    },
    () => 'the RolesSynced condition did not turn True (PATRONI_PODS_LOG=1 shows the members)',
  );
}
