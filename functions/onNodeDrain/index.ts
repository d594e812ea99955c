/**
 * onNodeDrain: a Node was added or changed. When it is going away (cordoned, a drain taint, or a missing
 * `node_readiness_label`), moves the masters of the watched clusters off it by Patroni switchover, one step per
 * cluster per invocation, under each cluster's Lease (lib/sync/move-master.ts). While a cluster has work left (a
 * replica being recreated on a ready node, Patroni without a leader, a busy Lease) the answer is 503 with
 * `Retry-After`, so the event source calls again; a node that is not going away, or whose masters have moved,
 * is answered 200 with no write.
 */
import { watchedNamespaces } from '../../lib/model/config';
import { drainNode } from '../../lib/sync/drain/move-master';
import { configLocation } from '../../lib/sync/operator/config';
import { invalidConfigOutcome } from '../outcomes/config';
import { defineHandler } from '../../lib/runtime/handler';

/** Leaves this share of the invocation's budget for answering after the last step. */
const DEADLINE_MARGIN = 0.9;

export const onNodeDrain = defineHandler('onNodeDrain', async ({ event, operator, env, deadlineMs }) => {
  const nodeName = event.ref?.name ?? event.object?.metadata?.name;
  if (!nodeName) return { result: undefined, invalid: 'the event names no Node' };
  if (!operator.ok) return invalidConfigOutcome(operator);
  const ctx = { ...operator.ctx, deadline: Date.now() + Math.floor(deadlineMs * DEADLINE_MARGIN) };
  const result = await drainNode(ctx, nodeName, watchedNamespaces(ctx.config, configLocation(env).namespace));
  return { result, retryable: result.retryable, retryAfterSeconds: result.retryAfterSeconds };
});
