// testenv: full
// TLS and a sidecar on the full plane with real Patroni: a manifest with Zalando's `tls` section (a server
// certificate Secret and a CA Secret of its own, both made here with openssl) and a sidecar whose command writes
// its environment to a file. The operator builds the pod (Secret volumes at /tls and /tlsca, SSL_* env, the sidecar
// with POD_NAME, POD_NAMESPACE, POSTGRES_USER and POSTGRES_PASSWORD); scripts/testenv/patroni-pods.ts runs Patroni +
// PostgreSQL with the certificate the pod names, as Spilo does, and the sidecar as a process beside it. A client
// with sslmode=verify-ca and the test's CA connects over TLS; with another CA it is refused; the sidecar saw its
// variables, and its password logs in.
// Needs pod IPs that are local addresses: run-integration.sh runs this phase in scripts/testenv/netns.sh.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { KubeClient } from '../../lib/k8s/client';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { login } from '../../scripts/testenv/pg-login';
import { findPatroniTools, removeIfInterrupted, until } from '../../scripts/testenv/patroni-process';
import { patroniPodsSkipReason, type PatroniPods } from '../../scripts/testenv/patroni-pods';
import { startMembers } from './full-plane-cluster';
import { applyManifest, installCrd, reference, referenceConfig, syncContext, testClient } from './operator';
import { password } from './roles-helpers';
import { createNamespace, deleteNamespace } from './testenv';

const name = 'acid-minimal-cluster';
const pod = `${name}-0`;
const sidecar = 'env-dump';
const tools = findPatroniTools();
const skip = await patroniPodsSkipReason();

let client: KubeClient;
let pods: PatroniPods | undefined;
let namespace = '';
let podIp = '';
const dir = mkdtempSync(join(tmpdir(), 'tls-sidecar-'));
const certs = join(dir, 'certs');
const forget = removeIfInterrupted(dir);

const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { cwd: certs, stdio: ['ignore', 'ignore', 'pipe'] });

/** Makes `<ca>.crt`/`<ca>.key` (self-signed CAs) and `tls.crt`/`tls.key` signed by `ca`, for the master Service. */
function certificates(): void {
  mkdirSync(certs);
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=test ${ca}`,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
    );
  }
  writeFileSync(join(certs, 'san.ext'), `subjectAltName=DNS:${name},DNS:${name}.${namespace}.svc.cluster.local\n`);
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', 'tls.key', '-out', 'tls.csr');
  openssl(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'tls.crt',
  );
}

const file = (f: string) => readFileSync(join(certs, f)).toString('base64');

/** @returns the rows of `sql` over a connection with sslmode=verify-ca and the CA file `ca`, or the error message */
async function verifyCa(ca: string, sql: string): Promise<Array<Record<string, unknown>> | string> {
  const superuser = await password(client, namespace, 'postgres', name);
  const url = new URL(`postgresql://postgres@${podIp}:5432/postgres`);
  url.password = superuser;
  url.searchParams.set('sslmode', 'verify-ca');
  url.searchParams.set('sslrootcert', join(certs, ca));
  // libpq's meaning of verify-ca (the chain is checked, the host name is not), not pg's alias for verify-full.
  url.searchParams.set('uselibpqcompat', 'true');
  const c = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await c.connect();
    return (await c.query(sql)).rows as Array<Record<string, unknown>>;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

before(
  async () => {
    if (skip) return;
    if (typeof tools === 'string') throw new Error(tools);
    // The members run as `postgres` (when root) under `dir`: they must get through it.
    chmodSync(dir, 0o755);
    await installCrd();
    client = testClient();
    namespace = await createNamespace('tls-sidecar');
    certificates();
    for (const [secret, data] of [
      ['pg-tls', { 'tls.crt': file('tls.crt'), 'tls.key': file('tls.key') }],
      ['pg-tls-ca', { 'ca.crt': file('ca.crt') }],
    ] as const) {
      await client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, namespace }, data });
    }
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml');
    Object.assign(manifest.spec, {
      numberOfInstances: 1,
      spiloFSGroup: 103,
      tls: { secretName: 'pg-tls', caSecretName: 'pg-tls-ca', caFile: 'ca.crt' },
      sidecars: [{ name: sidecar, image: 'busybox:1.36', command: ['sh', '-c', 'env > env.txt && exec sleep 600'] }],
    });
    await applyManifest(manifest, namespace);
    const ctx = syncContext(client, referenceConfig('v2.0.1'));
    await syncCluster(ctx, namespace, name);
    pods = startMembers(namespace, tools, join(dir, 'db'), (line) => {
      if (process.env.PATRONI_PODS_LOG) console.error(line);
    });
    await until(
      'the cluster Running',
      180_000,
      async () => {
        await syncCluster(ctx, namespace, name);
        const object = await client.get({ kind: 'postgresql', namespace, name });
        return object?.status?.PostgresClusterStatus === 'Running' ? true : undefined;
      },
      () => pods!.log(pod),
    );
    podIp = await until('the pod IP', 30_000, async () => pods!.running().get(pod)?.ip);
  },
  { timeout: 240_000 },
);

after(
  async () => {
    await pods?.stop();
    if (namespace) await deleteNamespace(namespace);
    client?.close();
    rmSync(dir, { recursive: true, force: true });
    forget();
  },
  { timeout: 90_000 },
);

test(
  'PostgreSQL serves the certificate of the tls Secret: verify-ca with its CA connects encrypted',
  { skip },
  async () => {
    const rows = await until(
      'a verify-ca connection',
      60_000,
      async () => {
        const r = await verifyCa('ca.crt', 'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
        return typeof r === 'string' ? undefined : r;
      },
      () => pods!.log(pod),
    );
    assert.equal(rows[0]?.ssl, true);
    assert.match(String(rows[0]?.version), /^TLS/);
    // The files of the Secret volumes, as Spilo's configure_spilo puts the SSL_*_FILE variables into PostgreSQL.
    const settings = await verifyCa(
      'ca.crt',
      "SELECT name, setting FROM pg_settings WHERE name IN ('ssl_cert_file', 'ssl_key_file', 'ssl_ca_file') ORDER BY name",
    );
    assert.ok(typeof settings !== 'string', String(settings));
    const byName = Object.fromEntries(settings.map((r) => [r.name, String(r.setting)]));
    assert.match(byName.ssl_ca_file!, /\/mounts\/pg-tls-ca\/ca\.crt$/);
    assert.match(byName.ssl_cert_file!, /\/mounts\/pg-tls\/tls\.crt$/);
    assert.match(byName.ssl_key_file!, /\/mounts\/pg-tls\/tls\.key$/);
  },
);

test('a client that trusts another CA is refused', { skip }, async () => {
  const result = await verifyCa('other-ca.crt', 'SELECT 1');
  assert.equal(typeof result, 'string', 'connected although the server certificate is not of that CA');
  assert.match(result as string, /certificate/i);
});

test(
  'the sidecar runs beside Patroni with POD_NAME, POD_NAMESPACE, POSTGRES_USER and POSTGRES_PASSWORD',
  { skip },
  async () => {
    const envFile = await until(
      'the sidecar wrote its environment',
      30_000,
      async () => {
        const d = pods!.sidecarDir(pod, sidecar);
        if (!d) return undefined;
        try {
          return readFileSync(join(d, 'env.txt'), 'utf8');
        } catch {
          return undefined;
        }
      },
      () => pods!.log(pod),
    );
    const env = Object.fromEntries(
      envFile
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(env.POD_NAME, pod);
    assert.equal(env.POD_NAMESPACE, namespace);
    assert.equal(env.POSTGRES_USER, 'postgres');
    assert.equal(env.POSTGRES_PASSWORD, await password(client, namespace, 'postgres', name));
    // Only what the container spec gives (and HOSTNAME, PATH): nothing of the test process leaks in.
    assert.equal(env.KUBECONFIG, undefined);
    assert.equal(await login(podIp, env.POSTGRES_USER!, env.POSTGRES_PASSWORD!), true);
  },
);
