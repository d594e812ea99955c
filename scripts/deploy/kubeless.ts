/**
 * Target `kubeless`: a Kubeless `Function` per function carrying its bundle as `base64+zip` with the zip's
 * sha256, a `CronJobTrigger` for the scheduled one, and the event bridge (Kubeless has no trigger on Kubernetes
 * objects). Each Function's deployment template runs it under its own ServiceAccount.
 *
 * Two ways to get the bundle into the pod (`--kubeless-source`):
 * - `image` (default): the template sets the runtime image, which already holds every bundle; Kubeless then adds
 *   no unpacking init container, and `KUBELESS_INSTALL_VOLUME` points the host at the function's directory in the
 *   image. The zip and checksum stay in the Function as the record of what runs. Do not register
 *   `--kubeless-runtime` in `kubeless-config` for this mode: Kubeless would append KUBELESS_INSTALL_VOLUME=/kubeless.
 * - `zip`: no image in the template; Kubeless's prepare container decodes the zip, checks the sha256 and unpacks it
 *   into `/kubeless`, and runs the image registered for `--kubeless-runtime` in `kubeless-config` (our image).
 *
 * Sources: kubeless FunctionSpec, `EnsureFuncDeployment`/`populatePodSpec` (prebuilt-image path, env
 * FUNC_HANDLER/MOD_NAME/FUNC_TIMEOUT/FUNC_RUNTIME/FUNC_PORT, `KUBELESS_INSTALL_VOLUME` from the registered runtime),
 * `kubeless function deploy` labels `created-by: kubeless`, `function: <name>`; CronJobTrigger; runtime
 * research §1.1–§1.3, §6.
 */
import { BUNDLE_MODULE, FUNCTIONS, type FunctionSpec } from '../../lib/registry/functions';
import { readBundle, sha256Checksum, zipBundle, type Bundle } from './bundles';
import { commonObjects, functionsByTrigger, rbacScope } from './common';
import { kubelessCronJobTrigger, kubelessFunction } from './kubeless-schema';
import { labels, type DesiredObject } from './meta';
import type { DeployOptions } from './options';
import { bridgeRbac } from './rbac';
import { bridgeDeployment, functionContainer, imageBundleDir, POD_SECURITY_CONTEXT } from './workloads';

const KUBELESS_API = 'kubeless.io/v1beta1';

/**
 * Largest `function` field accepted, in bytes of base64: Kubeless copies it into a ConfigMap, and a ConfigMap
 * holds at most 1 MiB.
 */
export const MAX_FUNCTION_BYTES = 1_000_000;

/** The labels `kubeless function deploy` sets, plus ours. */
function kubelessLabels(spec: FunctionSpec): Record<string, string> {
  return { ...labels(spec.name), 'created-by': 'kubeless', function: spec.name };
}

/**
 * The Function of one function.
 * @throws Error when the zipped bundle is too large for Kubeless, or when the result does not pass the Function
 *   schema (a bug here)
 */
export function kubelessFunctionObject(spec: FunctionSpec, bundle: Bundle, options: DeployOptions): DesiredObject {
  const zip = zipBundle(bundle);
  const content = Buffer.from(zip).toString('base64');
  if (content.length > MAX_FUNCTION_BYTES) {
    throw new Error(
      `the zipped bundle of ${spec.name} is ${content.length} bytes as base64, over the ${MAX_FUNCTION_BYTES} ` +
        'bytes a Kubeless Function can carry (its ConfigMap holds at most 1 MiB); use --kubeless-source image with a smaller build',
    );
  }
  const fromImage = options.kubelessSource === 'image';
  const container = functionContainer(spec, options, fromImage ? imageBundleDir(spec) : undefined);
  // Kubeless sets the runtime env itself (MOD_NAME, FUNC_HANDLER, FUNC_TIMEOUT, FUNC_RUNTIME, FUNC_PORT) and the
  // container port; the template keeps the rest. Without `image`, Kubeless picks the registered runtime's image.
  const {
    name,
    image,
    imagePullPolicy,
    env,
    ports: _ports,
    ...rest
  } = container as {
    name: string;
    image: string;
    imagePullPolicy: string;
    env: Array<{ name: string }>;
    ports: unknown;
  };
  const kubelessEnv = new Set(['MOD_NAME', 'FUNC_HANDLER', 'FUNC_TIMEOUT', 'FUNC_RUNTIME', 'FUNC_PORT']);
  const templateContainer = {
    name,
    ...(fromImage ? { image } : {}),
    imagePullPolicy,
    env: env.filter((e) => !kubelessEnv.has(e.name)),
    ...rest,
  };
  const object: DesiredObject = {
    apiVersion: KUBELESS_API,
    kind: 'Function',
    metadata: {
      name: spec.name,
      namespace: options.namespace,
      labels: kubelessLabels(spec),
      annotations: { description: spec.description },
    },
    spec: {
      handler: `${BUNDLE_MODULE}.${spec.export}`,
      runtime: options.kubelessRuntime,
      timeout: String(options.timeoutSeconds),
      'function-content-type': 'base64+zip',
      function: content,
      checksum: sha256Checksum(zip),
      deps: '',
      deployment: {
        spec: {
          template: {
            spec: {
              serviceAccountName: spec.name,
              securityContext: POD_SECURITY_CONTEXT,
              containers: [templateContainer],
            },
          },
        },
      },
    },
  };
  const checked = kubelessFunction.safeParse(object);
  if (!checked.success) throw new Error(`generated Function ${spec.name} is invalid: ${checked.error.message}`);
  return object;
}

/** The CronJobTrigger of a scheduled function (no payload: Kubeless then calls it with an empty GET). */
export function kubelessCronJobTriggerObject(spec: FunctionSpec, options: DeployOptions): DesiredObject {
  if (spec.trigger.type !== 'schedule') throw new Error(`${spec.name} has no schedule`);
  const object: DesiredObject = {
    apiVersion: KUBELESS_API,
    kind: 'CronJobTrigger',
    metadata: { name: spec.name, namespace: options.namespace, labels: kubelessLabels(spec) },
    spec: { 'function-name': spec.name, schedule: spec.trigger.schedule },
  };
  const checked = kubelessCronJobTrigger.safeParse(object);
  if (!checked.success) throw new Error(`generated CronJobTrigger ${spec.name} is invalid: ${checked.error.message}`);
  return object;
}

/**
 * @param bundleOf where the bundles come from (default: `options.distDir`)
 * @returns every object of the kubeless target, unsorted; throws MissingBundleError before `npm run build`
 */
export function kubelessObjects(
  options: DeployOptions,
  bundleOf: (spec: FunctionSpec) => Bundle = (spec) => readBundle(options.distDir, spec),
): DesiredObject[] {
  const { scheduled } = functionsByTrigger();
  return [
    ...commonObjects(options),
    ...FUNCTIONS.map((spec) => kubelessFunctionObject(spec, bundleOf(spec), options)),
    ...scheduled.map((spec) => kubelessCronJobTriggerObject(spec, options)),
    ...bridgeRbac(rbacScope(options)),
    bridgeDeployment(options),
  ];
}
