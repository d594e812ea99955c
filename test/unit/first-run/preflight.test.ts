// The checks before talking to a cluster name what is missing and the fix, instead of client-node's errors.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../lib/k8s/client';
import { PreflightError, requireKubeconfig, requireReachable } from '../../../scripts/first-run/preflight';

const dir = mkdtempSync(join(tmpdir(), 'preflight-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `fn` with these env vars set (undefined: unset), then puts them back. */
function withEnv(env: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(env);
  try {
    fn();
  } finally {
    set(saved);
  }
}

/** A client for a server on loopback (plain HTTP; nothing is verified). */
function clientFor(port: number): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return new KubeClient(kc);
}

describe('requireKubeconfig', () => {
  it('no KUBECONFIG and no ~/.kube/config: says where it looked and how to get one', () => {
    withEnv({ KUBECONFIG: undefined, HOME: dir, KUBERNETES_SERVICE_HOST: undefined }, () => {
      assert.throws(
        () => requireKubeconfig('npm run deploy -- plain'),
        (error: Error) =>
          error instanceof PreflightError &&
          error.message.startsWith('npm run deploy -- plain: no kubeconfig') &&
          error.message.includes(join(dir, '.kube', 'config')) &&
          error.message.includes('Set KUBECONFIG'),
      );
    });
  });

  it('KUBECONFIG naming no file that exists: names it', () => {
    withEnv({ KUBECONFIG: `${dir}/a:${dir}/b` }, () => {
      assert.throws(() => requireKubeconfig('x'), /KUBECONFIG=.*\/a:.*\/b names no file that exists/);
    });
  });

  it('one existing file of the list is enough', () => {
    writeFileSync(`${dir}/kubeconfig`, 'apiVersion: v1\nkind: Config\n');
    withEnv({ KUBECONFIG: `${dir}/missing:${dir}/kubeconfig` }, () => requireKubeconfig('x'));
  });
});

describe('requireReachable', () => {
  it('no answer: names the server, the error and the context', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve)); // the port is free again: connections are refused
    const client = clientFor(port);
    await assert.rejects(
      requireReachable(client),
      (error: Error) =>
        error instanceof PreflightError &&
        error.message.includes(`http://127.0.0.1:${port} does not answer`) &&
        error.message.includes('ECONNREFUSED') &&
        error.message.includes('(ctx)'),
    );
    client.close();
  });

  it('any HTTP answer, even 403, means reachable', async () => {
    const server = createServer((socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = clientFor((server.address() as AddressInfo).port);
    await requireReachable(client);
    client.close();
    await new Promise((resolve) => server.close(resolve));
  });
});
