/**
 * The `local` target, against the cluster of $KUBECONFIG, in one of two layouts:
 * - `single` (`npm start`, `npm run deploy -- local`): one process, `dist/combined/combined.js`, serving every
 *   function under `/<name>` on one loopback port and running the event bridge, which delivers to it;
 * - `per-function` (`--per-function`; the default of `startLocal`, which the tests use to kill one function's
 *   host): every function as a function-host process (the same `dist/host/host.js` and bundles the images run)
 *   on its own loopback port, plus the event bridge process delivering to them.
 *
 * Each process logs JSON lines to `<logDir>/<name>.log`. `stop()` sends SIGTERM to every process and SIGKILL to
 * any still running after the grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_MODULE, FUNCTIONS, type FunctionSpec } from '../../lib/registry/functions';
import { KubeClient } from '../../lib/k8s/client';
import { installCrd } from '../../lib/k8s/crd';
import { commonObjects } from './common';
import type { DeployCommand } from './options';
import { API_HOST_METRICS_PATH, OPERATOR_NODE_FLAGS } from './workloads';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Options of a local deployment. */
export interface LocalOptions {
  /** where the bundles are; default `<repo>/dist` (run `npm run build` first) */
  distDir?: string;
  /** one log file per process here */
  logDir: string;
  /** extra environment for every process (KUBECONFIG, OPERATOR_NAMESPACE, WATCHED_NAMESPACE, ...) */
  env?: Record<string, string | undefined>;
  /** the functions to run; default all */
  functions?: readonly FunctionSpec[];
  /** start the bridge (default true) */
  bridge?: boolean;
  /** per-function environment, e.g. a kubeconfig with the function's own ServiceAccount token */
  functionEnv?: (spec: FunctionSpec) => Record<string, string | undefined>;
  /** ms to wait for every process to answer /healthz; default 30000 */
  readyTimeoutMs?: number;
  /**
   * `per-function` (default): a host process per function and a bridge process; `single`: one process for all
   * (`dist/combined/combined.js`), where `functionEnv` is not applied (one process has one set of credentials)
   */
  mode?: 'single' | 'per-function';
}

/** One running process (in single mode, one function or the bridge of the one process). */
export interface LocalProcess {
  name: string;
  /** where to POST a function's calls (`http://127.0.0.1:<port>/`, or `.../<name>` in single mode) */
  url: string;
  port: number;
  child: ChildProcess;
  log: string;
}

/** A running local deployment. */
export interface LocalDeployment {
  functions: LocalProcess[];
  bridge?: LocalProcess;
  /** SIGTERM to every process, SIGKILL after `graceMs` (default 5000) */
  stop(graceMs?: number): Promise<void>;
  /** stops the bridge only (SIGKILL when `kill`, as after a crash); throws in single mode */
  stopBridge(kill?: boolean): Promise<void>;
  /** starts the bridge again on the same port and waits until its initial lists are delivered; throws in single mode */
  startBridge(): Promise<void>;
  /**
   * Throws in single mode. Kills one function's host with SIGKILL (as a crash or a platform timeout would,
   * mid-invocation), then, after `downMs` (default 0: a platform restarting it at once), starts a new one on the same
   * port and waits for /healthz. Throws for an unknown name.
   */
  killAndRestart(name: string, downMs?: number): Promise<LocalProcess>;
  /**
   * Starts a second host of one function on a new port (as a platform scaling a function to two replicas) and waits
   * for /healthz; the bridge does not deliver to it, the caller does. `stop()` stops it too. Throws for an unknown
   * name, and in single mode.
   */
  startAnother(name: string): Promise<LocalProcess>;
}

/** @returns a free loopback TCP port */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(proc: LocalProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null)
      throw new Error(`${proc.name} exited with code ${proc.child.exitCode}; see ${proc.log}`);
    try {
      const response = await fetch(`http://127.0.0.1:${proc.port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline)
      throw new Error(`${proc.name} did not become healthy within ${timeoutMs} ms; see ${proc.log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function terminate(proc: LocalProcess, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
    proc.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.child.kill(signal);
  });
}

function start(
  name: string,
  script: string,
  env: Record<string, string | undefined>,
  port: number,
  logDir: string,
  nodeFlags: readonly string[] = [],
): LocalProcess {
  const log = path.join(logDir, `${name}.log`);
  const child = spawn(process.execPath, ['--enable-source-maps', ...nodeFlags, script], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(log, { flags: 'a' });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return { name, url: `http://127.0.0.1:${port}/`, port, child, log };
}

/** What single mode cannot do: its functions and bridge share one process. */
function notInSingleMode(what: string): Promise<never> {
  return Promise.reject(new Error(`${what} is not supported in single mode (one process runs everything)`));
}

/** The single-process layout of {@link startLocal}. */
async function startSingle(options: LocalOptions, dist: string): Promise<LocalDeployment> {
  const script = path.join(dist, 'combined/combined.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  mkdirSync(options.logDir, { recursive: true });
  const base = { ...process.env, ...options.env };
  const specs = options.functions ?? FUNCTIONS;
  const [port, bridgePort] = [await freePort(), await freePort()];
  const operator = start(
    'operator',
    script,
    {
      ...base,
      FUNC_PORT: String(port),
      FUNC_HOST: '127.0.0.1',
      FUNC_TIMEOUT: base.FUNC_TIMEOUT ?? '60',
      BRIDGE_PORT: String(bridgePort),
      BRIDGE: options.bridge === false ? 'off' : 'on',
    },
    port,
    options.logDir,
    // The heap flags the plain Deployment starts it with (see OPERATOR_NODE_FLAGS).
    OPERATOR_NODE_FLAGS,
  );
  const functions = specs.map((spec) => ({ ...operator, name: spec.name, url: `${operator.url}${spec.name}` }));
  const bridge =
    options.bridge === false
      ? undefined
      : { ...operator, name: 'bridge', url: `http://127.0.0.1:${bridgePort}/`, port: bridgePort };
  try {
    await waitHealthy(operator, options.readyTimeoutMs ?? 30_000);
    if (bridge) await waitHealthy(bridge, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await terminate(operator, 1000);
    throw error;
  }
  return {
    functions,
    bridge,
    stop: (graceMs = 5000) => terminate(operator, graceMs),
    stopBridge: () => notInSingleMode('stopBridge'),
    startBridge: () => notInSingleMode('startBridge'),
    killAndRestart: () => notInSingleMode('killAndRestart'),
    startAnother: () => notInSingleMode('startAnother'),
  };
}

/**
 * Starts the functions, then the bridge, and waits until every one answers /healthz (the bridge only after its
 * initial lists). Throws (after stopping what it started) when a process does not come up.
 */
export async function startLocal(options: LocalOptions): Promise<LocalDeployment> {
  const dist = options.distDir ?? path.join(root, 'dist');
  if (options.mode === 'single') return startSingle(options, dist);
  const host = path.join(dist, 'host/host.js');
  if (!existsSync(host)) throw new Error(`${host} is missing: run \`npm run build\` first`);
  mkdirSync(options.logDir, { recursive: true });
  const base = { ...process.env, ...options.env };
  const specs = options.functions ?? FUNCTIONS;
  const functions: LocalProcess[] = [];
  const others: LocalProcess[] = [];
  let bridge: LocalProcess | undefined;
  const stop = async (graceMs = 5000) => {
    await Promise.all([...functions, ...others, ...(bridge ? [bridge] : [])].map((p) => terminate(p, graceMs)));
  };
  let bridgePort = 0;
  const startBridge = async () => {
    bridgePort ||= await freePort();
    const targets = functions.map((p) => `${p.name}=${p.url}`).join(',');
    bridge = start(
      'bridge',
      path.join(dist, 'bridge/bridge.js'),
      { ...base, BRIDGE_TARGETS: targets, BRIDGE_PORT: String(bridgePort) },
      bridgePort,
      options.logDir,
    );
    await waitHealthy(bridge, options.readyTimeoutMs ?? 30_000);
  };
  const startFunction = (spec: FunctionSpec, port: number) =>
    start(
      spec.name,
      host,
      {
        ...base,
        ...options.functionEnv?.(spec),
        MOD_NAME: BUNDLE_MODULE,
        FUNC_HANDLER: spec.export,
        FUNC_PORT: String(port),
        FUNC_HOST: '127.0.0.1',
        FUNC_TIMEOUT: base.FUNC_TIMEOUT ?? '60',
        KUBELESS_INSTALL_VOLUME: path.join(dist, 'functions', spec.name),
        // The operator API answers /metrics itself (per-cluster metrics); the host's own move aside.
        ...(spec.trigger.type === 'http' ? { FUNC_METRICS_PATH: API_HOST_METRICS_PATH } : {}),
      },
      port,
      options.logDir,
    );
  // One restart of a function at a time: two at once would both kill the old host and both start a new one, and
  // the first new one would be left running, unknown to stop().
  const restarts = new Map<string, Promise<unknown>>();
  const killAndRestart = (name: string, downMs = 0): Promise<LocalProcess> => {
    const next = (restarts.get(name) ?? Promise.resolve()).catch(() => undefined).then(() => restartNow(name, downMs));
    restarts.set(name, next);
    return next;
  };
  const restartNow = async (name: string, downMs: number) => {
    const index = functions.findIndex((p) => p.name === name);
    const spec = specs.find((s) => s.name === name);
    if (index < 0 || !spec) throw new Error(`no function ${name} in this deployment`);
    await terminate(functions[index]!, 0, 'SIGKILL');
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    functions[index] = startFunction(spec, functions[index]!.port);
    await waitHealthy(functions[index]!, options.readyTimeoutMs ?? 30_000);
    return functions[index]!;
  };
  const startAnother = async (name: string) => {
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new Error(`no function ${name} in this deployment`);
    const another = startFunction(spec, await freePort());
    others.push(another);
    await waitHealthy(another, options.readyTimeoutMs ?? 30_000);
    return another;
  };
  try {
    for (const spec of specs) functions.push(startFunction(spec, await freePort()));
    await Promise.all(functions.map((p) => waitHealthy(p, options.readyTimeoutMs ?? 30_000)));
    if (options.bridge !== false) await startBridge();
  } catch (error) {
    await stop(1000);
    throw error;
  }
  return {
    functions,
    get bridge() {
      return bridge;
    },
    stop,
    stopBridge: async (kill = false) => {
      if (bridge) await terminate(bridge, 5000, kill ? 'SIGKILL' : 'SIGTERM');
    },
    startBridge,
    killAndRestart,
    startAnother,
  };
}

/**
 * `npm run deploy -- local`: applies the RBAC objects and the CRD (unless `--no-crd`) to the cluster of $KUBECONFIG,
 * builds nothing (run `npm run build` first), starts the functions and the bridge in one process (`--per-function`:
 * one process each) with the admin credentials of $KUBECONFIG, prints where they listen, and runs until Ctrl-C, which
 * stops them.
 * With `--dry-run` it prints what it would start.
 */
export async function deployLocal(command: DeployCommand): Promise<void> {
  const { options } = command;
  const env = {
    OPERATOR_NAMESPACE: options.configMap.namespace,
    CONFIG_MAP_NAME: `${options.configMap.namespace}/${options.configMap.name}`,
    WATCHED_NAMESPACE: options.watchedNamespaces === '*' ? '*' : options.watchedNamespaces.join(','),
    FUNC_TIMEOUT: String(options.timeoutSeconds),
  };
  if (command.dryRun && !options.perFunction) {
    console.log(
      `operator: node ${options.distDir}/combined/combined.js (every function and the bridge); env ${JSON.stringify(env)}`,
    );
    return;
  }
  if (command.dryRun) {
    for (const spec of FUNCTIONS)
      console.log(`function ${spec.name}: node ${options.distDir}/host/host.js (FUNC_HANDLER=${spec.export})`);
    console.log(`bridge: node ${options.distDir}/bridge/bridge.js; env ${JSON.stringify(env)}`);
    return;
  }
  const client = KubeClient.fromDefault();
  try {
    const objects = commonObjects(options);
    const crd = objects.find((o) => o.kind === 'CustomResourceDefinition');
    if (crd) await installCrd(client, crd);
    for (const object of objects.filter((o) => o !== crd)) await client.apply(object);
  } finally {
    client.close();
  }
  const logDir = path.join(root, '.testenv/local-logs');
  const mode = options.perFunction ? 'per-function' : 'single';
  const deployment = await startLocal({ distDir: options.distDir, logDir, env, mode });
  for (const p of [...deployment.functions, deployment.bridge!]) console.log(`${p.name} at ${p.url} (log ${p.log})`);
  console.log('running; Ctrl-C stops every process');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await deployment.stop();
}
