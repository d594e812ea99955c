/**
 * Target `plain`: nothing but core Kubernetes. By default one Deployment running every function and the event bridge
 * in one process (`workloads.ts` `operatorDeployment`) under one ServiceAccount with the union of their RBAC. With
 * `--per-function`: a Deployment and Service per function running the project's kubeless-compatible host, the
 * event bridge turning watch events into calls, and a CronJob per scheduled function that calls it the way a
 * Kubeless CronJobTrigger does.
 *
 * Sources: Kubernetes API reference batch/v1 CronJob (timeZone, concurrencyPolicy), "Downward API"
 * (metadata.uid); Kubeless cronjob-trigger (headers Event-Id = the pod uid, Event-Time, Event-Namespace
 * `cronjobtrigger.kubeless.io`, Event-Type; runtime research §1.3).
 */
import type { FunctionSpec } from '../../lib/registry/functions';
import { commonObjects, functionsByTrigger, rbacScope } from './common';
import { FUNCTION_PORT, labels, type DesiredObject } from './meta';
import { cronCallerComponent, functionsNetworkPolicy } from './network-policy';
import type { DeployOptions } from './options';
import { bridgeRbac, operatorRbac } from './rbac';
import {
  BRIDGE_FUNCTION_URL_TEMPLATE,
  bridgeDeployment,
  CONTAINER_SECURITY_CONTEXT,
  functionDeployment,
  functionService,
  IMAGE_APP_DIR,
  operatorDeployment,
  POD_SECURITY_CONTEXT,
} from './workloads';

/** @returns the in-cluster URL of a function's Service (port 8080) */
export function functionUrl(spec: FunctionSpec, namespace: string): string {
  return BRIDGE_FUNCTION_URL_TEMPLATE.replace('{name}', spec.name).replace('{namespace}', namespace);
}

/**
 * The cron call, run by the runtime image's node (no extra image to pull): one POST with an empty JSON object and
 * the Kubeless cron headers. Unlike Kubeless's `curl`, a non-2xx answer fails the Job, so the Job's backoff
 * retries it (a 503 from the host means "try again").
 */
export const CRON_CALL_SCRIPT = [
  "const headers = { 'content-type': 'application/json', 'event-id': process.env.POD_UID,",
  "  'event-time': new Date().toISOString(), 'event-namespace': 'cronjobtrigger.kubeless.io', 'event-type': 'application/json' };",
  "fetch(process.env.FUNCTION_URL, { method: 'POST', headers, body: '{}', signal: AbortSignal.timeout(Number(process.env.TIMEOUT_MS)) })",
  '  .then(async (r) => { console.log(r.status, (await r.text()).slice(0, 1000)); if (!r.ok) process.exitCode = 1; })',
  '  .catch((e) => { console.error(String(e)); process.exitCode = 1; });',
].join('\n');

/** A CronJob calling a scheduled function on its registry schedule (UTC); runs never overlap. */
export function cronJob(spec: FunctionSpec, options: DeployOptions): DesiredObject {
  if (spec.trigger.type !== 'schedule') throw new Error(`${spec.name} has no schedule`);
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: `trigger-${spec.name}`, namespace: options.namespace, labels: labels(spec.name) },
    spec: {
      schedule: spec.trigger.schedule,
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 120,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels: labels(cronCallerComponent(spec)) },
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: options.timeoutSeconds + 60,
          ttlSecondsAfterFinished: 3600,
          // Not the function's component: its Service would select these pods too.
          template: {
            metadata: { labels: labels(cronCallerComponent(spec)) },
            spec: {
              restartPolicy: 'Never',
              automountServiceAccountToken: false,
              securityContext: POD_SECURITY_CONTEXT,
              containers: [
                {
                  name: 'trigger',
                  image: options.image,
                  imagePullPolicy: options.imagePullPolicy,
                  command: ['node', '-e', CRON_CALL_SCRIPT],
                  workingDir: IMAGE_APP_DIR,
                  env: [
                    { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
                    { name: 'FUNCTION_URL', value: functionUrl(spec, options.namespace) },
                    { name: 'TIMEOUT_MS', value: String(options.timeoutSeconds * 1000) },
                  ],
                  resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                  securityContext: CONTAINER_SECURITY_CONTEXT,
                },
              ],
            },
          },
        },
      },
    },
  };
}

/** @returns every object of the plain target, unsorted */
export function plainObjects(options: DeployOptions): DesiredObject[] {
  const { resource, scheduled, http } = functionsByTrigger();
  if (!options.perFunction)
    return [
      ...commonObjects(options, []),
      ...operatorRbac(rbacScope(options)),
      operatorDeployment(options),
      // The operator API: the single process serves it under /operator-api/ on its port 8080.
      ...http.map((spec) => functionService(spec, options, FUNCTION_PORT, 'operator')),
    ];
  return [
    ...commonObjects(options),
    ...[...resource, ...scheduled, ...http].flatMap((spec) => [
      functionDeployment(spec, options),
      functionService(spec, options, FUNCTION_PORT),
    ]),
    ...bridgeRbac(rbacScope(options)),
    bridgeDeployment(options),
    ...scheduled.map((spec) => cronJob(spec, options)),
    functionsNetworkPolicy(
      [...resource, ...scheduled].map((spec) => spec.name),
      { type: 'pods', components: ['bridge', ...scheduled.map(cronCallerComponent)] },
      options,
    ),
  ];
}
