// The delivery queue without a network: a scripted sender and a manual clock. Per-object order, coalescing,
// retry decisions (Retry-After, network errors, statuses that are dropped) and stop.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeliveryQueue,
  backoffMs,
  decide,
  parseRetryAfter,
  type Clock,
  type Delivery,
  type HttpAnswer,
  type QueueOptions,
} from '../../../lib/bridge/delivery-queue';
import { counterValue, createBridgeMetrics } from '../../../lib/bridge/metrics';
import { silentLogger } from '../../../lib/log/logger';

/** A clock whose time only moves on `advance`; `sleep` records the wait and returns at once. */
class ManualClock implements Clock {
  time = 1_000_000;
  sleeps: number[] = [];
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };
  sleep = async (ms: number, _signal?: AbortSignal) => {
    this.sleeps.push(ms);
  };
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.fn();
  }
}

interface Call {
  delivery: Delivery;
  answer: (a: HttpAnswer | Error) => void;
}

/** A sender whose calls wait until the test answers them (or answers at once from a script). */
class ScriptedSender {
  calls: Call[] = [];
  open = new Map<string, number>();
  maxOpenPerKey = 0;
  maxOpen = 0;
  constructor(private readonly script?: (delivery: Delivery, n: number) => HttpAnswer | Error) {}
  send = (delivery: Delivery, signal: AbortSignal): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const n = this.calls.length;
      this.open.set(delivery.key, (this.open.get(delivery.key) ?? 0) + 1);
      this.maxOpenPerKey = Math.max(this.maxOpenPerKey, this.open.get(delivery.key)!);
      this.maxOpen = Math.max(
        this.maxOpen,
        [...this.open.values()].reduce((a, b) => a + b, 0),
      );
      const answer = (a: HttpAnswer | Error) => {
        this.open.set(delivery.key, this.open.get(delivery.key)! - 1);
        if (a instanceof Error) reject(a);
        else resolve(a);
      };
      signal.addEventListener('abort', () => answer(new Error('aborted')), { once: true });
      this.calls.push({ delivery, answer });
      if (this.script) queueMicrotask(() => answer(this.script!(delivery, n)));
    });
  bodies = () => this.calls.map((c) => `${c.delivery.target}:${c.delivery.request.body}`);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function delivery(key: string, target: string, body: string, mergeable = false, delayMs = 0): Delivery {
  return {
    key,
    target,
    url: 'http://fn.test/',
    request: { headers: {}, body },
    mergeable,
    delayMs,
    description: `${target} ${body}`,
  };
}

function queueWith(sender: ScriptedSender, clock = new ManualClock(), extra: Partial<QueueOptions> = {}) {
  const metrics = createBridgeMetrics(false);
  const queue = new DeliveryQueue({
    send: sender.send,
    metrics,
    log: silentLogger,
    clock,
    retry: { minMs: 1, maxMs: 2 },
    ...extra,
  });
  return { queue, metrics, clock };
}

describe('decide and Retry-After', () => {
  it('2xx is done; 429, 502, 503, 504 retry; 500 and 4xx are dropped', () => {
    assert.deepEqual(decide({ status: 200 }, 0), { action: 'done' });
    assert.deepEqual(decide({ status: 204 }, 0), { action: 'done' });
    for (const status of [429, 502, 503, 504]) assert.equal(decide({ status }, 0).action, 'retry', String(status));
    for (const status of [400, 404, 409, 413, 500, 501])
      assert.deepEqual(decide({ status }, 0), { action: 'drop', reason: `status ${status}` });
  });

  it('reads Retry-After as seconds or an HTTP date, and caps it', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.deepEqual(decide({ status: 503, retryAfter: '2' }, now), {
      action: 'retry',
      reason: '503',
      retryAfterMs: 2000,
    });
    assert.deepEqual(decide({ status: 429, retryAfter: '86400' }, now, 60_000), {
      action: 'retry',
      reason: '429',
      retryAfterMs: 60_000,
    });
  });

  it('backoff doubles from minMs up to maxMs', () => {
    const policy = { minMs: 200, maxMs: 30_000, factor: 2, maxRetries: Infinity };
    assert.deepEqual(
      [1, 2, 3, 8, 9, 50].map((n) => backoffMs(n, policy)),
      [200, 400, 800, 25_600, 30_000, 30_000],
    );
  });
});

describe('DeliveryQueue order', () => {
  it('sends the deliveries of one object one at a time, in order, and different objects in parallel', async () => {
    const sender = new ScriptedSender();
    const { queue } = queueWith(sender);
    queue.push(delivery('pg/ns/a', 'on-create', 'a1'));
    queue.push(delivery('pg/ns/a', 'on-update', 'a2', true));
    queue.push(delivery('pg/ns/a', 'on-delete', 'a3'));
    queue.push(delivery('pg/ns/b', 'on-create', 'b1'));
    await tick();
    assert.deepEqual(sender.bodies(), ['on-create:a1', 'on-create:b1'], 'a and b in flight together, a2 waits for a1');
    sender.calls[0]!.answer({ status: 200 });
    await tick();
    assert.deepEqual(sender.bodies().slice(2), ['on-update:a2']);
    sender.calls[2]!.answer({ status: 200 });
    await tick();
    assert.deepEqual(sender.bodies().slice(3), ['on-delete:a3']);
    sender.calls[3]!.answer({ status: 200 });
    sender.calls[1]!.answer({ status: 200 });
    await queue.idle();
    assert.equal(sender.maxOpenPerKey, 1);
  });

  it('keeps at most `concurrency` deliveries in flight', async () => {
    const sender = new ScriptedSender(() => ({ status: 200 }));
    const { queue, metrics } = queueWith(sender, new ManualClock(), { concurrency: 2 });
    for (let i = 0; i < 6; i++) queue.push(delivery(`pg/ns/${i}`, 'on-create', String(i)));
    await queue.idle();
    assert.equal(sender.calls.length, 6);
    assert.equal(sender.maxOpen, 2);
    assert.equal(await counterValue(metrics.deliveries, { function: 'on-create', outcome: 'delivered' }), 6);
  });

  it('a delivery waiting to retry holds no slot: others go through meanwhile', async () => {
    // Key a first answers 503 with Retry-After 60 s (a rolling update that goes on), then 200.
    let aCalls = 0;
    const sender = new ScriptedSender((d) =>
      d.key === 'pg/ns/a' && aCalls++ === 0 ? { status: 503, retryAfter: '60' } : { status: 200 },
    );
    const clock = new ManualClock();
    const { queue, metrics } = queueWith(sender, clock, { concurrency: 1 });
    queue.push(delivery('pg/ns/a', 'on-update', 'a'));
    queue.push(delivery('pg/ns/b', 'on-update', 'b'));
    await tick();
    clock.advance(60_000);
    await queue.idle();
    // With the slot held through the wait, b would have gone only after a's retry: a, a, b.
    assert.deepEqual(sender.bodies(), ['on-update:a', 'on-update:b', 'on-update:a'], 'b went while a waited to retry');
    assert.equal(await counterValue(metrics.deliveries, { function: 'on-update', outcome: 'delivered' }), 2);
  });
});

describe('DeliveryQueue coalescing', () => {
  it('turns a burst of updates behind an in-flight delivery into one delivery of the latest state', async () => {
    const sender = new ScriptedSender();
    const { queue, metrics } = queueWith(sender);
    queue.push(delivery('pg/ns/a', 'on-update', 'v0', true));
    await tick();
    const results = Array.from({ length: 20 }, (_, i) =>
      queue.push(delivery('pg/ns/a', 'on-update', `v${i + 1}`, true)),
    );
    assert.deepEqual([results[0], results[19]], ['queued', 'coalesced']);
    sender.calls[0]!.answer({ status: 200 });
    await tick();
    sender.calls[1]!.answer({ status: 200 });
    await queue.idle();
    assert.deepEqual(sender.bodies(), ['on-update:v0', 'on-update:v20']);
    assert.equal(await counterValue(metrics.coalesced, { function: 'on-update' }), 19);
  });

  it('never merges or drops adds and deletes', async () => {
    const sender = new ScriptedSender();
    const { queue } = queueWith(sender);
    queue.push(delivery('pg/ns/a', 'on-update', 'u0', true));
    await tick();
    for (const [target, body, mergeable] of [
      ['on-delete', 'd1', false],
      ['on-create', 'c2', false],
      ['on-update', 'u3', true],
      ['on-update', 'u4', true],
      ['on-delete', 'd5', false],
    ] as const)
      queue.push(delivery('pg/ns/a', target, body, mergeable));
    for (let i = 0; i < 5; i++) {
      sender.calls[i]?.answer({ status: 200 });
      await tick();
    }
    await queue.idle();
    assert.deepEqual(sender.bodies(), ['on-update:u0', 'on-delete:d1', 'on-create:c2', 'on-update:u4', 'on-delete:d5']);
  });

  it("a quiet object's first update goes at once; what follows within the window is held and merged; urgent goes at once", async () => {
    const sender = new ScriptedSender(() => ({ status: 200 }));
    const { queue, clock } = queueWith(sender);
    queue.push(delivery('pg/ns/a', 'on-update', 'w0', true, 200));
    await queue.idle();
    assert.deepEqual(sender.bodies(), ['on-update:w0'], 'the leading edge: no wait');
    queue.push(delivery('pg/ns/a', 'on-update', 'w1', true, 200));
    clock.advance(150);
    queue.push(delivery('pg/ns/a', 'on-update', 'w2', true, 200));
    await tick();
    assert.equal(sender.calls.length, 1, 'nothing more sent inside the window');
    clock.advance(50);
    await queue.idle();
    assert.deepEqual(sender.bodies(), ['on-update:w0', 'on-update:w2'], 'merging does not extend the window');

    queue.push(delivery('pg/ns/a', 'on-update', 'w3', true, 200));
    queue.push(delivery('pg/ns/a', 'on-update', 'sync-now', true, 0));
    await queue.idle();
    assert.deepEqual(
      sender.bodies(),
      ['on-update:w0', 'on-update:w2', 'on-update:sync-now'],
      'an urgent update goes without waiting',
    );

    clock.advance(1_000);
    queue.push(delivery('pg/ns/a', 'on-update', 'later', true, 200));
    await queue.idle();
    assert.equal(sender.bodies().at(-1), 'on-update:later', 'quiet again: at once');
  });
});

describe('DeliveryQueue retries', () => {
  it('retries 503 after exactly Retry-After (not the backoff), then delivers once', async () => {
    const sender = new ScriptedSender((_, n) => (n === 0 ? { status: 503, retryAfter: '2' } : { status: 200 }));
    const { queue, metrics, clock } = queueWith(sender);
    queue.push(delivery('pg/ns/a', 'on-create', 'x'));
    await queue.idle();
    assert.equal(sender.calls.length, 2);
    assert.deepEqual(clock.sleeps, [2000], 'Retry-After 2 s, whatever the backoff');
    assert.equal(await counterValue(metrics.retries, { function: 'on-create', reason: '503' }), 1);
    assert.equal(await counterValue(metrics.deliveries, { function: 'on-create', outcome: 'delivered' }), 1);
  });

  it('a Retry-After after a long backoff is still honoured as given: the pacing never outgrows what the function asks', async () => {
    const sender = new ScriptedSender((_, n) =>
      n < 6 ? { status: 503 } : n === 6 ? { status: 503, retryAfter: '2' } : { status: 200 },
    );
    const { queue, clock } = queueWith(sender, new ManualClock(), {
      retry: { minMs: 1000, maxMs: 30_000, factor: 2, maxRetries: Infinity },
    });
    queue.push(delivery('pg/ns/a', 'on-create', 'x'));
    await queue.idle();
    assert.equal(sender.calls.length, 8);
    assert.deepEqual(clock.sleeps, [1000, 2000, 4000, 8000, 16_000, 30_000, 2000]);
  });

  it('a host that stops answering after a run of Retry-After answers is tried again at the backoff start', async () => {
    // A rollout answered 503 + Retry-After many times, then its host was killed (network errors), then came back.
    const answers: (HttpAnswer | Error)[] = [
      ...Array.from({ length: 12 }, () => ({ status: 503, retryAfter: '3' })),
      new TypeError('fetch failed'),
      new TypeError('fetch failed'),
      { status: 200 },
    ];
    const sender = new ScriptedSender((_, n) => answers[n]!);
    const { queue, clock } = queueWith(sender, new ManualClock(), {
      retry: { minMs: 200, maxMs: 5_000, factor: 2, maxRetries: Infinity },
    });
    queue.push(delivery('cm/ns/postgres-operator', 'on-operator-config-change', 'x'));
    await queue.idle();
    assert.deepEqual(clock.sleeps.slice(12), [200, 400], 'the backoff counts from the last Retry-After');
  });

  it('retries network errors and 429 with backoff only', async () => {
    const answers: (HttpAnswer | Error)[] = [new TypeError('fetch failed'), { status: 429 }, { status: 200 }];
    const sender = new ScriptedSender((_, n) => answers[n]!);
    const { queue, metrics, clock } = queueWith(sender);
    queue.push(delivery('pg/ns/a', 'on-create', 'x'));
    await queue.idle();
    assert.equal(sender.calls.length, 3);
    assert.deepEqual(clock.sleeps, [1, 2], 'the backoff doubles');
    assert.equal(await counterValue(metrics.retries, { reason: 'network' }), 1);
    assert.equal(await counterValue(metrics.retries, { reason: '429' }), 1);
  });

  it('drops 500 and 400 after one attempt (a handler bug or bad input), and goes on with the next delivery', async () => {
    const sender = new ScriptedSender((d) => ({
      status: d.request.body === 'bug' ? 500 : d.request.body === 'bad' ? 400 : 200,
    }));
    const { queue, metrics } = queueWith(sender);
    queue.push(delivery('pg/ns/a', 'on-create', 'bug'));
    queue.push(delivery('pg/ns/a', 'on-update', 'bad'));
    queue.push(delivery('pg/ns/a', 'on-delete', 'ok'));
    await queue.idle();
    assert.deepEqual(sender.bodies(), ['on-create:bug', 'on-update:bad', 'on-delete:ok']);
    assert.equal(await counterValue(metrics.deliveries, { outcome: 'rejected' }), 2);
    assert.equal(await counterValue(metrics.retries, {}), 0);
  });

  it('gives up after maxRetries when a retry budget is set', async () => {
    const sender = new ScriptedSender(() => ({ status: 503 }));
    const { queue, metrics } = queueWith(sender, new ManualClock(), { retry: { minMs: 1, maxMs: 1, maxRetries: 2 } });
    queue.push(delivery('pg/ns/a', 'on-create', 'x'));
    await queue.idle();
    assert.equal(sender.calls.length, 3);
    assert.equal(await counterValue(metrics.deliveries, { outcome: 'gave_up' }), 1);
  });

  it('counts a function without URL as no_target and sends nothing', async () => {
    const sender = new ScriptedSender(() => ({ status: 200 }));
    const { queue, metrics } = queueWith(sender);
    assert.equal(queue.push({ ...delivery('pg/ns/a', 'on-create', 'x'), url: undefined }), 'no_target');
    await queue.idle();
    assert.equal(sender.calls.length, 0);
    assert.equal(await counterValue(metrics.deliveries, { function: 'on-create', outcome: 'no_target' }), 1);
  });
});

/** A clock whose `sleep` lasts until `advance` passes its end, or its signal aborts. */
class SleepingClock extends ManualClock {
  override sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      this.sleeps.push(ms);
      const id = this.setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          this.clearTimeout(id);
          reject(signal.reason);
        },
        { once: true },
      );
    });
}

describe('DeliveryQueue: a newer change during a retry wait', () => {
  it('replaces the waiting delivery and sends it at once (a pod now Ready is what the function waited for)', async () => {
    const sender = new ScriptedSender((_, n) => (n === 0 ? { status: 503, retryAfter: '60' } : { status: 200 }));
    const clock = new SleepingClock();
    const { queue, metrics } = queueWith(sender, clock);
    queue.push(delivery('sts/ns/a', 'on-update', 'not ready', true));
    await tick();
    await tick();
    assert.deepEqual(clock.sleeps, [60_000], 'the first answer asked to wait 60 s');
    assert.equal(queue.push(delivery('sts/ns/a', 'on-update', 'ready', true)), 'coalesced');
    await queue.idle();
    assert.deepEqual(sender.bodies(), ['on-update:not ready', 'on-update:ready'], 'the newer state went at once');
    assert.equal(clock.time, 1_000_000, 'without waiting out the Retry-After');
    assert.equal(await counterValue(metrics.deliveries, { function: 'on-update', outcome: 'delivered' }), 1);
  });

  it('an add, or an update for another function, waits behind the retry as before', async () => {
    const sender = new ScriptedSender((_, n) => (n === 0 ? { status: 503, retryAfter: '60' } : { status: 200 }));
    const clock = new SleepingClock();
    const { queue } = queueWith(sender, clock);
    queue.push(delivery('pg/ns/a', 'on-update', 'u1', true));
    await tick();
    await tick();
    assert.equal(queue.push(delivery('pg/ns/a', 'on-create', 'add')), 'queued');
    assert.equal(queue.push(delivery('pg/ns/a', 'on-delete', 'u2', true)), 'queued');
    await tick();
    assert.equal(sender.calls.length, 1, 'nothing else is sent during the wait');
    clock.advance(60_000);
    await queue.idle();
    assert.deepEqual(sender.bodies(), ['on-update:u1', 'on-update:u1', 'on-create:add', 'on-delete:u2']);
  });
});

describe('DeliveryQueue stop', () => {
  it('lets in-flight deliveries finish within the grace period and abandons the waiting ones', async () => {
    const sender = new ScriptedSender();
    const { queue, metrics } = queueWith(sender);
    queue.push(delivery('pg/ns/a', 'on-create', 'a1'));
    queue.push(delivery('pg/ns/a', 'on-update', 'a2', true));
    await tick();
    const stopped = queue.stop(5_000);
    sender.calls[0]!.answer({ status: 200 });
    assert.equal(await stopped, 1);
    assert.equal(await counterValue(metrics.deliveries, { outcome: 'delivered' }), 1);
    assert.equal(await counterValue(metrics.deliveries, { function: 'on-update', outcome: 'abandoned' }), 1);
    assert.equal(queue.push(delivery('pg/ns/a', 'on-update', 'late', true)), 'stopped');
  });

  it('aborts an in-flight delivery that outlives the grace period', async () => {
    const sender = new ScriptedSender();
    const { queue, metrics } = queueWith(sender);
    queue.push(delivery('pg/ns/a', 'on-create', 'hangs'));
    await tick();
    assert.equal(await queue.stop(20), 1);
    assert.equal(await counterValue(metrics.deliveries, { function: 'on-create', outcome: 'abandoned' }), 1);
    assert.equal(queue.size(), 0);
  });
});
