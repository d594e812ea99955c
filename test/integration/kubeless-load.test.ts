/**
 * The bundles run unchanged under the original Kubeless runtime: it `require`s `/kubeless/<MOD_NAME>.js` and calls
 * `module.exports[FUNC_HANDLER](event, context)` with Express' response in `event.extensions.response`. This test
 * does exactly that with the built bundle, against the real control plane.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../lib/k8s/client';
import { installCrd, repoRoot, testClient } from './operator';
import { createNamespace, deleteNamespace, requireTestenv } from './testenv';

type Handler = (event: unknown, context: unknown) => Promise<Record<string, unknown>>;

/** What Express' response records when a handler sets a status or header. */
function expressLikeResponse() {
  const sent: { status: number; headers: Record<string, string> } = { status: 200, headers: {} };
  const response = {
    status(code: number) {
      sent.status = code;
      return response;
    },
    set(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
      return response;
    },
  };
  return { response, sent };
}

/** Kubeless' `event` for a request with these headers and (already parsed) data. */
function kubelessEvent(headers: Record<string, string>, data: unknown) {
  const { response, sent } = expressLikeResponse();
  return {
    sent,
    event: {
      data,
      'event-id': headers['event-id'],
      'event-type': headers['event-type'],
      'event-time': headers['event-time'],
      'event-namespace': headers['event-namespace'],
      extensions: { request: { headers }, response },
    },
  };
}

const context = { 'function-name': 'onCreate', timeout: 180, runtime: 'nodejs22', 'memory-limit': '' };
const bundle = (name: string) => `${repoRoot}dist/functions/${name}/handler.js`;

/** Loads a fresh copy of a bundle, as a new Kubeless pod would. */
function load(name: string): Record<string, Handler> {
  const require = createRequire(import.meta.url);
  delete require.cache[bundle(name)];
  return require(bundle(name)) as Record<string, Handler>;
}

let ns = '';
let client: KubeClient;

describe('bundles under the Kubeless loading contract', { timeout: 120_000 }, () => {
  before(async () => {
    requireTestenv();
    await installCrd();
    client = testClient();
    ns = await createNamespace('kubeless');
    if (!existsSync(bundle('on-create'))) {
      execFileSync(
        process.execPath,
        [`${repoRoot}node_modules/tsx/dist/cli.mjs`, `${repoRoot}scripts/build.ts`, '--quiet'],
        { stdio: 'inherit' },
      );
    }
    process.env.OPERATOR_NAMESPACE = ns;
    process.env.WATCHED_NAMESPACE = ns;
  });
  after(async () => {
    client?.close();
    if (ns) await deleteNamespace(ns);
  });

  it('exports the handler under its registry name and syncs a cluster from a kubeless call', async () => {
    const { onCreate } = load('on-create');
    assert.equal(typeof onCreate, 'function');
    const manifest = {
      apiVersion: 'acid.zalan.do/v1',
      kind: 'postgresql',
      metadata: { name: 'acid-kubeless', namespace: ns },
      spec: { teamId: 'acid', numberOfInstances: 1, volume: { size: '1Gi' }, postgresql: { version: '17' } },
    };
    await client.apply(manifest);
    // `kubeless function call on-create --data '<object>'`: JSON body, event-* headers, no ce-* headers.
    const { event, sent } = kubelessEvent(
      { 'content-type': 'application/json', 'event-id': 'cli1', 'event-namespace': 'cli.kubeless.io' },
      manifest,
    );
    const reply = await onCreate!(event, context);
    // Synced, and 503 through Express' response: roles wait for a master pod, which this plane never runs.
    assert.equal(sent.status, 503, JSON.stringify(reply));
    assert.ok(Number(sent.headers['retry-after']) > 0);
    assert.equal((reply.result as { outcome: string }).outcome, 'synced');
    assert.match((reply.result as { pending: string }).pending, /master/);
    assert.ok(
      await client.get({ kind: 'StatefulSet', namespace: ns, name: 'acid-kubeless' }),
      'the StatefulSet exists',
    );
  });

  it("replies 400 through Express' response for an invalid CloudEvent", async () => {
    const { onUpdate } = load('on-update');
    const { event, sent } = kubelessEvent(
      {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-type': 'dev.knative.apiserver.resource.update',
      },
      {},
    );
    const reply = await onUpdate!(event, context);
    assert.equal(sent.status, 400);
    assert.match(String(reply.error), /invalid CloudEvent/);
  });

  it('replies 503 with Retry-After when the API server cannot be reached', async () => {
    const saved = process.env.KUBECONFIG;
    const { kubeconfig } = requireTestenv();
    const deadApi = `${kubeconfig}.dead`;
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(
      deadApi,
      readFileSync(kubeconfig, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1'),
    );
    process.env.KUBECONFIG = deadApi;
    try {
      const { periodicSync } = load('periodic-sync');
      const { event, sent } = kubelessEvent(
        { 'event-id': 'pod-uid', 'event-namespace': 'cronjobtrigger.kubeless.io' },
        {},
      );
      const reply = await periodicSync!(event, context);
      assert.equal(sent.status, 503, JSON.stringify(reply));
      assert.ok(Number(sent.headers['retry-after']) > 0);
    } finally {
      process.env.KUBECONFIG = saved;
    }
  });
});
