/**
 * `npm run bench -- cold-start [runs] [--dist DIR] [--no-invoke] [--no-source-maps]`: how fast a cold function host
 * answers, per function bundle (issue 14: ≤ 300 ms to the first reply, ≤ 1 MB a bundle).
 *
 * Each run spawns `node --enable-source-maps dist/host/host.js` with the env `scripts/deploy/local.ts` gives it
 * (MOD_NAME, FUNC_HANDLER, FUNC_PORT, FUNC_HOST, FUNC_TIMEOUT, KUBELESS_INSTALL_VOLUME; the image sets the same
 * flag through NODE_OPTIONS) and measures, from `spawn`:
 *
 * - `healthz`: until `GET /healthz` answers 200 (polled every 5 ms, as a readiness probe would; the host loads the
 *   bundle before it listens, so this is the start-up proper);
 * - `metrics`: until the first `GET /metrics` answers (prom-client's first collection);
 * - `invoke`: until the function's first real event is answered (2xx, or 503 asking to be called again) by the
 *   function's own logic against a Kubernetes API: an add/update/delete of an absent `postgresql` object, a change
 *   of the operator ConfigMap, a change of a Node that is not going away, or a schedule's empty body. This is what a
 *   platform that scales to zero waits for: kubeconfig, the first TLS connection and the operator config included.
 *   Without $KUBECONFIG an apiserver-only local control plane is started for it (`bench/testenv.ts`); `--no-invoke`
 *   skips it (no control plane at all);
 * - the host's CPU time at `healthz` (all threads, from /proc schedstat), and its RSS (VmRSS) after `metrics` and
 *   after `invoke`.
 *
 * Runs go round the functions (one of each per round) after one round that is not counted (disk cache, and the
 * config change's first write), so a machine whose load drifts moves every function alike. Medians are printed.
 * The build runs first (`scripts/build.ts --quiet`), unless `--dist DIR` names bundles to measure as they are (e.g.
 * `scripts/build.ts --outdir DIR` of a variant); sizes are those of the bundles measured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { KubeClient } from '../lib/k8s/client';
import { BUNDLE_MODULE, FUNCTIONS, type FunctionSpec } from '../lib/registry/functions';
import { freePort } from '../scripts/deploy/local';
import { rssMiB, summarize } from './stats';
import { buildBundles, ensureControlPlane, prepareOperatorNamespace } from './testenv';

const root = fileURLToPath(new URL('../', import.meta.url));
/** Poll interval of `/healthz`, ms. */
const POLL_MS = 5;
/** A host that has not answered by then is broken, not slow. */
const GIVE_UP_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (samples: number[]) => summarize(samples).medianMs;

/** One request on a fresh connection; resolves with the status, or 0 when nothing listens yet. */
function request(port: number, method: string, urlPath: string, body?: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent: false,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/**
 * @returns CPU ms a process has run so far, all its threads (V8's compiler and GC threads too): the sum of the first
 *   field of /proc/<pid>/task/<tid>/schedstat, nanoseconds on the CPU (Linux, "sched stats" documentation). Less
 *   disturbed than wall time by other work on the machine, and finer than /proc/<pid>/stat's 10 ms ticks.
 */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`))
    ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  return Math.round(ns / 1e4) / 100;
}

/**
 * The first event of a function: what its trigger sends, about an object the bench never creates, so the logic
 * runs (config read, object read) and answers without work. `undefined`: a schedule's empty body.
 */
function firstEvent(spec: FunctionSpec, namespace: string): string | undefined {
  const { trigger } = spec;
  if (trigger.type !== 'resource') return undefined;
  const type = { add: 'ADDED', update: 'MODIFIED', delete: 'DELETED' }[trigger.actions[0]!];
  const object = {
    postgresql: { apiVersion: 'acid.zalan.do/v1', kind: 'postgresql', metadata: { name: 'cold-start', namespace } },
    'operator-configmap': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'postgres-operator', namespace } },
    node: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'cold-start' }, spec: {} },
  }[trigger.resource];
  return JSON.stringify({ type, object });
}

/** One run's figures, ms from spawn (and MiB). */
interface Sample {
  healthzMs: number;
  metricsMs: number;
  cpuMs: number;
  rssMiB: number;
  invokeMs?: number;
  invokeStatus?: number;
  rssInvokedMiB?: number;
}

interface RunOptions {
  /** the build: `host/host.js` and `functions/<name>/handler.js` */
  dist: string;
  sourceMaps: boolean;
  env: NodeJS.ProcessEnv;
  /** the namespace of the first event; undefined: no invocation */
  namespace?: string;
}

async function coldStart(spec: FunctionSpec, options: RunOptions): Promise<Sample> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.sourceMaps ? ['--enable-source-maps'] : []), path.join(options.dist, 'host/host.js')],
    {
      env: {
        ...options.env,
        MOD_NAME: BUNDLE_MODULE,
        FUNC_HANDLER: spec.export,
        FUNC_PORT: String(port),
        FUNC_HOST: '127.0.0.1',
        FUNC_TIMEOUT: '60',
        KUBELESS_INSTALL_VOLUME: path.join(options.dist, 'functions', spec.name),
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    },
  );
  const since = () => performance.now() - started;
  try {
    while ((await request(port, 'GET', '/healthz')) !== 200) {
      if (child.exitCode !== null) throw new Error(`${spec.name}: the host exited with code ${child.exitCode}`);
      if (since() > GIVE_UP_MS) throw new Error(`${spec.name}: no /healthz within ${GIVE_UP_MS} ms`);
      await sleep(POLL_MS);
    }
    const healthzMs = since();
    const cpu = cpuMs(child.pid!);
    const metricsStatus = await request(port, 'GET', '/metrics');
    const metricsMs = since();
    if (metricsStatus !== 200) throw new Error(`${spec.name}: /metrics answered ${metricsStatus}`);
    const sample: Sample = { healthzMs, metricsMs, cpuMs: cpu, rssMiB: rssMiB(child.pid!) };
    if (options.namespace === undefined) return sample;
    // The operator API is called, not sent events: its first call is a request without a token (401 expected).
    const called = spec.trigger.type === 'http';
    const status = called
      ? await request(port, 'GET', '/status/')
      : await request(port, 'POST', '/', firstEvent(spec, options.namespace));
    if (!(called ? status === 401 : (status >= 200 && status < 300) || status === 503))
      throw new Error(`${spec.name}: the first event was answered ${status}`);
    return { ...sample, invokeMs: since(), invokeStatus: status, rssInvokedMiB: rssMiB(child.pid!) };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** Runs the benchmark; see the module comment for the arguments. */
export async function benchColdStart(args: string[]): Promise<Record<string, unknown>> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      dist: { type: 'string' },
      'no-invoke': { type: 'boolean', default: false },
      'no-source-maps': { type: 'boolean', default: false },
    },
  });
  const runs = Number(positionals[0] ?? 10);
  if (!values.dist) buildBundles('inherit');
  const invoke = !values['no-invoke'];
  const stopPlane = invoke ? ensureControlPlane() : () => undefined;
  const namespace = invoke ? `bench-cold-start-${process.pid}` : undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(namespace ? { OPERATOR_NAMESPACE: namespace, WATCHED_NAMESPACE: namespace } : {}),
  };
  const options: RunOptions = {
    dist: path.resolve(values.dist ?? path.join(root, 'dist')),
    sourceMaps: !values['no-source-maps'],
    env,
    namespace,
  };
  const samples = new Map<string, Sample[]>(FUNCTIONS.map((spec) => [spec.name, []]));
  try {
    const client = namespace === undefined ? undefined : KubeClient.fromDefault();
    if (client && namespace) await prepareOperatorNamespace(client, namespace);
    try {
      for (let round = 0; round <= runs; round++) {
        for (const spec of FUNCTIONS) {
          const sample = await coldStart(spec, options);
          if (round > 0) samples.get(spec.name)!.push(sample);
        }
      }
    } finally {
      if (client && namespace) {
        await client.delete({ kind: 'Namespace', name: namespace });
        client.close();
      }
    }
  } finally {
    stopPlane();
  }
  const functions = FUNCTIONS.map((spec) => {
    const code = readFileSync(path.join(options.dist, 'functions', spec.name, `${BUNDLE_MODULE}.js`));
    const all = samples.get(spec.name)!;
    const pick = (key: keyof Sample) => median(all.map((s) => s[key] as number));
    return {
      function: spec.name,
      bytes: code.length,
      gzipBytes: gzipSync(code).length,
      healthzMs: summarize(all.map((s) => s.healthzMs)),
      metricsMedianMs: pick('metricsMs'),
      ...(invoke ? { invoke: summarize(all.map((s) => s.invokeMs!)), rssInvokedMiB: pick('rssInvokedMiB') } : {}),
      cpuMedianMs: pick('cpuMs'),
      rssMiB: pick('rssMiB'),
    };
  });
  console.table(
    functions.map((f) => ({
      function: f.function,
      KiB: +(f.bytes / 1024).toFixed(1),
      'gzip KiB': +(f.gzipBytes / 1024).toFixed(1),
      'healthz ms': f.healthzMs.medianMs,
      'metrics ms': f.metricsMedianMs,
      ...(f.invoke ? { 'invoke ms': f.invoke.medianMs, 'invoke p99 ms': f.invoke.p99Ms } : {}),
      'CPU ms': f.cpuMedianMs,
      'RSS MiB': f.rssMiB,
      ...(f.rssInvokedMiB ? { 'RSS invoked MiB': f.rssInvokedMiB } : {}),
    })),
  );
  return { runs, node: process.version, dist: options.dist, sourceMaps: options.sourceMaps, functions };
}
