/**
 * Why the Nodes of a cluster's pods are going away (lib/plan/node-drain.ts), read once per Node per observation:
 * a switchover candidate must not sit on one, and a node drain moves masters off them.
 *
 * Source: Kubernetes API reference, core/v1 Node; Zalando operator parameter `node_readiness_label`.
 */
import type { V1Node } from '@kubernetes/client-node';
import { goingAwayReasons } from '../../plan/node-drain';
import type { SyncContext } from '../context';

/** Node name -> why it is going away (`''` when it is not); each Node is read once. */
export type NodeReasons = Map<string, Promise<string>>;

/**
 * @returns why the Node is going away, `''` when it is not (a missing Node is going away); throws KubeApiError
 *   when it cannot be read
 */
export function nodeGoingAwayReason(ctx: SyncContext, cache: NodeReasons, name: string): Promise<string> {
  let reason = cache.get(name);
  if (!reason) {
    reason = ctx.client
      .get<V1Node>({ kind: 'Node', name }, ctx.signal)
      .then((node) =>
        (node ? goingAwayReasons(node, ctx.config.node_readiness_label) : ['the node no longer exists']).join(', '),
      );
    cache.set(name, reason);
  }
  return reason;
}
