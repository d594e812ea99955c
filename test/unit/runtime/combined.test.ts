/**
 * The combined host on loopback with the deploy tests' placeholder bundles (one directory per function): each
 * function answers under `/<name>` with its own export, anything else is a 404, `/healthz` and `/metrics` are
 * shared and the metrics tell the functions apart.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../lib/log/logger';
import { FUNCTIONS } from '../../../lib/registry/functions';
import { functionOfPath, handlersFromDir, startCombined, type CombinedHost } from '../../../lib/runtime/combined';
import { placeholderDist } from '../deploy/fixtures';

let host: CombinedHost;
const base = () => `http://127.0.0.1:${host.port}`;

describe('combined host (every function in one process)', () => {
  before(async () => {
    host = await startCombined({
      moduleName: 'handler',
      handler: handlersFromDir(path.join(placeholderDist(), 'functions'), 'handler'),
      port: 0,
      host: '127.0.0.1',
      timeoutSeconds: 30,
      bodyLimitBytes: 1024,
      log: silentLogger,
    });
  });
  after(() => host.close(100));

  it('routes each function path to that function', async () => {
    for (const spec of FUNCTIONS) {
      assert.equal(host.paths[spec.name], `/${spec.name}`);
      const response = await fetch(`${base()}/${spec.name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { function: spec.name, data: { a: 1 }, handler: spec.export });
    }
  });

  it('answers 404 under no function, /healthz, and /metrics with a function label', async () => {
    assert.equal((await fetch(`${base()}/`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${base()}/on-nothing`, { method: 'POST' })).status, 404);
    assert.equal(await (await fetch(`${base()}/healthz`)).text(), 'OK');
    const metrics = await (await fetch(`${base()}/metrics`)).text();
    assert.match(metrics, /function_calls_total\{method="handler-POST",function="onCreate"\} 1/);
    assert.match(metrics, /function_calls_total\{method="handler-POST",function="periodicSync"\} 1/);
  });

  it('reads the function from the first path segment', () => {
    assert.equal(functionOfPath('/on-create'), 'on-create');
    assert.equal(functionOfPath('/on-create/x?y=1'), 'on-create');
    assert.equal(functionOfPath('/on-update?x'), 'on-update');
    assert.equal(functionOfPath(undefined), '');
  });
});
