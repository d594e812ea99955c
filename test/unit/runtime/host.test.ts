/**
 * The function host on loopback with small real CommonJS modules as functions: the Kubeless contract (routes,
 * event and context, result mapping) and what it adds (408 at FUNC_TIMEOUT, 400 for bad JSON, 413, metrics).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../lib/log/logger';
import { startHost, type RunningHost } from '../../../lib/runtime/host';

const dir = mkdtempSync(path.join(tmpdir(), 'host-'));
writeFileSync(
  path.join(dir, 'handler.js'),
  `
exports.echo = async (event, context) => ({ data: event.data, id: event['event-id'], fn: context['function-name'], timeout: context.timeout,
  ce: event.extensions.request.headers['ce-type'] });
exports.text = () => 'plain';
exports.busy = (event) => { event.extensions.response.status(503).set('Retry-After', '7'); return { retry: true }; };
exports.fail = async () => { throw new Error('boom'); };
exports.slow = () => new Promise((resolve) => setTimeout(() => resolve('late'), 3000));
`,
);

let hosts: Record<string, RunningHost> = {};
const url = (name: string) => `http://127.0.0.1:${hosts[name]!.port}/`;

describe('function host (Kubeless runtime contract)', () => {
  before(async () => {
    for (const handlerName of ['echo', 'text', 'busy', 'fail', 'slow']) {
      hosts[`${handlerName}-empty`] = await startHost({
        moduleName: 'handler',
        handlerName,
        moduleDir: dir,
        port: 0,
        host: '127.0.0.1',
        timeoutSeconds: 30,
        bodyLimitBytes: 1024,
        emptySuccessReply: true,
        log: silentLogger,
      });
      hosts[handlerName] = await startHost({
        moduleName: 'handler',
        handlerName,
        moduleDir: dir,
        port: 0,
        host: '127.0.0.1',
        timeoutSeconds: handlerName === 'slow' ? 1 : 30,
        bodyLimitBytes: 1024,
        log: silentLogger,
      });
    }
  });
  after(async () => {
    await Promise.all(Object.values(hosts).map((h) => h.close(100)));
    hosts = {};
  });

  it('passes the parsed JSON body, event-* headers and context, and replies JSON', async () => {
    const response = await fetch(url('echo'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'event-id': 'e1', 'ce-type': 't' },
      body: '{"a":1}',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { data: { a: 1 }, id: 'e1', fn: 'echo', timeout: 30, ce: 't' });
  });

  it('FUNC_EMPTY_SUCCESS_REPLY: a success has no body (as a Knative Broker wants), a 503 keeps its body and Retry-After', async () => {
    const ok = await fetch(url('echo-empty'), { method: 'POST', body: '{}' });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '');
    const busy = await fetch(url('busy-empty'), { method: 'POST', body: '{}' });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get('retry-after'), '7');
    assert.deepEqual(await busy.json(), { retry: true });
    const failed = await fetch(url('fail-empty'), { method: 'POST', body: '{}' });
    assert.equal(failed.status, 500);
  });

  it('gives an empty body as {} (cron without payload), on any path and method', async () => {
    const response = await fetch(`${url('echo')}any/path`);
    assert.deepEqual(((await response.json()) as { data: unknown }).data, {});
  });

  it('sends strings as they are, and honours a status set on the response', async () => {
    assert.equal(await (await fetch(url('text'), { method: 'POST' })).text(), 'plain');
    const busy = await fetch(url('busy'), { method: 'POST' });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get('retry-after'), '7');
  });

  it('answers 500 for a throw, 400 for bad JSON, 413 over the body limit, 408 past FUNC_TIMEOUT', async () => {
    assert.equal((await fetch(url('fail'), { method: 'POST' })).status, 500);
    const bad = await fetch(url('echo'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /invalid JSON body/);
    assert.equal((await fetch(url('echo'), { method: 'POST', body: 'x'.repeat(4096) })).status, 413);
    assert.equal((await fetch(url('slow'), { method: 'POST' })).status, 408);
  });

  it('serves /healthz and /metrics with calls, failures and durations per function', async () => {
    assert.equal(await (await fetch(`${url('fail')}healthz`)).text(), 'OK');
    const metrics = await (await fetch(`${url('fail')}metrics`)).text();
    assert.match(metrics, /function_calls_total\{method="handler-POST",function="fail"\} [1-9]/);
    assert.match(metrics, /function_failures_total\{method="handler-POST",function="fail"\} [1-9]/);
    assert.match(metrics, /function_duration_seconds_count\{method="handler-POST",function="fail"\} [1-9]/);
  });
});
