/**
 * The bridge as a process: `tsx lib/bridge/main.ts` (or the bundled `dist/bridge.js`).
 *
 * Environment:
 * - `KUBECONFIG` (else ~/.kube/config, else the in-cluster service account);
 * - `CONFIG_MAP_NAME`, `OPERATOR_NAMESPACE`, `WATCHED_NAMESPACE`: as for the functions;
 * - `BRIDGE_TARGETS` (`on-create=http://127.0.0.1:8081,...` or JSON), `BRIDGE_FUNCTION_URL_TEMPLATE` (default
 *   `http://{name}.{namespace}.svc.cluster.local:8080/`), `FUNCTION_NAMESPACE`;
 * - `BRIDGE_PORT` (default 8090; `/metrics`, `/healthz`), `PERIODIC_SYNC_SCHEDULE` (default the registry's;
 *   `off` disables), `BRIDGE_WATCH_NODES` (`false` to skip Nodes), `BRIDGE_COALESCE_MS` (200),
 *   `BRIDGE_CONCURRENCY` (16), `BRIDGE_REQUEST_TIMEOUT_MS` (300000), `BRIDGE_MAX_RETRIES` (unset: until it works),
 *   `BRIDGE_GRACE_MS` (5000), `LOG_LEVEL` (`debug` logs every delivery).
 *
 * SIGTERM/SIGINT stop it (in-flight deliveries get the grace period) and it exits 0. Bad settings exit 2 with
 * the reason.
 */
import { KubeClient } from '../k8s/client';
import { createLogger } from '../log/logger';
import { startBridge } from './bridge';
import { bridgeSettingsFromEnv, targetsFromEnv } from './config';

async function main(): Promise<void> {
  const env = process.env;
  const log = createLogger(undefined, env.LOG_LEVEL === 'debug' ? 'debug' : 'info');
  let options;
  try {
    options = { targets: targetsFromEnv(env), ...bridgeSettingsFromEnv(env) };
  } catch (error) {
    log.error('invalid bridge settings', { error: (error as Error).message });
    process.exit(2);
  }
  const client = KubeClient.fromDefault();
  let bridge;
  try {
    bridge = await startBridge({ ...options, client, env, log });
  } catch (error) {
    log.error('the bridge could not start', { error: (error as Error).message });
    client.close();
    process.exit(2);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    bridge.stop().then(
      () => {
        client.close();
        process.exit(0);
      },
      (error: Error) => {
        log.error('stop failed', { error: error.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log.info('bridge started', { metricsPort: bridge.port, apiServer: client.kubeConfig.getCurrentCluster()?.server });
}

void main();
