/**
 * Zalando's postgres-operator (the reference peer, built by `build-peer.sh`) as a local process against a test
 * plane: the differential and takeover tests and `npm run bench -- peer` start and stop it with these functions.
 *
 * The peer runs out of cluster (`-outofcluster -kubeconfig FILE`, env `CONFIG_MAP_NAME`, `WATCHED_NAMESPACE`,
 * `OPERATOR_NAMESPACE`: docs/developer.md of Zalando's repository, "Running the operator locally"). Its REST API
 * listens on the ConfigMap's `api_port` (default 8080): give each peer its own port when several run at once.
 *
 * Source: github.com/zalando/postgres-operator v1.15.1, cmd/main.go and pkg/controller (the log lines waited for).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const buildScript = fileURLToPath(new URL('./build-peer.sh', import.meta.url));

/** The peer's binary and the directory of its module's sources (Zalando's `manifests/`, `docs/`, `e2e/`). */
export interface PeerBuild {
  binary: string;
  source: string;
}

let built: PeerBuild | undefined;

/**
 * Builds the peer once (a no-op with a warm cache: `build-peer.sh` prints the paths) and returns where it is.
 * Throws with the build's exit status when Go or the module proxy is unavailable.
 */
export function peerBuild(): PeerBuild {
  if (built) return built;
  const out = execFileSync('bash', [buildScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const [binary, source] = out.trim().split('\n');
  if (!binary || !source || !existsSync(binary)) throw new Error(`build-peer.sh printed no binary: ${out}`);
  built = { binary, source };
  return built;
}

/** @returns a file of the peer's module, e.g. `manifests/configmap.yaml` */
export function peerFile(path: string): string {
  return readFileSync(`${peerBuild().source}/${path}`, 'utf8');
}

/** Where and how one peer process runs. */
export interface PeerOptions {
  kubeconfig: string;
  /** the namespace it watches (`WATCHED_NAMESPACE`) */
  watchedNamespace: string;
  /** `namespace/name` of its operator ConfigMap (`CONFIG_MAP_NAME`) */
  configMap: string;
  /** the namespace it considers its own (`OPERATOR_NAMESPACE`); default: the ConfigMap's */
  operatorNamespace?: string;
  /** its stdout and stderr go here (appended) */
  logFile: string;
  /** how long to wait for "started working in background", ms (default 60000) */
  startTimeoutMs?: number;
  /** more command-line flags, e.g. `['-kubeqps', '100', '-kubeburst', '100']` (its client's rate limit) */
  args?: string[];
}

/** A running peer. */
export interface PeerProcess {
  pid: number;
  /** stops it (SIGTERM, then SIGKILL after 10 s) and resolves once it has exited */
  stop(): Promise<void>;
}

/**
 * Starts the peer and resolves once its controller has started working (its log says so), i.e. it has listed the
 * existing clusters and will act on events. Rejects with the tail of its log when it exits or times out first.
 */
export async function startPeer(options: PeerOptions): Promise<PeerProcess> {
  const { binary } = peerBuild();
  const env = {
    ...process.env,
    CONFIG_MAP_NAME: options.configMap,
    WATCHED_NAMESPACE: options.watchedNamespace,
    OPERATOR_NAMESPACE: options.operatorNamespace ?? options.configMap.split('/')[0]!,
  };
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(binary, ['-outofcluster', '-kubeconfig', options.kubeconfig, ...(options.args ?? [])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(
      () => reject(new Error(`peer not started after ${options.startTimeoutMs ?? 60000} ms:\n${text.slice(-2000)}`)),
      options.startTimeoutMs ?? 60000,
    );
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (text.length < 1_000_000) text += chunk.toString();
      if (text.includes('started working in background')) {
        clearTimeout(timeout);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timeout);
      reject(new Error(`peer exited (${code}) before it started:\n${text.slice(-2000)}`));
    });
  });
  try {
    await ready;
  } catch (error) {
    await stopChild(child, exited);
    log.end();
    throw error;
  }
  return {
    pid: child.pid!,
    stop: async () => {
      await stopChild(child, exited);
      log.end();
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
