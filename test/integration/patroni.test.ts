// testenv: none
// lib/patroni against REAL Patroni 3 + PostgreSQL: a 3-member cluster (etcd DCS) on loopback, one address per
// member like pod IPs (harness: ./patroni.ts). Proves the cluster and member views, that a switchover and a
// failover really promote the candidate (PostgreSQL leaves recovery there), the dynamic configuration (GET and
// PATCH /config), and the errors Patroni gives.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { clusterLeader, isPatroniError, pickSwitchoverCandidate, type PatroniStatus } from '../../lib/patroni';
import { findPatroniTools, PASSWORDS, startPatroniCluster, until, type PatroniTestCluster } from './patroni';

const tools = findPatroniTools();
// CI installs patroni (.ci/run), so there a missing tool is a failure, not a skip.
const skip = typeof tools === 'string' && process.env.CI !== 'true' ? `skipped: ${tools}` : false;

let cluster: PatroniTestCluster;

before(
  async () => {
    if (skip) return;
    if (typeof tools === 'string') throw new Error(tools);
    cluster = await startPatroniCluster(tools, { scope: 'pgtest', members: 3 });
  },
  { timeout: 180_000 },
);

after(
  async () => {
    await cluster?.stop();
  },
  { timeout: 60_000 },
);

/** @returns whether the member's PostgreSQL is in recovery (a replica), asked over SQL on its own address */
async function inRecovery(host: string): Promise<boolean> {
  const client = new pg.Client({
    host,
    port: 5432,
    user: 'postgres',
    password: PASSWORDS.superuser,
    database: 'postgres',
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    const result = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    return result.rows[0]!.r;
  } finally {
    await client.end();
  }
}

/** Waits until the member's own view says it runs as the primary (`master` up to Patroni 3, `primary` from 4). */
async function promoted(name: string): Promise<PatroniStatus> {
  return until(
    `${name} runs as the primary`,
    30_000,
    async () => {
      const status = await cluster
        .member(name)
        .client.getStatus()
        .catch(() => undefined);
      return status?.state === 'running' && (status.role === 'master' || status.role === 'primary')
        ? status
        : undefined;
    },
    () => cluster.log(name),
  );
}

test(
  'GET /cluster lists every member with role, state, address and lag, the same from any member',
  { skip },
  async () => {
    const views = await Promise.all(cluster.members.map((m) => m.client.getCluster()));
    for (const view of views) {
      assert.deepEqual(
        view.members.map((m) => m.name),
        ['pgtest-0', 'pgtest-1', 'pgtest-2'],
      );
      assert.equal(clusterLeader(view)?.name, 'pgtest-0');
    }
    const view = views[1]!;
    for (const member of view.members) {
      const expected = cluster.member(member.name);
      assert.equal(member.host, expected.host);
      assert.equal(member.port, 5432);
      assert.equal(member.api_url, `${expected.apiUrl}/patroni`);
      assert.equal(member.timeline, 1);
      assert.ok(['running', 'streaming'].includes(member.state), `${member.name} state ${member.state}`);
    }
    const replicas = view.members.filter((m) => m.role === 'replica');
    assert.equal(replicas.length, 2);
    for (const replica of replicas) assert.equal(typeof replica.lag, 'number', `${replica.name} lag is known`);
    assert.equal(view.members.find((m) => m.role === 'leader')!.lag, undefined, 'the leader has no lag');
    assert.ok(['pgtest-1', 'pgtest-2'].includes(pickSwitchoverCandidate(view)!.name));
    assert.equal(pickSwitchoverCandidate(view, { exclude: () => true }), undefined);
  },
);

test('GET /patroni tells the leader from a replica, with version, scope and WAL positions', { skip }, async () => {
  const leader = await cluster.member('pgtest-0').client.getStatus();
  assert.equal(leader.state, 'running');
  assert.ok(leader.role === 'master' || leader.role === 'primary', `leader role ${leader.role}`);
  assert.equal(leader.patroni.scope, 'pgtest');
  assert.match(leader.patroni.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof leader.xlog?.location, 'number');
  assert.ok((leader.server_version ?? 0) >= 100000);
  assert.match(leader.database_system_identifier ?? '', /^\d+$/);

  const replica = await cluster.member('pgtest-1').client.getStatus();
  assert.equal(replica.role, 'replica');
  assert.equal(replica.state, 'running');
  assert.equal(typeof replica.xlog?.received_location, 'number');
  assert.equal(replica.database_system_identifier, leader.database_system_identifier, 'one cluster, one sysid');
});

test('POST /switchover to a named candidate promotes it; the old leader follows as a replica', { skip }, async () => {
  assert.equal(await inRecovery(cluster.member('pgtest-2').host), true, 'pgtest-2 starts as a replica');
  // Asked through a third member: any member writes the request into the DCS for the leader to act on.
  const result = await cluster.member('pgtest-1').client.switchover({ leader: 'pgtest-0', candidate: 'pgtest-2' });
  assert.equal(result.outcome, 'switched');
  assert.equal(result.endpoint, '/switchover');
  assert.equal(result.newLeader, 'pgtest-2');
  assert.match(result.message, /switched over to "pgtest-2"/);

  // Patroni answers once the leader key moved; PostgreSQL's promotion finishes a moment later.
  const status = await promoted('pgtest-2');
  assert.equal(status.timeline, 2, 'a promotion starts a new timeline');
  assert.equal(await inRecovery(cluster.member('pgtest-2').host), false, 'PostgreSQL on pgtest-2 left recovery');

  const view = await cluster.waitHealthy();
  assert.equal(clusterLeader(view)?.name, 'pgtest-2');
  assert.equal(view.members.find((m) => m.name === 'pgtest-0')?.role, 'replica');
  assert.equal(await inRecovery(cluster.member('pgtest-0').host), true, 'the old leader is a replica now');
});

test("a bad candidate, a wrong leader and a past schedule are refused with Patroni's reason", { skip }, async () => {
  const client = cluster.member('pgtest-0').client;
  const leader = clusterLeader(await client.getCluster())!.name;

  const unknown = await client.switchover({ leader, candidate: 'no-such-member' }).catch((e: unknown) => e);
  assert.ok(isPatroniError(unknown, 'http'), String(unknown));
  assert.equal(unknown.status, 412);
  assert.equal(unknown.patroniMessage, 'candidate does not exists');
  assert.equal(unknown.retryable, false);
  assert.match(unknown.message, /POST http:\/\/127\.[\d.]+:8008\/switchover: HTTP 412: candidate does not exists/);

  const wrongLeader = await client.switchover({ leader: 'pgtest-1', candidate: 'pgtest-0' }).catch((e: unknown) => e);
  assert.ok(isPatroniError(wrongLeader, 'http'));
  assert.equal(wrongLeader.status, 412);
  assert.equal(wrongLeader.patroniMessage, 'leader name does not match');

  const past = await client
    .switchover({ leader, candidate: 'pgtest-0', scheduledAt: new Date(Date.now() - 3_600_000) })
    .catch((e: unknown) => e);
  assert.ok(isPatroniError(past, 'http'));
  assert.equal(past.status, 422);
  assert.equal(past.patroniMessage, 'Cannot schedule switchover in the past');

  const failover = await client.failover({ candidate: 'no-such-member' }).catch((e: unknown) => e);
  assert.ok(isPatroniError(failover, 'http'));
  assert.equal(failover.status, 412);
  assert.equal(clusterLeader(await client.getCluster())?.name, leader, 'nothing moved');
});

test('a scheduled switchover is reported by GET /cluster and can be cancelled', { skip }, async () => {
  const client = cluster.member('pgtest-1').client;
  const leader = clusterLeader(await client.getCluster())!.name;
  const at = new Date(Date.now() + 3_600_000);
  const result = await client.switchover({ leader, candidate: 'pgtest-1', scheduledAt: at });
  assert.equal(result.outcome, 'scheduled');
  assert.equal(result.message, 'Switchover scheduled');
  const view = await client.getCluster();
  assert.equal(view.scheduled_switchover?.from, leader);
  assert.equal(view.scheduled_switchover?.to, 'pgtest-1');
  assert.equal(new Date(view.scheduled_switchover!.at).getTime(), at.getTime());
  assert.equal(await client.cancelScheduledSwitchover(), true);
  assert.equal((await client.getCluster()).scheduled_switchover, undefined);
  assert.equal(await client.cancelScheduledSwitchover(), false, 'nothing left to cancel');
});

test(
  'GET /config is the dynamic configuration; PATCH /config merges into it, null removes a key',
  { skip },
  async () => {
    const client = cluster.member('pgtest-1').client;
    const before = await client.getConfig();
    assert.equal(before.ttl, 20);
    assert.equal(before.maximum_lag_on_failover, 1048576);
    const parameters = (config: Record<string, unknown>) =>
      (config.postgresql as { parameters: Record<string, unknown> }).parameters;
    assert.equal(parameters(before).max_connections, 20);

    const after = await client.patchConfig({
      maximum_lag_on_failover: 2097152,
      postgresql: { parameters: { max_connections: 30, work_mem: '8MB' } },
    });
    assert.equal(after.maximum_lag_on_failover, 2097152);
    assert.equal(after.ttl, 20, 'keys not in the patch stay');
    assert.equal(parameters(after).max_connections, 30);
    assert.equal(parameters(after).work_mem, '8MB');
    assert.equal(parameters(after).wal_level, 'replica', 'parameters not in the patch stay');
    assert.deepEqual(
      await cluster.member('pgtest-0').client.getConfig(),
      after,
      'kept in the DCS: every member answers it',
    );

    // max_connections takes a restart: once a member applied the change, its PostgreSQL says one is pending.
    const leader = clusterLeader(await client.getCluster())!.name;
    await until(
      `${leader} has a pending restart`,
      30_000,
      async () => ((await cluster.member(leader).client.getStatus()).pending_restart === true ? true : undefined),
      () => cluster.log(leader),
    );

    const restored = await client.patchConfig({
      maximum_lag_on_failover: 1048576,
      postgresql: { parameters: { max_connections: 20, work_mem: null } },
    });
    assert.equal(parameters(restored).max_connections, 20);
    assert.equal('work_mem' in parameters(restored), false, 'null removed it');
    assert.equal(restored.maximum_lag_on_failover, 1048576);
  },
);

test('POST /failover to a named candidate promotes it', { skip }, async () => {
  await cluster.waitHealthy();
  const client = cluster.member('pgtest-2').client;
  const result = await client.failover({ candidate: 'pgtest-0' });
  assert.equal(result.outcome, 'switched');
  assert.equal(result.endpoint, '/failover');
  assert.equal(result.newLeader, 'pgtest-0');
  await promoted('pgtest-0');
  assert.equal(await inRecovery(cluster.member('pgtest-0').host), false);
  assert.equal(clusterLeader(await cluster.waitHealthy())?.name, 'pgtest-0');
});

test('a member that is down is a retryable network error; the others still answer', { skip }, async () => {
  await cluster.stopMember('pgtest-1');
  try {
    const down = await cluster
      .member('pgtest-1')
      .client.getCluster()
      .catch((e: unknown) => e);
    assert.ok(isPatroniError(down, 'network'), String(down));
    assert.equal(down.retryable, true);
    assert.match(down.message, /ECONNREFUSED/);
    // The leader keeps the key; the stopped member is gone from the view once its Patroni removed it.
    const view = await until('pgtest-1 leaves the view or stops running', 30_000, async () => {
      const v = await cluster.member('pgtest-0').client.getCluster();
      const m = v.members.find((x) => x.name === 'pgtest-1');
      return !m || m.state !== 'running' ? v : undefined;
    });
    assert.equal(clusterLeader(view)?.name, 'pgtest-0');
  } finally {
    cluster.startMember('pgtest-1');
  }
  const healthy = await cluster.waitHealthy();
  assert.equal(healthy.members.find((m) => m.name === 'pgtest-1')?.role, 'replica', 'it rejoins on its kept data');
});
