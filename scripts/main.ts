/**
 * The main job (`npm start`): the operator running for real on this machine, and a PostgreSQL cluster it made.
 *
 * Where it runs:
 * - KUBECONFIG set: that cluster (checked first: the file exists, the API server answers).
 * - Otherwise a local control plane (state in `.testenv/main`, or `$MAIN_STATE_DIR/main`), built once from the Go
 *   module proxy:
 *   - by default, when this machine can (root, for a network namespace, and Debian's patroni + postgresql, which
 *     it installs with apt-get when they are missing, as `.ci/run` does; `--no-install` skips that): the full
 *     plane (kube-controller-manager, kube-scheduler, kwok Nodes) with a real Patroni + PostgreSQL behind each pod
 *     (scripts/testenv/patroni-pods.ts), in a private network namespace (scripts/testenv/netns.sh) where the pod
 *     IPs are local addresses. The cluster reaches `Running`, its users and databases are created, a manifest user
 *     logs in, and the job prints the one command that opens psql on the master (`npm run psql -- <cluster>`).
 *   - elsewhere (or with `--light`) today's plane, etcd + kube-apiserver only: the objects and status appear but
 *     no pod runs (`Creating`); the job says why it fell back. `--full` adds kwok pods without databases.
 *
 * Then: builds the bundles, installs the CRD, the RBAC and the operator ConfigMap (manifests/configmap.yaml), starts
 * every function and the event bridge in one local process (`--per-function`: a process each), applies
 * manifests/minimal-postgres-manifest.yaml, prints progress and a summary. The operator keeps running; Ctrl-C
 * stops every process this job started, the local control plane included. `--once` stops after the summary.
 *
 * Options: --manifest FILE, --namespace NS, --once, --timeout SECONDS (default 120; 600 with databases),
 * --light, --full, --no-install, --no-build (use dist/ as it is), --per-function.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { KubeClient, type KubeObject } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { operatorObjects } from './deploy/operator-objects';
import { startLocal, type LocalDeployment } from './deploy/local';
import {
  databasePodsBlocker,
  installDatabasePackages,
  PreflightError,
  requireKubeconfig,
  requirePlaneBinaries,
  requireReachable,
} from './first-run/preflight';
import { MAIN_STATE_DIR, removeRun, writeRun } from './first-run/run-file';
import { startLocalControlPlane } from './testenv/local-plane';
import { findPatroniTools, stopMembersOnOwnSignals } from './testenv/patroni-process';
import { PatroniPods } from './testenv/patroni-pods';
import { login } from './testenv/pg-login';

const root = fileURLToPath(new URL('../', import.meta.url));
/** When the job started: the outer process's start when this is the run inside the network namespace. */
const started = Number(process.env.MAIN_STARTED ?? Date.now());
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const step = (text: string) => console.log(`[${seconds()}s] ${text}`);

const { values } = parseArgs({
  options: {
    manifest: { type: 'string' },
    namespace: { type: 'string', default: 'default' },
    once: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    full: { type: 'boolean', default: false },
    light: { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    'per-function': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
});

/** Where the job runs: a given cluster, or a local plane without pods, with kwok pods, or with databases. */
type Mode = 'cluster' | 'light' | 'kwok' | 'database';

let stopPlane: (() => void) | undefined;
let deployment: LocalDeployment | undefined;
let members: { pods: PatroniPods; dir: string } | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  removeRun();
  try {
    await stopAll();
  } catch (error) {
    step(`stopping failed: ${(error as Error).message}`);
  }
  process.exit(code);
}

/** A signal: the first stops everything; while that runs, further ones (Ctrl-C reaches every process) wait. */
let signals = 0;
function onSignal(signal: NodeJS.Signals, code: number): void {
  signals++;
  if (!stopping) {
    console.log('');
    void shutdown(code);
  } else if (signals >= 4) process.exit(code);
  else step(`${signal} while stopping: still stopping (send it ${4 - signals} more times to quit at once)`);
}

/** Stops what this job started: the operator, the databases behind the pods, the local plane. */
async function stopAll(): Promise<void> {
  if (deployment) {
    step('stopping the function hosts and the bridge');
    await deployment.stop();
    step('  stopped');
  }
  if (members) {
    step('stopping Patroni and PostgreSQL behind the pods');
    await members.pods.stop().catch((error: Error) => step(`  (${error.message})`));
    rmSync(members.dir, { recursive: true, force: true });
  }
  if (stopPlane) {
    step('stopping the local control plane');
    stopPlane();
  }
}

/** The objects the operator should make for a cluster (Zalando's names), to wait for and report. */
function expectedChildren(cluster: string, namespace: string, client: KubeClient) {
  const selector = `application=spilo,cluster-name=${cluster}`;
  return async () => {
    const kinds = ['StatefulSet', 'Service', 'Endpoints', 'Secret', 'PodDisruptionBudget'];
    const lists = await Promise.all(kinds.map((kind) => client.list(kind, namespace, selector)));
    return lists
      .flat()
      .map((o: KubeObject) => `${o.kind}/${o.metadata!.name}`)
      .sort();
  };
}

/**
 * Decides where to run. Inside the network namespace this job entered itself (MAIN_DATABASE=1) it is the
 * database mode; without KUBECONFIG the database mode when this machine can, else the light plane, saying why.
 */
function chooseMode(): Mode {
  if (process.env.MAIN_DATABASE === '1') return 'database';
  if (process.env.KUBECONFIG) return 'cluster';
  if (values.light) return 'light';
  if (values.full) return 'kwok';
  if (!values['no-install'] && process.getuid?.() === 0) {
    const installed = installDatabasePackages(step);
    if (typeof installed === 'string') step(`(${installed})`);
  }
  const blocker = databasePodsBlocker();
  if (!blocker) return 'database';
  step(`no databases behind the pods on this machine: ${blocker}`);
  step('falling back to the local control plane without pods (the cluster will stay Creating); see docs/quickstart.md');
  return 'light';
}

/**
 * Builds the full plane's binaries here (the namespace has no route out), then runs this job again inside
 * scripts/testenv/netns.sh and ends with its exit code. Ctrl-C reaches both processes; this one waits.
 */
function runInNetworkNamespace(): void {
  requirePlaneBinaries(true);
  step('building the full control plane if needed (first time only: 12 to 15 minutes on 2 cores)');
  const built = execFileSync('bash', [`${root}scripts/testenv/build.sh`], {
    env: { ...process.env, TESTENV_FULL: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Inside, the plane takes the binaries from there and does not run build.sh (nor wait for its cache lock) again.
  const binDir = process.env.KUBEBUILDER_ASSETS ?? built.trim().split('\n').pop()!;
  step('entering a private network namespace, where the pod IPs are local addresses (scripts/testenv/netns.sh)');
  const child = spawn(
    'bash',
    [`${root}scripts/testenv/netns.sh`, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    {
      stdio: 'inherit',
      env: { ...process.env, MAIN_DATABASE: '1', MAIN_STARTED: String(started), KUBEBUILDER_ASSETS: binDir },
    },
  );
  // Ctrl-C reaches the run inside too; a SIGTERM or SIGHUP sent to this process alone is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  process.on('SIGHUP', () => child.kill('SIGHUP'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
}

/** The PostgreSQL major version of the server binaries the pods run (e.g. 15 for /usr/lib/postgresql/15/bin). */
function serverMajor(pgBin: string): string | undefined {
  return /postgresql\/(\d+)\//.exec(`${pgBin}/`)?.[1];
}

/** The manifest user to show: one that owns a database of the manifest (else the first user), and that database. */
function showcaseUser(manifest: KubeObject): { user: string; database: string } | undefined {
  const users = Object.keys((manifest.spec?.users as Record<string, unknown>) ?? {});
  const databases = Object.entries((manifest.spec?.databases as Record<string, string>) ?? {});
  const owned = databases.find(([, owner]) => users.includes(owner));
  if (owned) return { user: owned[1], database: owned[0] };
  return users[0] ? { user: users[0], database: 'postgres' } : undefined;
}

/** Logs in as `user` to `database` on the master pod with the password of the user's Secret. */
async function checkLogin(client: KubeClient, namespace: string, cluster: string, user: string, database: string) {
  const [master] = await client.list('Pod', namespace, `application=spilo,cluster-name=${cluster},spilo-role=master`);
  const secrets = await client.list('Secret', namespace, `application=spilo,cluster-name=${cluster}`);
  const secret = secrets.find((s) => Buffer.from(String(s.data?.username ?? ''), 'base64').toString() === user);
  if (!master?.status?.podIP || !secret) return `no master pod or no Secret for ${user} yet`;
  const password = Buffer.from(String(secret.data?.password), 'base64').toString();
  const result = await login(master.status.podIP as string, user, password, database);
  return result === true ? `${user} logged in to ${database} on ${master.metadata!.name}` : result;
}

async function main(): Promise<void> {
  const mode = chooseMode();
  if (mode === 'database' && process.env.TESTENV_NETNS !== '1') return runInNetworkNamespace();
  process.on('exit', (code) => {
    if (stopping) console.log(`[${seconds()}s] stopped (exit code ${code})`);
  });
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));

  if (mode === 'cluster') requireKubeconfig('npm start');
  else {
    requirePlaneBinaries(mode !== 'light');
    step(
      {
        light:
          'no KUBECONFIG: starting a local control plane (the first run builds kube-apiserver and etcd, ~7 min on 2 cores)',
        kwok: 'no KUBECONFIG: starting a full local control plane with kwok nodes (the first run builds it, 12 to 15 min on 2 cores)',
        database: 'starting the full local control plane with kwok nodes, in the network namespace',
      }[mode],
    );
    stopPlane = startLocalControlPlane(`${MAIN_STATE_DIR}/main`, { full: mode !== 'light' });
  }
  const client = KubeClient.fromDefault();
  step(`using the API server at ${client.kubeConfig.getCurrentCluster()?.server}`);
  await requireReachable(client);
  const operatorNamespace = process.env.OPERATOR_NAMESPACE ?? 'default';
  const namespace = values.namespace!;
  const timeoutSeconds = Number(values.timeout ?? (mode === 'database' ? 600 : 120));

  const manifestPath = values.manifest ?? `${root}manifests/minimal-postgres-manifest.yaml`;
  const manifest = parse(readFileSync(manifestPath, 'utf8')) as KubeObject;
  const name = manifest.metadata!.name!;

  if (mode === 'database') {
    const tools = findPatroniTools();
    if (typeof tools === 'string') throw new PreflightError(tools);
    const major = serverMajor(tools.pgBin);
    const postgresql = manifest.spec?.postgresql as { version?: string } | undefined;
    if (major && postgresql && postgresql.version !== major) {
      step(
        `the pods run this machine's PostgreSQL ${major}: spec.postgresql.version ${postgresql.version} -> ${major}`,
      );
      postgresql.version = major;
    }
    stopMembersOnOwnSignals();
    const dir = mkdtempSync(join(tmpdir(), 'pgo-main-pods-'));
    step(`starting Patroni + PostgreSQL behind each pod of namespace ${namespace} (data and logs in ${dir})`);
    const pods = new PatroniPods({
      kubeconfig: process.env.KUBECONFIG!,
      namespace,
      tools,
      dir,
      ...(process.env.TESTENV_PRIVATE_HOSTS === '1' ? { hostsFile: '/etc/hosts' } : {}),
      log: (line) => step(`  pods: ${line}`),
    });
    members = { pods, dir };
    pods.start();
  }

  if (values['no-build']) step('using the function bundles in dist/ as they are (--no-build)');
  else {
    step('building the function bundles (npm run build)');
    execFileSync(process.execPath, [`${root}node_modules/tsx/dist/cli.mjs`, `${root}scripts/build.ts`, '--quiet'], {
      stdio: 'inherit',
    });
  }

  step('installing the postgresql CRD');
  await installCrd(client, parse(readFileSync(`${root}manifests/postgresql.crd.yaml`, 'utf8')));
  step(
    `installing RBAC (a ServiceAccount and role per function, ClusterRole postgres-pod) and the operator ConfigMap in ${operatorNamespace}`,
  );
  for (const object of operatorObjects(operatorNamespace)) await client.apply(object);

  const logDir = `${MAIN_STATE_DIR}/main-logs`;
  const processes = values['per-function'] ? 'per-function' : 'single';
  step(
    processes === 'single'
      ? `starting the functions and the event bridge in one process (logs in ${logDir})`
      : `starting a host per function and the event bridge (logs in ${logDir})`,
  );
  deployment = await startLocal({ logDir, env: { OPERATOR_NAMESPACE: operatorNamespace }, mode: processes });
  for (const f of deployment.functions) step(`  ${f.name} at ${f.url}`);
  step(`  bridge at ${deployment.bridge?.url} (metrics at ${deployment.bridge?.url}metrics)`);

  const applied = Date.now();
  if (!(await client.get({ kind: 'Namespace', name: namespace }))) {
    step(`creating namespace ${namespace}`);
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  }
  step(`applying ${manifestPath} (postgresql ${name}) in namespace ${namespace}`);
  await client.apply({ ...manifest, metadata: { ...manifest.metadata, namespace } } as KubeObject);

  const children = expectedChildren(name, namespace, client);
  const deadline = Date.now() + timeoutSeconds * 1000;
  const wantRunning = mode === 'kwok' || mode === 'database';
  let found: string[] = [];
  let status: string | undefined;
  let last = '';
  for (;;) {
    found = await children();
    const live = await client.get({ kind: 'postgresql', namespace, name });
    status = live?.status?.PostgresClusterStatus as string | undefined;
    const roles = (live?.status?.conditions as KubeObject[] | undefined)?.find((c) => c.type === 'RolesSynced');
    const rolesDone = roles?.status === 'True';
    const progress =
      `${found.length} objects, status ${status ?? '(none yet)'}` +
      (mode === 'database' ? `, roles ${roles ? `${roles.reason}` : '(not yet)'}` : '');
    if (progress !== last) step(`  waiting for the operator: ${progress}`);
    last = progress;
    const hasAll = ['StatefulSet', 'Service', 'Secret', 'PodDisruptionBudget'].every((kind) =>
      found.some((f) => f.startsWith(`${kind}/`)),
    );
    if (hasAll && status && (!wantRunning || status === 'Running') && (mode !== 'database' || rolesDone)) break;
    if (Date.now() > deadline) {
      throw new Error(
        `the cluster did not get there within ${timeoutSeconds} s (${progress}); see the logs in ${logDir}` +
          (members ? ` and ${members.dir}/pods` : ''),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const took = ((Date.now() - applied) / 1000).toFixed(1);
  console.log(
    `\nSummary: postgresql ${namespace}/${name} is ${status}; ${found.length} objects of the cluster present ${took} s after kubectl apply ` +
      `(${seconds()} s in all):`,
  );
  for (const object of found) console.log(`  ${object}`);
  if (status === 'Creating' && mode === 'light') {
    console.log(
      '  (status stays Creating while no pod runs: this plane has no controller-manager; as root with Debian packages ' +
        'patroni and postgresql-15 `npm start` runs real databases behind the pods)',
    );
  }

  const showcase = showcaseUser(manifest);
  if (mode === 'database' && showcase) {
    const checked = await checkLogin(client, namespace, name, showcase.user, showcase.database);
    console.log(`  login check: ${checked}`);
    writeRun({ pid: process.pid, kubeconfig: process.env.KUBECONFIG!, netns: true, namespace, cluster: name });
  }
  if (values.once) return shutdown(0);
  const kubectl = `${process.env.TESTENV_BIN ? `${process.env.TESTENV_BIN}/` : ''}kubectl`;
  const inside = mode === 'database' ? `nsenter -t ${process.pid} -n -m -- ` : '';
  const psql =
    (mode === 'database' || mode === 'cluster') && showcase
      ? `\nOpen psql on the master as ${showcase.user} (database ${showcase.database}, password from its Secret)` +
        `${mode === 'cluster' && status !== 'Running' ? ', once the cluster is Running' : ''}:\n` +
        `  npm run psql -- ${name}${namespace === 'default' ? '' : ` --namespace ${namespace}`}\n`
      : '';
  console.log(
    `${psql}\nThe operator is running. Try:\n` +
      `  ${inside}env KUBECONFIG=${process.env.KUBECONFIG} ${kubectl} -n ${namespace} edit postgresql ${name}   # e.g. numberOfInstances: 3\n` +
      `  ${inside}env KUBECONFIG=${process.env.KUBECONFIG} ${kubectl} -n ${namespace} delete postgresql ${name}\n` +
      (inside ? "(the plane lives in this job's network namespace: nsenter, as root, enters it)\n" : '') +
      'Press Ctrl-C to stop everything this job started.',
  );
}

main().catch(async (error: Error) => {
  console.error(`error: ${error.message}`);
  await shutdown(1);
});
