/**
 * `npm run psql -- <cluster> [--namespace NS] [--user USER] [--database DB] [-- PSQL ARGS...]`: opens psql on the
 * master of a cluster as one of its manifest users, with the password from the user's Secret
 * (`<user>.<cluster>.credentials.postgresql.acid.zalan.do` by Zalando's default template; found by its labels and
 * `username` key, so any `secret_name_template` works). Without `--user`: the user that owns a database of the
 * manifest, and that database (else the first user and `postgres`).
 *
 * Where the cluster is:
 * - the one a running `npm start` made (`.testenv/main-run.json`): when that job runs in a private network namespace
 *   (databases behind the pods), this script enters it with nsenter (root) and connects to the master pod's IP;
 * - else the cluster of $KUBECONFIG: a port-forward to the master pod's port 5432 (the Kubernetes API's
 *   pods/portforward, as `kubectl port-forward` does) on a free local port.
 *
 * psql comes from PATH, else from the newest /usr/lib/postgresql/<n>/bin. TLS: `sslmode=require` unless PGSSLMODE
 * is set (Spilo serves a self-signed certificate when none is given).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { parseArgs } from 'node:util';
import { PortForward } from '@kubernetes/client-node';
import { KubeClient, type KubeObject } from '../lib/k8s/client';
import { PreflightError, requireKubeconfig, requireReachable } from './first-run/preflight';
import { readRun } from './first-run/run-file';

const USAGE =
  'usage: npm run psql -- <cluster> [--namespace NS] [--user USER] [--database DB] [-- psql arguments, e.g. -c "select 1"]';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    namespace: { type: 'string', short: 'n' },
    user: { type: 'string', short: 'U' },
    database: { type: 'string', short: 'd' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** @returns the psql binary: PATH first, then the newest Debian server package's */
function psqlBinary(): string {
  if (spawnSync('sh', ['-c', 'command -v psql'], { encoding: 'utf8' }).stdout.trim()) return 'psql';
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/psql`))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return `/usr/lib/postgresql/${versions[0]}/bin/psql`;
  throw new PreflightError('psql is not installed (Debian: apt-get install postgresql-client)');
}

/** The user and database to connect as, from the options or the manifest. */
function chooseLogin(cluster: KubeObject): { user: string; database: string } {
  const users = Object.keys((cluster.spec?.users as Record<string, unknown>) ?? {});
  const databases = Object.entries((cluster.spec?.databases as Record<string, string>) ?? {});
  if (values.user) {
    const owned = databases.find(([, owner]) => owner === values.user);
    return { user: values.user, database: values.database ?? owned?.[0] ?? 'postgres' };
  }
  const owned = databases.find(([, owner]) => users.includes(owner));
  const user = owned?.[1] ?? users[0];
  if (!user) throw new PreflightError(`postgresql ${cluster.metadata!.name} has no spec.users: pass --user`);
  return { user, database: values.database ?? owned?.[0] ?? 'postgres' };
}

/** Opens a local port whose connections go to the pod's port through the API server. */
async function portForward(client: KubeClient, namespace: string, pod: string): Promise<Server> {
  const forward = new PortForward(client.kubeConfig);
  const server = createServer((socket) => {
    forward.portForward(namespace, pod, [5432], socket, null, socket).catch((error: Error) => {
      console.error(`port-forward to ${namespace}/${pod}: ${error.message}`);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function main(): Promise<number> {
  const [name, ...psqlArgs] = positionals;
  if (values.help || !name) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const run = readRun();
  if (run?.netns && !process.env.KUBECONFIG) {
    // The plane of `npm start` lives in its network namespace: run this script again in there.
    const own = readlinkSync('/proc/self/ns/net');
    if (own !== readlinkSync(`/proc/${run.pid}/ns/net`)) {
      const again = spawnSync(
        'nsenter',
        ['-t', String(run.pid), '-n', '-m', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
        { stdio: 'inherit', env: { ...process.env, KUBECONFIG: run.kubeconfig } },
      );
      if (again.error) throw new PreflightError(`nsenter: ${again.error.message} (it needs root, as npm start did)`);
      return again.status ?? 1;
    }
  }
  if (!process.env.KUBECONFIG && run) process.env.KUBECONFIG = run.kubeconfig;
  requireKubeconfig('npm run psql');
  const client = KubeClient.fromDefault();
  try {
    await requireReachable(client);
    const namespace = values.namespace ?? (run?.cluster === name ? run.namespace : 'default');
    const cluster = await client.get({ kind: 'postgresql', namespace, name });
    if (!cluster)
      throw new PreflightError(`no postgresql ${name} in namespace ${namespace} (kubectl get pg -A lists them)`);
    const { user, database } = chooseLogin(cluster);
    const selector = `application=spilo,cluster-name=${name}`;
    const [master] = await client.list('Pod', namespace, `${selector},spilo-role=master`);
    if (!master)
      throw new PreflightError(
        `${namespace}/${name} has no master pod yet (status ${cluster.status?.PostgresClusterStatus ?? 'none'})`,
      );
    const secret = (await client.list('Secret', namespace, selector)).find(
      (s) => Buffer.from(String(s.data?.username ?? ''), 'base64').toString() === user,
    );
    if (!secret) throw new PreflightError(`no credentials Secret of user ${user} in ${namespace}/${name}`);
    const password = Buffer.from(String(secret.data?.password ?? ''), 'base64').toString();

    // In the network namespace the pod IP is local; elsewhere go through the API server.
    const local = !!run?.netns && readlinkSync('/proc/self/ns/net') === readlinkSync(`/proc/${run.pid}/ns/net`);
    const server = local ? undefined : await portForward(client, namespace, master.metadata!.name!);
    const host = server ? '127.0.0.1' : (master.status?.podIP as string);
    const port = server ? (server.address() as AddressInfo).port : 5432;
    console.error(`psql: ${user}@${master.metadata!.name} (${host}:${port}), database ${database}`);
    const child = spawn(psqlBinary(), ['-h', host, '-p', String(port), '-U', user, '-d', database, ...psqlArgs], {
      stdio: 'inherit',
      env: { ...process.env, PGPASSWORD: password, PGSSLMODE: process.env.PGSSLMODE ?? 'require' },
    });
    process.on('SIGINT', () => undefined); // psql handles Ctrl-C itself
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    server?.close();
    return code;
  } finally {
    client.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error instanceof PreflightError ? `psql: ${error.message}` : `psql failed: ${error.message}`);
    process.exit(1);
  },
);
