/**
 * What every function does around its own logic: normalize the event envelope, give the invocation a deadline,
 * read the operator config, and turn the outcome into the reply event sources understand. A retryable outcome is
 * answered 503 with `Retry-After` (Knative's sdk-go and our bridge retry 503, never 500), invalid input 400, and
 * everything else 200 with a JSON summary. Works under this project's host and under the original Kubeless runtime,
 * which passes Express' response as `event.extensions.response`.
 *
 * Source: runtime research §2 (Kubeless event/context), §3.3 (response contract); design §5.
 */
import { setMaxListeners } from 'node:events';
import { KubeClient } from '../k8s/client';
import { functionSpec } from '../registry/functions';
import { isRetryable } from '../k8s/errors';
import { createLogger, type Logger } from '../log/logger';
import { EnvelopeError, parseEvent, type KubelessEvent, type NormalizedEvent } from './envelope';
import { createOperatorContext, type OperatorContextResult } from '../sync/operator/load';

/** What a function's logic gets. */
export interface Invocation<P = unknown> {
  /** what the function's `prefetch` started (see {@link HandlerOptions}), if it started anything */
  prefetched?: Promise<P>;
  event: NormalizedEvent;
  /** the operator config read for this invocation, or its errors */
  operator: OperatorContextResult;
  client: KubeClient;
  log: Logger;
  /** aborts at the invocation's deadline */
  signal: AbortSignal;
  /** the invocation's time budget in ms, counted from its start */
  deadlineMs: number;
  env: Record<string, string | undefined>;
}

/** What a function's logic returns. */
export interface Outcome {
  /** a JSON-able summary for the reply and the log */
  result: unknown;
  /** ask the sender to deliver again later (503) */
  retryable?: boolean;
  /** seconds for `Retry-After`; default 5 */
  retryAfterSeconds?: number;
  /** the event was not acceptable (400) */
  invalid?: string;
}

interface KubelessContext {
  'function-name'?: string;
  timeout?: number;
}
interface ResponseLike {
  status?: (code: number) => unknown;
  set?: (name: string, value: string) => unknown;
}

let sharedClient: KubeClient | undefined;

/** One client per process: the runtime keeps module state between invocations (keep-alive connections). */
function client(): KubeClient {
  sharedClient ??= KubeClient.fromDefault();
  return sharedClient;
}

/**
 * The deadline of one invocation in ms: `FUNCTION_DEADLINE_MS` when set, else 80% of the platform timeout
 * (`context.timeout` seconds, Kubeless' `FUNC_TIMEOUT`, default 180), so the function answers before the platform
 * gives up on it.
 */
export function deadlineMs(context: KubelessContext, env: Record<string, string | undefined>): number {
  if (env.FUNCTION_DEADLINE_MS) return Number(env.FUNCTION_DEADLINE_MS);
  return Math.floor((context.timeout ?? 180) * 1000 * 0.8);
}

function reply(event: KubelessEvent, status: number, headers: Record<string, string> = {}): void {
  const response = (event.extensions as { response?: ResponseLike } | undefined)?.response;
  if (status !== 200) response?.status?.(status);
  for (const [name, value] of Object.entries(headers)) response?.set?.(name, value);
}

/** How a function runs besides its logic. */
export interface HandlerOptions<P> {
  /**
   * reads to start as soon as the event is parsed, beside the operator config (so they cannot depend on it), e.g.
   * the cluster's Lease before a sync: the logic gets the promise as `prefetched`. Undefined: nothing to start. A
   * failure is the logic's to see when it awaits the promise.
   */
  prefetch?: (event: NormalizedEvent, client: KubeClient, signal: AbortSignal) => Promise<P> | undefined;
}

/**
 * Wraps a function's logic as a Kubeless handler `(event, context) => Promise<reply>`.
 * @param name the export name, for logs
 */
export function defineHandler<P = unknown>(
  name: string,
  logic: (invocation: Invocation<P>) => Promise<Outcome>,
  options: HandlerOptions<P> = {},
) {
  return async (rawEvent: KubelessEvent, context: KubelessContext = {}): Promise<Record<string, unknown>> => {
    const env = process.env;
    const log = createLogger(undefined, env.LOG_LEVEL === 'debug' ? 'debug' : 'info').with({ function: name });
    let event: NormalizedEvent;
    try {
      event = parseEvent(rawEvent ?? {});
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      reply(rawEvent, 400);
      log.warn('Rejected event', { error: error.message });
      return { ok: false, function: name, error: error.message };
    }
    const summary = { function: name, action: event.action, ref: event.ref, eventId: event.id };
    if (event.ignored) return { ok: true, ...summary, ignored: event.ignored };
    // A Knative ApiServerSource sends every event type of its resource to its sink; act on this function's own.
    const trigger = functionSpec(name).trigger;
    if (trigger.type === 'resource' && event.action !== 'sync' && !trigger.actions.includes(event.action)) {
      return {
        ok: true,
        ...summary,
        ignored: `${name} handles ${trigger.actions.join('/')} events, not ${event.action}`,
      };
    }
    const budget = deadlineMs(context, env);
    const signal = AbortSignal.timeout(budget);
    // Every request of the invocation listens to it, a dozen at once when a sync reads a cluster.
    setMaxListeners(100, signal);
    try {
      const kube = client();
      const prefetched = options.prefetch?.(event, kube, signal);
      // Seen by the logic when it awaits it; a logic that does not (bad config) leaves its failure unread.
      prefetched?.catch(() => undefined);
      const operator = await createOperatorContext(kube, log, env, signal, event.configVersion);
      const outcome = await logic({ event, operator, prefetched, client: kube, log, signal, env, deadlineMs: budget });
      if (outcome.invalid) {
        reply(rawEvent, 400);
        return { ok: false, ...summary, error: outcome.invalid };
      }
      if (outcome.retryable) reply(rawEvent, 503, { 'Retry-After': String(outcome.retryAfterSeconds ?? 5) });
      log.info('Handled event', {
        ...summary,
        ref: event.ref && `${event.ref.namespace ?? ''}/${event.ref.name}`,
        retryable: outcome.retryable ?? false,
      });
      return { ok: !outcome.retryable, ...summary, result: outcome.result };
    } catch (error) {
      // Unexpected errors: an unavailable API (or our deadline) is worth retrying; anything else is a bug → 500.
      const retryable = isRetryable(error) || signal.aborted;
      log.error('Function failed', { ...summary, ref: undefined, error: (error as Error).message, retryable });
      if (!retryable) throw error;
      reply(rawEvent, 503, { 'Retry-After': '10' });
      return { ok: false, ...summary, error: (error as Error).message };
    }
  };
}

/** @returns the namespace and name of the object an event is about, or undefined when it names none */
export function eventKey(event: NormalizedEvent): { namespace: string; name: string } | undefined {
  const name = event.ref?.name ?? event.object?.metadata?.name;
  const namespace = event.ref?.namespace ?? event.object?.metadata?.namespace;
  return name && namespace ? { namespace, name } : undefined;
}
