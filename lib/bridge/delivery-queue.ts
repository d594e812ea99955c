/**
 * The delivery queue: at-least-once delivery of HTTP requests to functions, one queue per object key.
 *
 * - **Order**: deliveries of one key are sent one after the other, never two at once (the function host serves
 *   requests concurrently, so two in flight could finish in either order).
 * - **Coalescing**: a mergeable delivery (an update) replaces the mergeable delivery of the same key and function
 *   still waiting behind it, so a burst becomes one delivery of the latest state. Adds and deletes are never
 *   merged or dropped. Leading edge: the first delivery for a quiet key (nothing sent for it within its `delayMs`)
 *   goes at once; one that follows a recent send waits `delayMs` (the coalescing window), and what arrives
 *   meanwhile merges into it. Merging never extends the wait, so a steady stream of updates still flows.
 * - **Retries**: network errors, timeouts, 429, 502, 503 and 504 are retried (p-retry counts the attempts): after
 *   exactly `Retry-After` when the answer carries one (the function knows what it waits for: a pod starting, a
 *   rollout step; a growing backoff would pace a rollout that has steps ready to take), else with exponential
 *   backoff (counted from the last answer that carried a `Retry-After`: a host killed after a long rollout of 503
 *   answers is tried again within 200 ms, not after the backoff of its hundredth attempt); any other status is
 *   logged and dropped (500 is a bug in the handler, 4xx is bad input: sending again
 *   would not help). A newer mergeable change of the same key and function, arriving while the delivery waits to
 *   retry, takes its place and ends the wait: the change (a pod now Ready) may be what the function waited for, so
 *   it goes at once instead of behind the retry.
 *
 * Sources: RFC 9110 §10.2.3 (Retry-After: seconds or HTTP-date); CloudEvents sdk-go retriable statuses
 * (`defaultRetriableErrors` in https://github.com/cloudevents/sdk-go/blob/main/v2/protocol/http/protocol.go).
 */
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../log/logger';
import type { BridgeMetrics, DeliveryOutcome } from './metrics';
import type { OutgoingRequest } from './cloudevent';

/** One request to make to one function. */
export interface Delivery {
  /** order key: deliveries with the same key are sent one at a time, in order */
  key: string;
  /** the function's registry name, e.g. `on-update` */
  target: string;
  /** where to POST; undefined when no URL is configured for the function (the delivery is dropped) */
  url: string | undefined;
  request: OutgoingRequest;
  /** may be replaced by a later mergeable delivery of the same key and target while it waits */
  mergeable: boolean;
  /** ms to wait before sending (the coalescing window); 0 sends at once */
  delayMs: number;
  /** what it is, for logs: e.g. `update postgresql ns/name` */
  description: string;
}

/** The function's answer: the HTTP status and its `Retry-After` header, if any. */
export interface HttpAnswer {
  status: number;
  retryAfter?: string | null;
}

/** Sends one request; resolves with any HTTP answer, rejects on network errors and timeouts. */
export type Sender = (delivery: Delivery, signal: AbortSignal) => Promise<HttpAnswer>;

/** What to do after an answer. */
export type Decision =
  { action: 'done' } | { action: 'retry'; reason: string; retryAfterMs?: number } | { action: 'drop'; reason: string };

/** Statuses worth sending again: too many requests, and gateway/unavailable answers. */
export const RETRYABLE_STATUSES: readonly number[] = [429, 502, 503, 504];

/**
 * @param value a `Retry-After` header: delay-seconds or an HTTP-date
 * @param nowMs the current time, ms since the epoch (to turn a date into a delay)
 * @returns the delay in ms (0 for a date in the past), or undefined when absent or unreadable
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * @param maxRetryAfterMs the longest `Retry-After` honoured (a longer one is cut to this); default 5 minutes
 * @returns the decision for an HTTP answer: 2xx done; 429/502/503/504 retry (with the `Retry-After` delay);
 *   anything else drop
 */
export function decide(answer: HttpAnswer, nowMs: number, maxRetryAfterMs = 300_000): Decision {
  if (answer.status >= 200 && answer.status < 300) return { action: 'done' };
  if (RETRYABLE_STATUSES.includes(answer.status)) {
    const retryAfterMs = parseRetryAfter(answer.retryAfter, nowMs);
    return retryAfterMs === undefined
      ? { action: 'retry', reason: String(answer.status) }
      : { action: 'retry', reason: String(answer.status), retryAfterMs: Math.min(retryAfterMs, maxRetryAfterMs) };
  }
  return { action: 'drop', reason: `status ${answer.status}` };
}

/** Exponential backoff between attempts. */
export interface RetryPolicy {
  /** wait after the first failure, ms; default 200 */
  minMs: number;
  /**
   * longest wait, ms; default 5000: a host that did not answer (killed, restarting) is tried again at least this
   * often, so work resumes within seconds of it coming back; a connection attempt to a dead host costs nothing
   */
  maxMs: number;
  /** growth per retry; default 2 */
  factor: number;
  /** retries before giving up; default Infinity (at-least-once: retry until it works or the bridge stops) */
  maxRetries: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { minMs: 200, maxMs: 5_000, factor: 2, maxRetries: Infinity };

// p-retry (through `retry`) precomputes this many timeouts; "forever" keeps reusing the last one.
const BACKOFF_STEPS = 10;

/** @returns the backoff waited after failed attempt `attempt` (1-based) under the policy, in ms */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  const step = Math.min(attempt, Number.isFinite(policy.maxRetries) ? policy.maxRetries : BACKOFF_STEPS) - 1;
  return Math.min(policy.minMs * policy.factor ** Math.max(0, step), policy.maxMs);
}

/** Timers, injectable for tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** resolves after ms, or rejects with the signal's reason when it aborts */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    }),
};

/** Queue settings. */
export interface QueueOptions {
  send: Sender;
  metrics: BridgeMetrics;
  log: Logger;
  /**
   * requests in flight at most, over all keys; default 16. A delivery waiting to retry holds none, so deliveries
   * answered 503 again and again (work that goes on, such as a rolling update) cannot starve other objects.
   */
  concurrency?: number;
  /** timeout of one attempt, ms; default 300000 (a sync can take a while; the host has its own deadline) */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** longest Retry-After honoured, ms; default 300000 */
  maxRetryAfterMs?: number;
  clock?: Clock;
}

interface Entry {
  delivery: Delivery;
  /** when the first change this entry carries was queued (latency is measured from it) */
  firstSeenAt: number;
  /** when it may be sent */
  readyAt: number;
}

interface KeyState {
  waiting: Entry[];
  busy: boolean;
  /** the delivery being sent, while it waits to retry: a newer mergeable change replaces it and wakes it */
  retrying?: { entry: Entry; wake: () => void };
}

class RetryableAnswer extends Error {
  constructor(
    readonly decision: Extract<Decision, { action: 'retry' }>,
    detail: string,
  ) {
    super(detail);
    this.name = 'RetryableAnswer';
  }
}

/** What `push` did with a delivery. */
export type PushResult = 'queued' | 'coalesced' | 'no_target' | 'stopped';

/** Per-key ordered, coalescing, retrying delivery queue. */
export class DeliveryQueue {
  private readonly keys = new Map<string, KeyState>();
  /** when a delivery of each key was last started (the leading edge: a quiet key's first delivery goes at once) */
  private readonly lastStarted = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly stopController = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly requestTimeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly maxRetryAfterMs: number;
  private readonly clock: Clock;
  private inFlight = 0;
  /** requests being sent now, and the attempts waiting for one of the `concurrency` permits */
  private sending = 0;
  private readonly permitWaiters: Array<() => void> = [];
  private waitingCount = 0;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly options: QueueOptions) {
    this.concurrency = options.concurrency ?? 16;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 300_000;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 300_000;
    this.clock = options.clock ?? systemClock;
  }

  /** Queues a delivery (or merges it into the waiting one it supersedes). */
  push(delivery: Delivery): PushResult {
    const { metrics, log } = this.options;
    if (this.stopped) return 'stopped';
    if (delivery.url === undefined) {
      metrics.deliveries.inc({ function: delivery.target, outcome: 'no_target' });
      log.debug('no URL configured for the function; change not delivered', {
        function: delivery.target,
        event: delivery.description,
      });
      return 'no_target';
    }
    const now = this.clock.now();
    let state = this.keys.get(delivery.key);
    if (!state) {
      state = { waiting: [], busy: false };
      this.keys.set(delivery.key, state);
    }
    const retrying = state.retrying;
    if (
      state.waiting.length === 0 &&
      retrying &&
      delivery.mergeable &&
      retrying.entry.delivery.mergeable &&
      retrying.entry.delivery.target === delivery.target
    ) {
      retrying.entry.delivery = delivery;
      metrics.coalesced.inc({ function: delivery.target });
      retrying.wake();
      return 'coalesced';
    }
    const last = state.waiting.at(-1);
    if (delivery.mergeable && last?.delivery.mergeable && last.delivery.target === delivery.target) {
      last.delivery = delivery;
      last.readyAt = Math.min(last.readyAt, now + delivery.delayMs);
      metrics.coalesced.inc({ function: delivery.target });
      this.pump();
      return 'coalesced';
    }
    const quiet =
      state.waiting.length === 0 && now - (this.lastStarted.get(delivery.key) ?? -Infinity) >= delivery.delayMs;
    state.waiting.push({ delivery, firstSeenAt: now, readyAt: quiet ? now : now + delivery.delayMs });
    this.waitingCount++;
    metrics.queueDepth.set(this.waitingCount);
    this.pump();
    return 'queued';
  }

  /** @returns deliveries waiting plus in flight */
  size(): number {
    return this.waitingCount + this.inFlight;
  }

  /** @returns a promise that resolves once nothing waits and nothing is in flight */
  idle(): Promise<void> {
    if (this.size() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops: waiting deliveries are abandoned at once, in-flight ones get `graceMs` to finish and are then
   * aborted (a restarted bridge lists every object again, so nothing is lost for good).
   * @returns how many deliveries were abandoned
   */
  async stop(graceMs = 5_000): Promise<number> {
    if (this.stopped) return 0;
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    let abandoned = 0;
    for (const state of this.keys.values()) {
      for (const entry of state.waiting) {
        this.options.metrics.deliveries.inc({ function: entry.delivery.target, outcome: 'abandoned' });
        abandoned++;
      }
      state.waiting = [];
    }
    this.waitingCount = 0;
    this.options.metrics.queueDepth.set(0);
    const inFlight = Promise.allSettled([...this.running]);
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, graceMs);
    });
    await Promise.race([inFlight, grace]);
    clearTimeout(graceTimer);
    abandoned += this.inFlight;
    this.stopController.abort(new Error('the bridge is stopping'));
    await inFlight;
    this.notifyIdle();
    return abandoned;
  }

  /** Starts every waiting delivery that is ready, within the concurrency limit; arms a timer for the next one. */
  private pump(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = this.clock.now();
    let nextReadyAt = Infinity;
    for (const [key, state] of this.keys) {
      const head = state.waiting[0];
      if (state.busy || !head) continue;
      if (head.readyAt > now) {
        nextReadyAt = Math.min(nextReadyAt, head.readyAt);
        continue;
      }
      state.waiting.shift();
      this.waitingCount--;
      state.busy = true;
      this.lastStarted.set(key, now);
      this.inFlight++;
      this.options.metrics.queueDepth.set(this.waitingCount);
      const run: Promise<void> = this.run(head, state).finally(() => {
        this.running.delete(run);
        state.busy = false;
        this.inFlight--;
        if (state.waiting.length === 0 && this.keys.get(key) === state) this.keys.delete(key);
        this.pump();
        if (this.size() === 0) this.notifyIdle();
      });
      this.running.add(run);
    }
    if (nextReadyAt !== Infinity) this.timer = this.clock.setTimeout(() => this.pump(), nextReadyAt - now);
    // Forget old starts now and then (a quiet key is one that has not been sent for longer than its window).
    if (this.lastStarted.size > 10_000) {
      for (const [key, at] of this.lastStarted) if (now - at > 60_000) this.lastStarted.delete(key);
    }
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Runs one request within the concurrency limit (waits for a permit). */
  private async withPermit<T>(send: () => Promise<T>): Promise<T> {
    while (this.sending >= this.concurrency) await new Promise<void>((resolve) => this.permitWaiters.push(resolve));
    this.sending++;
    this.options.metrics.inFlight.set(this.sending);
    try {
      return await send();
    } finally {
      this.sending--;
      this.options.metrics.inFlight.set(this.sending);
      this.permitWaiters.shift()?.();
    }
  }

  /** Delivers one entry with retries and records the outcome. */
  private async run(entry: Entry, state: KeyState): Promise<void> {
    const { delivery } = entry;
    const { metrics, log } = this.options;
    const fields = { function: delivery.target, event: delivery.description };
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.deliver(entry, state);
    } catch (error) {
      // Not an answer of the function: a bug here. Log it; the delivery is lost until the next list or cron.
      log.error('delivery failed unexpectedly', {
        ...fields,
        error: error instanceof Error ? error.message : String(error),
      });
      outcome = 'rejected';
    }
    metrics.deliveries.inc({ function: delivery.target, outcome });
    if (outcome === 'delivered') {
      metrics.latency.observe({ function: delivery.target }, (this.clock.now() - entry.firstSeenAt) / 1000);
      log.debug('delivered', fields);
    }
  }

  /**
   * @param entry its `delivery` may be replaced by {@link push} while it waits to retry; each attempt sends the
   *   latest one
   * @returns how the delivery ended; attempts are retried per the policy until the bridge stops
   */
  private async deliver(entry: Entry, state: KeyState): Promise<DeliveryOutcome> {
    const { metrics, log } = this.options;
    const signal = this.stopController.signal;
    const policy = this.retry;
    const fields = () => ({ function: entry.delivery.target, event: entry.delivery.description });
    /** failed attempts since the last answer with a Retry-After: what the backoff grows with */
    let withoutRetryAfter = 0;
    try {
      const decision = await pRetry(
        async () => {
          let answer: HttpAnswer;
          try {
            answer = await this.withPermit(() =>
              this.options.send(entry.delivery, AbortSignal.any([signal, AbortSignal.timeout(this.requestTimeoutMs)])),
            );
          } catch (error) {
            if (signal.aborted) throw new AbortError('the bridge is stopping');
            const detail =
              error instanceof Error
                ? error.cause instanceof Error
                  ? `${error.message}: ${error.cause.message}`
                  : error.message
                : String(error);
            throw new RetryableAnswer({ action: 'retry', reason: 'network' }, detail);
          }
          const decision = decide(answer, this.clock.now(), this.maxRetryAfterMs);
          if (decision.action === 'retry') throw new RetryableAnswer(decision, `status ${answer.status}`);
          return decision;
        },
        {
          signal,
          retries: Number.isFinite(policy.maxRetries) ? policy.maxRetries : BACKOFF_STEPS,
          forever: !Number.isFinite(policy.maxRetries),
          // Every wait is taken in onFailedAttempt (Retry-After or the backoff), so p-retry itself waits none.
          minTimeout: 0,
          maxTimeout: 0,
          randomize: false,
          onFailedAttempt: async (error) => {
            if (!(error instanceof RetryableAnswer)) return;
            const lastAttempt = Number.isFinite(policy.maxRetries) && error.retriesLeft <= 0;
            if (lastAttempt) return;
            metrics.retries.inc({ function: entry.delivery.target, reason: error.decision.reason });
            const retryAfterMs = error.decision.retryAfterMs;
            withoutRetryAfter = retryAfterMs === undefined ? withoutRetryAfter + 1 : 0;
            const waitMs = retryAfterMs ?? backoffMs(withoutRetryAfter, policy);
            log.warn('delivery failed; retrying', {
              ...fields(),
              attempt: error.attemptNumber,
              reason: error.message,
              retryInMs: waitMs,
            });
            const woken = new AbortController();
            state.retrying = { entry, wake: () => woken.abort() };
            try {
              await this.clock.sleep(waitMs, AbortSignal.any([signal, woken.signal]));
            } catch (reason) {
              // Woken by a newer change (it replaced the delivery): retry now. Stopping still ends it.
              if (signal.aborted || !woken.signal.aborted) throw reason;
              log.debug('retrying at once: a newer change arrived', fields());
            } finally {
              state.retrying = undefined;
            }
          },
        },
      );
      if (decision.action === 'drop') {
        log.error('function refused the event; dropped (not retried)', { ...fields(), reason: decision.reason });
        return 'rejected';
      }
      return 'delivered';
    } catch (error) {
      if (signal.aborted) {
        log.warn('delivery abandoned: the bridge is stopping', fields());
        return 'abandoned';
      }
      if (error instanceof RetryableAnswer) {
        log.error('delivery failed; retries exhausted', { ...fields(), reason: error.message });
        return 'gave_up';
      }
      throw error;
    }
  }
}

/**
 * The real sender: POSTs the request with fetch and drains the answer.
 * @returns the status and Retry-After; rejects on network errors, timeouts and aborts
 */
export const fetchSender: Sender = async (delivery, signal) => {
  const response = await fetch(delivery.url!, {
    method: 'POST',
    headers: delivery.request.headers,
    body: delivery.request.body,
    signal,
  });
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after') };
};
