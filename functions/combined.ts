/**
 * Entry point of the single-process operator (bundled to `dist/combined/combined.js`; the `plain` target's Deployment
 * and `npm start`): every function in one host (lib/runtime/combined.ts) and the event bridge (lib/bridge) in the
 * same process, the bridge delivering to the host over loopback, so a call takes the same path (HTTP, parsing,
 * timeout, answer) as between two pods. The functions are bundled in, not loaded from `dist/functions`: one copy of
 * the libraries they share instead of one per function (measured without the bridge running, Node 20: 93 MiB RSS
 * against 127 MiB with the six bundles loaded from their directories).
 *
 * Environment: the host's (lib/runtime/host.ts: `MOD_NAME` default `handler`, `FUNC_PORT` 8080, `FUNC_HOST`,
 * `FUNC_TIMEOUT`, `FUNC_RUNTIME`, `FUNC_MEMORY_LIMIT`, `REQ_MB_LIMIT`, `FUNC_EMPTY_SUCCESS_REPLY`) without
 * `FUNC_HANDLER`; the bridge's (lib/bridge/main.ts) but the function URLs, which are
 * `http://127.0.0.1:<FUNC_PORT>/<name>`; `BRIDGE=off` runs the functions only. SIGTERM/SIGINT stop the bridge first
 * (its deliveries in flight get `BRIDGE_GRACE_MS`), then the host (its calls in flight get 10 s), and exit 0; bad
 * settings exit 2.
 */
import { startBridge, type Bridge } from '../lib/bridge/bridge';
import { bridgeSettingsFromEnv } from '../lib/bridge/config';
import { createBridgeMetrics } from '../lib/bridge/metrics';
import { KubeClient } from '../lib/k8s/client';
import { createLogger } from '../lib/log/logger';
import { BUNDLE_MODULE } from '../lib/registry/functions';
import { onCreate } from './onCreate/index';
import { onDelete } from './onDelete/index';
import { onNodeDrain } from './onNodeDrain/index';
import { onOperatorConfigChange } from './onOperatorConfigChange/index';
import { onUpdate } from './onUpdate/index';
import { operatorApi } from './operatorApi/index';
import { periodicSync } from './periodicSync/index';
import { startCombined } from '../lib/runtime/combined';
import { hostOptionsFromEnv, type KubelessHandler } from '../lib/runtime/host';

// The host passes the Kubeless event and context these handlers are typed for (host.ts builds them).
const kubeless = (handler: (event: never, context: never) => unknown) => handler as KubelessHandler;

/** Each registry export's handler. */
const HANDLERS: Record<string, KubelessHandler> = {
  onCreate: kubeless(onCreate),
  onDelete: kubeless(onDelete),
  onNodeDrain: kubeless(onNodeDrain),
  onOperatorConfigChange: kubeless(onOperatorConfigChange),
  onUpdate: kubeless(onUpdate),
  periodicSync: kubeless(periodicSync),
  operatorApi: kubeless(operatorApi),
};

async function main(): Promise<void> {
  const env = process.env;
  const log = createLogger(undefined, env.LOG_LEVEL === 'debug' ? 'debug' : 'info');
  let host;
  let settings;
  try {
    settings = bridgeSettingsFromEnv(env);
    const options = hostOptionsFromEnv({ MOD_NAME: BUNDLE_MODULE, ...env, FUNC_HANDLER: '(every function)' });
    host = await startCombined({ ...options, handler: (spec) => HANDLERS[spec.export]!, log });
  } catch (error) {
    log.error('Could not start the functions', { error: (error as Error).message });
    process.exit(2);
  }
  let client: KubeClient | undefined;
  let bridge: Bridge | undefined;
  if (env.BRIDGE?.trim().toLowerCase() !== 'off') {
    // Loopback reaches the server whatever address it binds, except one that is not a wildcard or loopback.
    const address =
      env.FUNC_HOST && !['0.0.0.0', '::', '127.0.0.1'].includes(env.FUNC_HOST) ? env.FUNC_HOST : '127.0.0.1';
    const targets = Object.fromEntries(
      Object.entries(host.paths).map(([name, p]) => [name, `http://${address}:${host.port}${p}`]),
    );
    client = KubeClient.fromDefault();
    try {
      // The host's registry has the process metrics; a second collector would sample the same event loop again.
      bridge = await startBridge({ ...settings, targets, client, env, log, metrics: createBridgeMetrics(false) });
    } catch (error) {
      log.error('the bridge could not start', { error: (error as Error).message });
      process.exit(2);
    }
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('Stopping', { signal });
    (async () => {
      await bridge?.stop();
      await host.close();
      client?.close();
    })().then(
      () => process.exit(0),
      (error: Error) => {
        log.error('stop failed', { error: error.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
