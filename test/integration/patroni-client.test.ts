// testenv: none
// lib/patroni against real local HTTP servers that answer the way Patroni does in the cases a live cluster
// cannot show on demand: an old Patroni without /switchover, a member that never answers, a malformed answer.
// Plus the pure reading of a GET /cluster answer (candidate choice).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import {
  isHealthyReplica,
  isPatroniError,
  PatroniClient,
  PatroniError,
  patroniUrl,
  pickSwitchoverCandidate,
  type PatroniCluster,
  type PatroniMember,
} from '../../lib/patroni';

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** Starts a real HTTP server on loopback and returns a client for it. */
async function serve(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
  timeoutMs = 2_000,
): Promise<PatroniClient> {
  const server = createServer((req, res) => {
    let body = '';
    req
      .setEncoding('utf8')
      .on('data', (c: string) => (body += c))
      .on('end', () => handler(req, body, res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new PatroniClient(patroniUrl('127.0.0.1', (server.address() as AddressInfo).port), {
    timeoutMs,
    switchoverTimeoutMs: timeoutMs,
  });
}

/** The error page Python's http.server writes for a method without a handler (what Patroni inherits). */
const unsupportedPage =
  '<!DOCTYPE HTML>\n<html lang="en">\n<head><title>Error response</title></head>\n<body>\n' +
  "<h1>Error response</h1>\n<p>Error code: 501</p>\n<p>Message: Unsupported method ('POST').</p>\n" +
  '<p>Error code explanation: 501 - Server does not support this operation.</p>\n</body>\n</html>\n';

test('a Patroni without /switchover (501) gets the same request on /failover', async () => {
  const seen: string[] = [];
  const client = await serve((req, body, res) => {
    seen.push(`${req.method} ${req.url} ${body}`);
    if (req.url === '/switchover') {
      res.writeHead(501, { 'content-type': 'text/html' }).end(unsupportedPage);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('Successfully failed over to "pg-1"');
    }
  });
  const result = await client.switchover({ leader: 'pg-0', candidate: 'pg-1' });
  assert.deepEqual(result, {
    outcome: 'switched',
    newLeader: 'pg-1',
    endpoint: '/failover',
    message: 'Successfully failed over to "pg-1"',
  });
  assert.deepEqual(seen, [
    'POST /switchover {"leader":"pg-0","candidate":"pg-1"}',
    'POST /failover {"leader":"pg-0","candidate":"pg-1"}',
  ]);
});

test("an HTML error page from Python's HTTP server becomes its one-line message", async () => {
  const client = await serve((_req, _body, res) => res.writeHead(501).end(unsupportedPage));
  const error = await client.failover({ candidate: 'x' }).catch((e: unknown) => e);
  assert.ok(isPatroniError(error, 'http'));
  assert.equal(error.status, 501);
  assert.equal(error.patroniMessage, "Unsupported method ('POST')");
  assert.equal(error.retryable, true);
});

test('"Switched over to y instead of x" reports the leader Patroni actually chose', async () => {
  const client = await serve((_req, _body, res) => res.writeHead(200).end('Switched over to "pg-2" instead of "pg-1"'));
  const result = await client.switchover({ leader: 'pg-0', candidate: 'pg-1' });
  assert.equal(result.newLeader, 'pg-2');
});

test('503 "Switchover failed" is a retryable http error', async () => {
  const client = await serve((_req, _body, res) => res.writeHead(503).end('Switchover failed'));
  const error = await client.switchover({ leader: 'pg-0' }).catch((e: unknown) => e);
  assert.ok(isPatroniError(error, 'http'));
  assert.equal(error.status, 503);
  assert.equal(error.patroniMessage, 'Switchover failed');
  assert.equal(error.retryable, true);
});

test("a member that never answers times out after the call's timeout", async () => {
  const client = await serve(() => undefined, 300);
  const started = Date.now();
  const error = await client.getCluster().catch((e: unknown) => e);
  const elapsed = Date.now() - started;
  assert.ok(isPatroniError(error, 'timeout'), String(error));
  assert.equal(error.retryable, true);
  assert.match(error.message, /GET http:\/\/127\.0\.0\.1:\d+\/cluster: no answer within 300ms/);
  assert.ok(elapsed >= 250 && elapsed < 5_000, `gave up after ${elapsed} ms`);

  const longer = await client.getCluster({ timeoutMs: 50 }).catch((e: unknown) => e);
  assert.ok(isPatroniError(longer, 'timeout'));
  assert.match(longer.message, /within 50ms/, "the per-call timeout overrides the client's");
});

test("the caller's AbortSignal stops a call: kind aborted, not retryable", async () => {
  const client = await serve(() => undefined, 10_000);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('invocation deadline')), 50);
  const error = await client.switchover({ leader: 'pg-0' }, { signal: controller.signal }).catch((e: unknown) => e);
  assert.ok(isPatroniError(error, 'aborted'), String(error));
  assert.equal(error.retryable, false);
  assert.match(error.message, /aborted: invocation deadline/);

  const already = await client.getStatus({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
  assert.ok(isPatroniError(already, 'aborted'));
});

test('an answer that is not what the API documents is invalid-response, naming the field', async () => {
  const client = await serve((req, _body, res) => {
    if (req.url === '/cluster') res.writeHead(200).end('{"members":[{"name":7,"role":"leader","state":"running"}]}');
    else res.writeHead(200).end('<html>not json</html>');
  });
  const cluster = await client.getCluster().catch((e: unknown) => e);
  assert.ok(isPatroniError(cluster, 'invalid-response'));
  assert.match(cluster.message, /members\.0\.name/);
  assert.equal(cluster.retryable, false);
  const status = await client.getStatus().catch((e: unknown) => e);
  assert.ok(isPatroniError(status, 'invalid-response'));
  assert.match(status.message, /not JSON/);
});

test('fields a newer Patroni adds are kept', async () => {
  const client = await serve((_req, _body, res) =>
    res.writeHead(200).end(
      JSON.stringify({
        members: [{ name: 'a', role: 'leader', state: 'running', api_url: 'http://a:8008/patroni', receive_lag: 0 }],
        scope: 'x',
      }),
    ),
  );
  const view = await client.getCluster();
  assert.equal((view as Record<string, unknown>).scope, 'x');
  assert.equal((view.members[0] as Record<string, unknown>).receive_lag, 0);
});

test('no listener is a retryable network error naming the request', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const error = await new PatroniClient(patroniUrl('127.0.0.1', port)).getStatus().catch((e: unknown) => e);
  assert.ok(error instanceof PatroniError);
  assert.equal(error.kind, 'network');
  assert.equal(error.request, `GET http://127.0.0.1:${port}/patroni`);
  assert.match(error.message, /ECONNREFUSED/);
  assert.equal(error.retryable, true);
});

test('patroniUrl and the constructor', () => {
  assert.equal(patroniUrl('10.2.0.7'), 'http://10.2.0.7:8008');
  assert.equal(patroniUrl('fd00::7', 8009), 'http://[fd00::7]:8009');
  assert.equal(new PatroniClient('http://10.2.0.7:8008/').baseUrl, 'http://10.2.0.7:8008');
  assert.throws(() => new PatroniClient('ftp://x'), /must be http/);
  assert.throws(() => new PatroniClient('not a url'), TypeError);
});

function member(name: string, fields: Partial<PatroniMember>): PatroniMember {
  return { name, role: 'replica', state: 'streaming', lag: 0, ...fields };
}

test('pickSwitchoverCandidate: healthy replicas only, least lag, then name', () => {
  const view: PatroniCluster = {
    members: [
      member('a', { role: 'leader', state: 'running', lag: undefined }),
      member('b', { lag: 4096 }),
      member('c', { state: 'running', lag: 16 }),
      member('d', { lag: 16 }),
      member('e', { lag: 'unknown' }),
      member('f', { state: 'stopped' }),
      member('g', { lag: 0, tags: { nofailover: true } }),
    ],
  };
  assert.deepEqual(
    view.members.filter(isHealthyReplica).map((m) => m.name),
    ['b', 'c', 'd'],
  );
  assert.equal(pickSwitchoverCandidate(view)?.name, 'c');
  assert.equal(pickSwitchoverCandidate(view, { exclude: (m) => m.name === 'c' })?.name, 'd');
  assert.equal(pickSwitchoverCandidate(view, { exclude: (m) => m.name !== 'b' })?.name, 'b');
  assert.equal(pickSwitchoverCandidate(view, { exclude: (m) => m.name !== 'b', maxLagBytes: 1024 }), undefined);
  assert.equal(pickSwitchoverCandidate({ members: [member('a', { role: 'leader' })] }), undefined);
});
