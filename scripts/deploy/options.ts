/**
 * Command-line options of `scripts/deploy` and their validation. Every generator takes the parsed
 * `DeployOptions`, so the same options give the same objects on every target.
 *
 * Sources: Kubernetes "Object Names and IDs" (DNS-1123 labels for namespaces); Kubeless Function `timeout`
 * (seconds, default 180; runtime research §1.1); Knative delivery `retryAfterMax` and its feature flag
 * `delivery-retryafter` (https://knative.dev/docs/eventing/event-delivery/).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The repository root (where `dist/` and `manifests/` are). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The deployment targets. `local` runs processes instead of generating objects (scripts/deploy/local.ts). */
export const TARGET_NAMES = ['local', 'plain', 'knative', 'kubeless'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** How Kubeless gets the bundle into the function's pod (see docs/admin-guide.md, "Targets"). */
export type KubelessSource = 'image' | 'zip';

/** Everything a target needs to generate its objects. */
export interface DeployOptions {
  /** namespace of the functions, their ServiceAccounts, the bridge and the event sources */
  namespace: string;
  /** namespaces whose `postgresql` objects the operator manages, or `*` for all (env WATCHED_NAMESPACE) */
  watchedNamespaces: string[] | '*';
  /** the runtime image (Dockerfile at the repository root) */
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** the operator ConfigMap as env CONFIG_MAP_NAME: `name` (in `namespace`) or `namespace/name` */
  configMap: { namespace: string; name: string };
  /** Kubeless `FUNC_TIMEOUT`, in seconds */
  timeoutSeconds: number;
  /** the build output holding `functions/<name>/handler.js` (only the kubeless target reads it) */
  distDir: string;
  /** include the `postgresql` CustomResourceDefinition (manifests/postgresql.crd.yaml) */
  includeCrd: boolean;
  /** Kubeless `runtime` of the Function objects */
  kubelessRuntime: string;
  /** kubeless: run the bundle baked into the image (`image`), or let Kubeless unpack the zip (`zip`) */
  kubelessSource: KubelessSource;
  /**
   * knative: the Triggers' delivery also honours a function's `Retry-After` (`retryAfterMax`); needs Knative's
   * `delivery-retryafter` feature enabled, or its webhook refuses the Triggers
   */
  knativeRetryAfter: boolean;
  /**
   * plain and local: one host per function and a separate bridge (as before issue 14), instead of one process
   * running every function and the bridge (the default); knative and kubeless are always one function per pod
   */
  perFunction: boolean;
}

/** A parsed command line. */
export interface DeployCommand {
  target: TargetName;
  /** print the YAML instead of applying it */
  dryRun: boolean;
  options: DeployOptions;
}

/** A command line that cannot be run; the message names the option and what is expected. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** @returns the version of package.json, used in the default image tag */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { version: string }).version;
}

/** @returns the options a deployment gets when nothing is given on the command line */
export function defaultOptions(): DeployOptions {
  return {
    namespace: 'default',
    watchedNamespaces: '*',
    image: `postgres-operator-functions:${packageVersion()}`,
    imagePullPolicy: 'IfNotPresent',
    configMap: { namespace: 'default', name: 'postgres-operator' },
    timeoutSeconds: 180,
    distDir: `${repoRoot}dist`,
    includeCrd: true,
    kubelessRuntime: 'nodejs22',
    kubelessSource: 'image',
    knativeRetryAfter: false,
    perFunction: false,
  };
}

function namespaceName(value: string, option: string): string {
  if (!DNS_LABEL.test(value))
    throw new UsageError(`${option}: "${value}" is not a namespace name (a DNS-1123 label: a-z, 0-9, "-")`);
  return value;
}

/**
 * @param values `--watched-namespace` values: each `*` or a comma list of namespaces
 * @returns `*`, or the namespaces sorted and without duplicates; throws UsageError for a bad name or `*` mixed
 *   with names
 */
export function parseWatchedNamespaces(values: string[]): string[] | '*' {
  const names = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (names.includes('*')) {
    if (names.length > 1)
      throw new UsageError('--watched-namespace: "*" (all namespaces) cannot be combined with names');
    return '*';
  }
  if (names.length === 0) throw new UsageError('--watched-namespace: give "*" or at least one namespace');
  return [...new Set(names.map((n) => namespaceName(n, '--watched-namespace')))].sort();
}

/** @returns the ConfigMap location of `name` or `namespace/name`, as the functions read env CONFIG_MAP_NAME */
export function parseConfigMap(value: string, operatorNamespace: string): { namespace: string; name: string } {
  const [namespace, name] = value.includes('/')
    ? (value.split('/', 2) as [string, string])
    : [operatorNamespace, value];
  if (!/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(name))
    throw new UsageError(`--config-map: "${name}" is not a ConfigMap name`);
  return { namespace: namespaceName(namespace, '--config-map'), name };
}

export const USAGE = `usage: npm run deploy -- <target> [options]
targets: ${TARGET_NAMES.join(', ')}
  --dry-run                  print the objects as YAML instead of applying them to the cluster of $KUBECONFIG
  --namespace NS             namespace of the functions, bridge and event sources (default: default)
  --watched-namespace NS|*   namespaces whose postgresql objects are managed; repeat or comma-separate (default: *)
  --image IMAGE              runtime image (default: postgres-operator-functions:<version>)
  --image-pull-policy P      Always, IfNotPresent or Never (default: IfNotPresent)
  --config-map [NS/]NAME     the operator ConfigMap (default: postgres-operator in --namespace)
  --timeout SECONDS          function timeout, FUNC_TIMEOUT (default: 180)
  --dist DIR                 build output with functions/<name>/handler.js (kubeless; default: dist)
  --no-crd                   leave out the postgresql CustomResourceDefinition
  --kubeless-runtime ID      Kubeless runtime of the Function objects (default: nodejs22)
  --kubeless-source image|zip  kubeless: run the bundle baked into --image, or let Kubeless unpack the zip
                             into a runtime registered as --kubeless-runtime (default: image)
  --knative-retry-after      knative: Triggers honour the functions' Retry-After (retryAfterMax; needs the
                             delivery-retryafter feature enabled in Knative's config-features)
  --per-function             plain and local: a host per function and a separate bridge, instead of one
                             process (one Deployment) running every function and the bridge`;

/**
 * Parses `<target> [--dry-run] [options]` (the arguments after `scripts/deploy/index.ts`).
 * @throws UsageError naming the bad option or value
 */
export function parseDeployArgs(argv: string[]): DeployCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'dry-run': { type: 'boolean', default: false },
        namespace: { type: 'string' },
        'watched-namespace': { type: 'string', multiple: true },
        image: { type: 'string' },
        'image-pull-policy': { type: 'string' },
        'config-map': { type: 'string' },
        timeout: { type: 'string' },
        dist: { type: 'string' },
        'no-crd': { type: 'boolean', default: false },
        'kubeless-runtime': { type: 'string' },
        'kubeless-source': { type: 'string' },
        'knative-retry-after': { type: 'boolean', default: false },
        'per-function': { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw new UsageError(`give exactly one target (${TARGET_NAMES.join(', ')}), got ${positionals.length}`);
  const target = positionals[0] as TargetName;
  if (!TARGET_NAMES.includes(target))
    throw new UsageError(`unknown target "${target}"; known: ${TARGET_NAMES.join(', ')}`);

  const defaults = defaultOptions();
  const namespace =
    values.namespace === undefined ? defaults.namespace : namespaceName(values.namespace, '--namespace');
  const pullPolicy = values['image-pull-policy'] ?? defaults.imagePullPolicy;
  if (!['Always', 'IfNotPresent', 'Never'].includes(pullPolicy)) {
    throw new UsageError(`--image-pull-policy: "${pullPolicy}" is not Always, IfNotPresent or Never`);
  }
  const timeout = values.timeout === undefined ? defaults.timeoutSeconds : Number(values.timeout);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 86_400) {
    throw new UsageError(`--timeout: "${values.timeout}" is not a whole number of seconds between 1 and 86400`);
  }
  const image = values.image ?? defaults.image;
  if (!image.trim() || /\s/.test(image)) throw new UsageError(`--image: "${image}" is not an image reference`);
  const source = values['kubeless-source'] ?? defaults.kubelessSource;
  if (source !== 'image' && source !== 'zip')
    throw new UsageError(`--kubeless-source: "${source}" is not image or zip`);
  const runtime = values['kubeless-runtime'] ?? defaults.kubelessRuntime;
  if (!/^[a-z][a-z0-9_-]*$/.test(runtime))
    throw new UsageError(`--kubeless-runtime: "${runtime}" is not a runtime ID like nodejs22`);

  return {
    target,
    dryRun: values['dry-run'] ?? false,
    options: {
      namespace,
      watchedNamespaces: values['watched-namespace']
        ? parseWatchedNamespaces(values['watched-namespace'])
        : defaults.watchedNamespaces,
      image,
      imagePullPolicy: pullPolicy as DeployOptions['imagePullPolicy'],
      configMap: parseConfigMap(values['config-map'] ?? defaults.configMap.name, namespace),
      timeoutSeconds: timeout,
      distDir: values.dist ?? defaults.distDir,
      includeCrd: !values['no-crd'],
      kubelessRuntime: runtime,
      kubelessSource: source,
      knativeRetryAfter: values['knative-retry-after'] ?? false,
      perFunction: values['per-function'] ?? false,
    },
  };
}
