/**
 * The Helm chart `charts/postgres-operator-functions`: the plain target (one Deployment running every function and
 * the bridge, or with `perFunction` a Deployment and Service per function, the bridge and a CronJob), generated
 * from the same deploy generators as every target. The objects are generated with sentinel values for what the
 * chart makes configurable; the sentinels are then replaced by template expressions, so a template can never
 * drift from what `npm run deploy -- plain` produces.
 *
 * Values: image (repository, tag, pullPolicy), resources, nodeSelector, tolerations, replicas (of the function
 * Deployments with `perFunction`; the bridge and the single process stay at one, or events would be delivered
 * twice), watchedNamespaces (`["*"]` or a list: Roles in each listed namespace instead of ClusterRoles),
 * configuration (the operator ConfigMap's data), namespace.create.
 *
 * Sources: Helm docs "Charts" (Chart.yaml apiVersion v2, `crds/` installed before the templates and never
 * upgraded), "Template Function List" (toYaml, nindent, quote, join, has), "Built-in Objects" (Release.Namespace).
 */
import { stringify } from 'yaml';
import { postgresqlCrd, postgresTeamCrd } from '../common';
import { labels, type DesiredObject } from '../meta';
import { HOST_RESOURCES } from '../workloads';
import { packageVersion, type DeployOptions } from '../options';
import { generate } from '../targets';
import { toYaml } from '../yaml';
import { CONFIG_MAP, operatorConfigData, packageOptions } from './install-objects';
import { GENERATED_BY } from './kustomize';

/** The chart's name and directory under `charts/`. */
export const CHART_NAME = 'postgres-operator-functions';

const NS = 'sentinel-operator-ns';
const WATCHED = 'sentinel-watched-ns';
const IMAGE = 'sentinel-image';
const PULL = 'sentinel-pull-policy';
const WATCHED_LIST = 'sentinel-watched-list';
const REPLICAS = 'sentinel-replicas';
const RESOURCES = 'sentinel-resources';
const NODE_SELECTOR = 'sentinel-node-selector';
const TOLERATIONS = 'sentinel-tolerations';

/** Inline replacements: sentinel -> template expression (`$` so they also work inside `range`). */
const INLINE: Array<[string, string]> = [
  [IMAGE, '{{ printf "%s:%s" $.Values.image.repository ($.Values.image.tag | default $.Chart.AppVersion) }}'],
  [PULL, '{{ $.Values.image.pullPolicy }}'],
  // Sorted, as the deploy options sort them.
  [WATCHED_LIST, '{{ join "," (sortAlpha $.Values.watchedNamespaces) }}'],
  [REPLICAS, '{{ $.Values.replicas }}'],
  [NS, '{{ $.Release.Namespace }}'],
];

/** Block replacements: a line `<indent><key>: <sentinel>` becomes the value's YAML, left out when empty. */
const BLOCKS: Array<[string, string]> = [
  [RESOURCES, '$.Values.resources'],
  [NODE_SELECTOR, '$.Values.nodeSelector'],
  [TOLERATIONS, '$.Values.tolerations'],
];

type Container = { env?: Array<{ name: string; value?: string }>; resources?: unknown };
/** The fields of a pod spec the chart makes configurable. */
export type PodSpec = { containers: Container[]; nodeSelector?: unknown; tolerations?: unknown };

/** @returns the pod spec of a Deployment or a CronJob (the object's own, not a copy), if the object has one */
export function podSpecOf(object: DesiredObject): PodSpec | undefined {
  type Template = { template?: { spec?: PodSpec } };
  const spec = object.spec as (Template & { jobTemplate?: { spec?: Template } }) | undefined;
  if (object.kind === 'Deployment') return spec?.template?.spec;
  if (object.kind === 'CronJob') return spec?.jobTemplate?.spec?.template?.spec;
  return undefined;
}

/** Puts the sentinels of the configurable values into the generated objects (a deep copy). */
function withSentinels(objects: DesiredObject[]): DesiredObject[] {
  return objects.map((original) => {
    const object = structuredClone(original);
    const pod = podSpecOf(object);
    if (!pod) return object;
    pod.nodeSelector = NODE_SELECTOR;
    pod.tolerations = TOLERATIONS;
    for (const container of pod.containers) {
      if (object.kind === 'Deployment') container.resources = RESOURCES;
      for (const env of container.env ?? [])
        if (env.name === 'WATCHED_NAMESPACE' && env.value !== '*') env.value = WATCHED_LIST;
    }
    const spec = object.spec as { replicas?: number; strategy?: { type: string } };
    // Function Deployments roll (RollingUpdate); the bridge and the single process are Recreate and stay at one.
    if (object.kind === 'Deployment' && spec.strategy?.type === 'RollingUpdate') spec.replicas = REPLICAS as never;
    return object;
  });
}

/** @returns the YAML of objects with every sentinel replaced by its template expression */
function templated(objects: DesiredObject[], extra: Array<[string, string]> = []): string {
  let text = toYaml(withSentinels(objects));
  for (const [sentinel, key] of BLOCKS) {
    text = text.replace(new RegExp(`^( *)([A-Za-z]+): ${sentinel}$`, 'gm'), (_, indent: string, field: string) =>
      [
        `${indent}{{- with ${key} }}`,
        `${indent}${field}: {{- toYaml . | nindent ${indent.length + 2} }}`,
        `${indent}{{- end }}`,
      ].join('\n'),
    );
  }
  for (const [sentinel, expression] of [...extra, ...INLINE]) text = text.split(sentinel).join(expression);
  if (/sentinel-/.test(text)) throw new Error(`a sentinel was left in the chart: ${text.match(/.*sentinel-.*/)![0]}`);
  return text;
}

const key = (o: DesiredObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * The template of one layout: the objects for every namespace watched, or for a list (a Role in each listed
 * namespace; the operator namespace's Role holds both scopes when it is listed too).
 */
function layoutTemplate(options: Partial<DeployOptions>): string {
  const generateWith = (watchedNamespaces: DeployOptions['watchedNamespaces']) =>
    generate(
      'plain',
      packageOptions({
        ...options,
        namespace: NS,
        watchedNamespaces,
        includeCrd: false,
        image: IMAGE,
        imagePullPolicy: PULL as never,
      }),
    );
  const all = generateWith('*');
  const listed = generateWith([WATCHED]); // the operator namespace not watched
  const listedWithOwn = new Map(generateWith([NS]).map((o) => [key(o), o]));
  const inWatched = listed.filter((o) => o.metadata.namespace === WATCHED);
  const differs = (o: DesiredObject) => toYaml([o]) !== toYaml([listedWithOwn.get(key(o)) ?? {}] as DesiredObject[]);
  const ownChanged = listed.filter((o) => o.metadata.namespace === NS && differs(o));
  const common = listed.filter((o) => o.metadata.namespace !== WATCHED && !ownChanged.includes(o));
  return [
    '{{- if has "*" $.Values.watchedNamespaces }}',
    templated(all),
    '{{- else }}',
    templated(common),
    '{{- if has $.Release.Namespace $.Values.watchedNamespaces }}',
    templated(ownChanged.map((o) => listedWithOwn.get(key(o))!)),
    '{{- else }}',
    templated(ownChanged),
    '{{- end }}',
    '{{- range $ns := $.Values.watchedNamespaces }}',
    '{{- if ne $ns $.Release.Namespace }}',
    templated(inWatched, [[WATCHED, '{{ $ns }}']]),
    '{{- end }}',
    '{{- end }}',
    '{{- end }}',
  ].join('\n');
}

function valuesYaml(): string {
  const values = {
    image: { repository: 'postgres-operator-functions', tag: '', pullPolicy: 'IfNotPresent' },
    perFunction: false,
    replicas: 1,
    resources: HOST_RESOURCES,
    nodeSelector: {},
    tolerations: [],
    watchedNamespaces: ['*'],
    namespace: { create: false },
    configuration: operatorConfigData(),
  };
  const comments = [
    GENERATED_BY,
    'image.tag: empty takes the chart appVersion. perFunction: a Deployment and Service per function, the event bridge',
    'and a CronJob, instead of one Deployment running them all. replicas: of each function Deployment (perFunction);',
    'the bridge and the single process always run one (two would deliver every event twice). resources, nodeSelector,',
    'tolerations: of every operator pod. watchedNamespaces: ["*"] for all (ClusterRoles), or a list (a Role in each).',
    'namespace.create: also create the release namespace (or use `helm install --create-namespace`).',
    'configuration: the operator ConfigMap `postgres-operator` (Zalando keys and value syntax; docs/config-reference.md).',
  ];
  return `${comments.map((c) => `# ${c}`).join('\n')}\n${stringify(values, { version: '1.1', lineWidth: 0 })}`;
}

/** @returns every file of the chart, path relative to `charts/<CHART_NAME>` -> content */
export function chartFiles(): Map<string, string> {
  const version = packageVersion();
  const header = `{{- /* ${GENERATED_BY} */}}`;
  const chart = {
    apiVersion: 'v2',
    name: CHART_NAME,
    description: 'A Zalando-compatible PostgreSQL operator for Kubernetes, as a set of serverless functions',
    type: 'application',
    version,
    appVersion: version,
    kubeVersion: '>=1.27.0-0',
  };
  const labelLines = (component: string) =>
    Object.entries(labels(component)).map(([name, value]) => `    ${name}: ${value}`);
  const configMap = [
    header,
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    `  name: ${CONFIG_MAP}`,
    '  namespace: {{ $.Release.Namespace }}',
    '  labels:',
    ...labelLines('config'),
    'data:',
    '  {{- range $key, $value := $.Values.configuration }}',
    '  {{ $key }}: {{ $value | toString | quote }}',
    '  {{- end }}',
    '',
  ].join('\n');
  const namespace = [
    header,
    '{{- if $.Values.namespace.create }}',
    'apiVersion: v1',
    'kind: Namespace',
    'metadata:',
    '  name: {{ $.Release.Namespace }}',
    '  labels:',
    ...labelLines('namespace'),
    '{{- end }}',
    '',
  ].join('\n');
  return new Map([
    ['Chart.yaml', `# ${GENERATED_BY}\n${stringify(chart)}`],
    ['values.yaml', valuesYaml()],
    ['crds/postgresql.yaml', toYaml([postgresqlCrd()], [GENERATED_BY])],
    ['crds/postgresteam.yaml', toYaml([postgresTeamCrd()], [GENERATED_BY])],
    ['templates/namespace.yaml', namespace],
    ['templates/configmap.yaml', configMap],
    [
      'templates/operator.yaml',
      [
        header,
        '{{- if $.Values.perFunction }}',
        layoutTemplate({ perFunction: true }),
        '{{- else }}',
        layoutTemplate({}),
        '{{- end }}',
        '',
      ].join('\n'),
    ],
  ]);
}
