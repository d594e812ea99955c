/**
 * The pods the plain and knative targets run (and the kubeless target's bridge): a Deployment per function
 * running the project's kubeless-compatible host on the function's bundle, its Service, and the event bridge.
 *
 * Sources: Kubeless runtime contract (env MOD_NAME, FUNC_HANDLER, FUNC_PORT, FUNC_TIMEOUT, FUNC_RUNTIME,
 * KUBELESS_INSTALL_VOLUME; `/healthz` liveness with 3 s delay and 30 s period; Prometheus annotations; user 1000;
 * maxUnavailable 0; runtime research §1.1, §2); Kubernetes API reference apps/v1 Deployment, core/v1 Service,
 * "Pod Security Standards" (restricted).
 */
import { BUNDLE_MODULE, type FunctionSpec } from '../../lib/registry/functions';
import { BRIDGE_NAME, FUNCTION_PORT, labels, OPERATOR_NAME, selectorLabels, type DesiredObject } from './meta';
import type { DeployOptions } from './options';

/** Where the image holds the build output (Dockerfile `WORKDIR /app`, `COPY dist/`). */
export const IMAGE_APP_DIR = '/app';

/** @returns the directory of a function's bundle inside the runtime image (`.../dist/functions/<name>`) */
export function imageBundleDir(spec: FunctionSpec): string {
  return `${IMAGE_APP_DIR}/dist/functions/${spec.name}`;
}

/** URL template the bridge fills in for each function (`{name}`, `{namespace}`). */
export const BRIDGE_FUNCTION_URL_TEMPLATE = `http://{name}.{namespace}.svc.cluster.local:${FUNCTION_PORT}/`;

type EnvVar = { name: string; value: string } | { name: string; valueFrom: Record<string, unknown> };

/**
 * The env every operator process reads (lib/sync/operator-config.ts): where its ConfigMap is and which
 * namespaces it manages. WATCHED_NAMESPACE overrides the ConfigMap's `watched_namespace`, so the functions never
 * reach beyond the namespaces their RBAC was generated for.
 */
export function operatorEnv(options: DeployOptions): EnvVar[] {
  return [
    { name: 'OPERATOR_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'CONFIG_MAP_NAME', value: `${options.configMap.namespace}/${options.configMap.name}` },
    { name: 'WATCHED_NAMESPACE', value: options.watchedNamespaces === '*' ? '*' : options.watchedNamespaces.join(',') },
  ];
}

/**
 * Where a host running the operator API serves its own call metrics (`FUNC_METRICS_PATH`, lib/runtime/host.ts):
 * `/metrics` is the API's, the per-cluster metrics (lib/api/metrics.ts).
 */
export const API_HOST_METRICS_PATH = '/function-metrics';

/** The Kubeless runtime env of a function (what the Kubeless controller would set). */
export function functionEnv(spec: FunctionSpec, options: DeployOptions, installVolume?: string): EnvVar[] {
  return [
    { name: 'MOD_NAME', value: BUNDLE_MODULE },
    { name: 'FUNC_HANDLER', value: spec.export },
    { name: 'FUNC_PORT', value: String(FUNCTION_PORT) },
    { name: 'FUNC_TIMEOUT', value: String(options.timeoutSeconds) },
    { name: 'FUNC_RUNTIME', value: options.kubelessRuntime },
    ...(installVolume ? [{ name: 'KUBELESS_INSTALL_VOLUME', value: installVolume }] : []),
    ...(spec.trigger.type === 'http' ? [{ name: 'FUNC_METRICS_PATH', value: API_HOST_METRICS_PATH }] : []),
  ];
}

/** Pod security for the host (Pod Security Standard "restricted"); uid 1000 as in the Kubeless runtimes. */
export const POD_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  fsGroup: 1000,
  seccompProfile: { type: 'RuntimeDefault' },
};
/** Container security for the host: nothing to escalate, nothing to write. */
export const CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};
/** Requests and limits of a host (a Node process with one bundle idles at well under 100 MiB). */
export const HOST_RESOURCES = { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } };

/**
 * Node flags of the one-process operator (`dist/combined/combined.js`: the plain Deployment, `npm start`, `npm run
 * deploy -- local`). Its peak memory is garbage, not what it keeps: V8 collects the old generation once it has
 * grown to a factor of what survived the last collection, up to 4x when the heap may grow to gigabytes (its default
 * on a machine with a few GiB or more), and a fleet sync or the bridge's start makes garbage in bursts. A limit
 * below the default lowers that factor (about 1.3x; V8 `heap/heap-controller.cc`, `MaxGrowingFactor`), so the
 * process collects sooner and its peak follows what it keeps. 384 MiB of old generation: several times what the
 * operator keeps with 10,000 clusters (bench/README.md, "fleet"), and with the new generation and Node's own memory
 * it stays under the pod's 512 MiB limit (`HOST_RESOURCES`), so a heap that outgrows it fails with V8's "heap out of
 * memory" and its stack instead of the kernel's OOM kill.
 */
export const OPERATOR_NODE_FLAGS: readonly string[] = ['--max-old-space-size=384'];

/** `GET /healthz` on the function port, Kubeless's liveness probe timing. */
export const LIVENESS_PROBE = {
  httpGet: { path: '/healthz', port: FUNCTION_PORT },
  initialDelaySeconds: 3,
  periodSeconds: 30,
};

/** Prometheus scrape annotations of a function pod (as the Kubeless controller sets them). */
export const PROMETHEUS_ANNOTATIONS = {
  'prometheus.io/path': '/metrics',
  'prometheus.io/port': String(FUNCTION_PORT),
  'prometheus.io/scrape': 'true',
};

/** The host container of a function (also the container of a Kubeless Function's deployment template). */
export function functionContainer(
  spec: FunctionSpec,
  options: DeployOptions,
  installVolume?: string,
): Record<string, unknown> {
  return {
    name: spec.name,
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    env: [...functionEnv(spec, options, installVolume), ...operatorEnv(options)],
    ports: [{ name: 'http', containerPort: FUNCTION_PORT, protocol: 'TCP' }],
    livenessProbe: LIVENESS_PROBE,
    readinessProbe: { httpGet: { path: '/healthz', port: FUNCTION_PORT }, periodSeconds: 10 },
    resources: HOST_RESOURCES,
    securityContext: CONTAINER_SECURITY_CONTEXT,
  };
}

/**
 * A function's Deployment: the runtime image's default command (the host) with `KUBELESS_INSTALL_VOLUME` at the
 * function's bundle inside the image, under the function's own ServiceAccount.
 */
export function functionDeployment(spec: FunctionSpec, options: DeployOptions): DesiredObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: spec.name,
      namespace: options.namespace,
      labels: labels(spec.name),
      annotations: { description: spec.description },
    },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(spec.name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: labels(spec.name),
          annotations:
            spec.trigger.type === 'http'
              ? { ...PROMETHEUS_ANNOTATIONS, 'prometheus.io/path': API_HOST_METRICS_PATH }
              : PROMETHEUS_ANNOTATIONS,
        },
        spec: {
          serviceAccountName: spec.name,
          securityContext: POD_SECURITY_CONTEXT,
          containers: [functionContainer(spec, options, imageBundleDir(spec))],
        },
      },
    },
  };
}

/**
 * A function's Service, named like the function (the bridge and the cron address it by that name).
 * @param port the Service port: 8080 as Kubeless does, or 80 for Knative (an ApiServerSource or PingSource sink
 *   `ref` to a core Service resolves to `http://<name>.<namespace>.svc.cluster.local`, i.e. port 80)
 * @param component the pods it selects: the function's own, or `operator` (the single process, which serves the
 *   operator API under `/operator-api/`)
 */
export function functionService(
  spec: FunctionSpec,
  options: DeployOptions,
  port: number,
  component = spec.name,
): DesiredObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.name, namespace: options.namespace, labels: labels(spec.name) },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(component),
      // "http-" prefix as in Kubeless, so a service mesh detects the protocol.
      ports: [{ name: 'http-function-port', port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/**
 * A Deployment of one replica updated with Recreate, its pod under the ServiceAccount `name`: for a process running
 * the bridge, of which two would deliver every event twice (harmless, the functions are idempotent, but wasteful).
 * @param component the app.kubernetes.io/component label, also the selector
 */
function singleReplicaDeployment(
  name: string,
  component: string,
  options: DeployOptions,
  annotations: Record<string, string>,
  container: Record<string, unknown>,
): DesiredObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: options.namespace, labels: labels(component) },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(component) },
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels: labels(component), annotations },
        spec: { serviceAccountName: name, securityContext: POD_SECURITY_CONTEXT, containers: [container] },
      },
    },
  };
}

/** Port of the bridge's `/metrics` and `/healthz` (lib/bridge/main.ts `BRIDGE_PORT` default). */
export const BRIDGE_PORT = 8090;

/**
 * The event bridge (`dist/bridge/bridge.js` in the runtime image): informers on postgresql objects, the operator
 * ConfigMap and Nodes, delivering CloudEvents to `BRIDGE_FUNCTION_URL_TEMPLATE`. Its own cron is off
 * (`PERIODIC_SYNC_SCHEDULE=off`): in a cluster a CronJob or CronJobTrigger calls periodic-sync. Ready once its
 * initial lists are done (`/healthz`). One replica: two would deliver every event twice (harmless, the functions
 * are idempotent, but wasteful), so updates use Recreate.
 */
export function bridgeDeployment(options: DeployOptions): DesiredObject {
  const annotations = {
    'prometheus.io/path': '/metrics',
    'prometheus.io/port': String(BRIDGE_PORT),
    'prometheus.io/scrape': 'true',
  };
  return singleReplicaDeployment(BRIDGE_NAME, 'bridge', options, annotations, {
    name: 'bridge',
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    command: ['node', `${IMAGE_APP_DIR}/dist/bridge/bridge.js`],
    env: [
      ...operatorEnv(options),
      { name: 'BRIDGE_FUNCTION_URL_TEMPLATE', value: BRIDGE_FUNCTION_URL_TEMPLATE },
      { name: 'BRIDGE_PORT', value: String(BRIDGE_PORT) },
      { name: 'PERIODIC_SYNC_SCHEDULE', value: 'off' },
    ],
    ports: [{ name: 'metrics', containerPort: BRIDGE_PORT, protocol: 'TCP' }],
    // 503 until the initial lists are done: not ready, but alive.
    readinessProbe: { httpGet: { path: '/healthz', port: BRIDGE_PORT }, periodSeconds: 10 },
    livenessProbe: { tcpSocket: { port: BRIDGE_PORT }, initialDelaySeconds: 10, periodSeconds: 30 },
    resources: HOST_RESOURCES,
    securityContext: CONTAINER_SECURITY_CONTEXT,
  });
}

/**
 * The single-process layout (`plain` without `--per-function`): one pod running `dist/combined/combined.js`, every
 * function under `/<name>` on 8080 (`/healthz` liveness, `/metrics` with a `function` label, scraped) and the bridge
 * delivering to them over loopback, `/healthz` on 8090 for readiness (200 once its initial lists are done). The
 * bridge's own cron calls periodic-sync (`PERIODIC_SYNC_SCHEDULE`, the registry's schedule), so no CronJob starts a
 * pod every few minutes and no Service is needed. One replica with Recreate, as the bridge (two would deliver
 * every event twice).
 */
export function operatorDeployment(options: DeployOptions): DesiredObject {
  return singleReplicaDeployment(OPERATOR_NAME, 'operator', options, PROMETHEUS_ANNOTATIONS, {
    name: 'operator',
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    command: ['node', ...OPERATOR_NODE_FLAGS, `${IMAGE_APP_DIR}/dist/combined/combined.js`],
    env: [
      { name: 'MOD_NAME', value: BUNDLE_MODULE },
      { name: 'FUNC_PORT', value: String(FUNCTION_PORT) },
      { name: 'FUNC_TIMEOUT', value: String(options.timeoutSeconds) },
      { name: 'FUNC_RUNTIME', value: options.kubelessRuntime },
      { name: 'BRIDGE_PORT', value: String(BRIDGE_PORT) },
      ...operatorEnv(options),
    ],
    ports: [
      { name: 'http', containerPort: FUNCTION_PORT, protocol: 'TCP' },
      { name: 'metrics', containerPort: BRIDGE_PORT, protocol: 'TCP' },
    ],
    livenessProbe: LIVENESS_PROBE,
    readinessProbe: { httpGet: { path: '/healthz', port: BRIDGE_PORT }, periodSeconds: 10 },
    resources: HOST_RESOURCES,
    securityContext: CONTAINER_SECURITY_CONTEXT,
  });
}
