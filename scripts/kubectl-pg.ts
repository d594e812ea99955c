/**
 * `kubectl pg`: a kubectl plugin for the clusters this operator manages, run with the user's own kubeconfig (so
 * Kubernetes RBAC decides, as for kubectl itself). Install: put `bin/` of this repository on PATH (kubectl finds
 * `kubectl-pg` there; https://kubernetes.io/docs/tasks/extend-kubectl/kubectl-plugins/).
 *
 *   kubectl pg status [NAME] [-n NAMESPACE | -A]   the fleet table, or one cluster: pods, roles, rollout, Events
 *   kubectl pg pause NAME [-n NAMESPACE]           hold the cluster's rolling update (acid.zalan.do/rolling-update-paused)
 *   kubectl pg resume NAME [-n NAMESPACE]          let it go on
 *   kubectl pg sync NAME [-n NAMESPACE]            ask for a sync now (acid.zalan.do/sync-now)
 *   kubectl pg scale NAME N [-n NAMESPACE]         set numberOfInstances
 *   kubectl pg plan -f FILE [-n NAMESPACE]         what the operator would do with a manifest (or an operator
 *                                                  ConfigMap), nothing applied: the operator API's plan preview,
 *                                                  computed here with your credentials
 *
 * Built from the code the operator and its API run: the fleet row and cluster page of the UI (lib/api/ui/summary.ts,
 * on lib/api/shape.ts), the actions' merge patches (lib/api/ui/actions.ts), and the API's `POST /plan`
 * (lib/api/plan-route.ts: the sync's own reads and lib/plan). Exit status: 0 done, 1 failed, 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { KubeClient } from '../lib/k8s/client';
import { actionPatch, parseAction } from '../lib/api/ui/actions';
import { clusterPage, fleetRow, type FleetRow } from '../lib/api/ui/summary';
import { podsByCluster, type PodObject, type PostgresqlObject } from '../lib/api/shape';

const USAGE = `usage: kubectl pg status [NAME] [-n NAMESPACE | -A]
       kubectl pg pause|resume|sync NAME [-n NAMESPACE]
       kubectl pg scale NAME INSTANCES [-n NAMESPACE]
       kubectl pg plan -f FILE [-n NAMESPACE]`;

/** Label names of Zalando's defaults (`cluster_name_label`, `pod_role_label`); the plugin does not read the config. */
const LABELS = { clusterName: 'cluster-name', podRole: 'spilo-role' };

class UsageError extends Error {}

/** @returns rows as aligned columns, as kubectl prints tables */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/** @returns the rollout column: pods on the old template, paused, or the RollingUpdate reason */
export function rolloutText(row: FleetRow): string {
  const parts = [];
  if (row.paused) parts.push('Paused');
  if (row.outdatedPods > 0) parts.push(`${row.outdatedPods}/${row.pods} pods on old template`);
  if (row.rollout !== 'none' && row.rollout !== 'Paused') parts.push(row.rollout);
  return parts.join(', ') || '-';
}

/** The fleet table of a namespace (or all namespaces). */
async function fleet(client: KubeClient, namespace: string | undefined): Promise<string> {
  const [clusters, pods] = await Promise.all([
    client.list<PostgresqlObject>('postgresql', namespace),
    client.list<PodObject>('Pod', namespace, LABELS.clusterName),
  ]);
  if (clusters.length === 0) return `No postgresql clusters${namespace ? ` in namespace ${namespace}` : ''}.`;
  const byCluster = podsByCluster(pods, LABELS.clusterName);
  const rows = clusters.map((c) => fleetRow(c, byCluster.get(`${c.metadata?.namespace}/${c.metadata?.name}`) ?? []));
  return table(
    ['NAMESPACE', 'NAME', 'TEAM', 'VERSION', 'PODS', 'VOLUME', 'STATUS', 'ROLLOUT'],
    rows.map((r) => [
      r.namespace,
      r.name,
      r.team,
      r.version,
      `${r.readyPods}/${r.wantedPods}`,
      r.volume,
      r.status || '-',
      rolloutText(r),
    ]),
  );
}

/** One cluster: its row, conditions, pods and recent Events. */
async function cluster(client: KubeClient, namespace: string, name: string): Promise<string> {
  const object = await client.get<PostgresqlObject>({ kind: 'postgresql', namespace, name });
  if (!object) throw new Error(`postgresql ${namespace}/${name} not found`);
  const [pods, events] = await Promise.all([
    client.list('Pod', namespace, `${LABELS.clusterName}=${name}`),
    client.list('Event', namespace),
  ]);
  const page = clusterPage({
    cluster: object,
    children: [],
    pods,
    events,
    labels: LABELS,
    clusterDomain: 'cluster.local',
  });
  const lines = [
    `Name:        ${namespace}/${name}`,
    `Team:        ${page.team}`,
    `PostgreSQL:  ${page.version}`,
    `Status:      ${page.status || '-'}`,
    `Pods ready:  ${page.readyPods}/${page.wantedPods}`,
    `Volume:      ${page.volume}`,
    `Rollout:     ${rolloutText(page)}${page.rolloutMessage ? ` (${page.rolloutMessage})` : ''}`,
    `Conditions:  ${page.conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ') || '-'}`,
    '',
    page.podViews.length
      ? table(
          ['POD', 'ROLE', 'READY', 'NODE', 'TEMPLATE'],
          page.podViews.map((p) => [
            p.name,
            p.role || '-',
            p.ready ? 'yes' : 'no',
            p.node || '-',
            p.onOldTemplate ? 'old' : 'current',
          ]),
        )
      : 'No pods.',
    '',
    page.events.length
      ? table(
          ['TIME', 'TYPE', 'REASON', 'MESSAGE'],
          page.events.slice(0, 10).map((e) => [e.time, e.type, e.reason, e.message.slice(0, 100)]),
        )
      : 'No Events.',
  ];
  return lines.join('\n');
}

/** Applies an action's merge patch with the user's credentials. */
async function act(
  client: KubeClient,
  namespace: string,
  name: string,
  action: string,
  body: unknown,
): Promise<string> {
  const parsed = parseAction(action, body);
  if ('error' in parsed) throw new UsageError(parsed.error);
  await client.mergePatch({ kind: 'postgresql', namespace, name }, actionPatch(parsed, new Date()));
  const said = { pause: 'rolling update paused', resume: 'rolling update resumed', 'sync-now': 'sync requested' };
  return `postgresql ${namespace}/${name}: ${parsed.action === 'scale' ? `scaled to ${parsed.numberOfInstances}` : said[parsed.action]}`;
}

/** The operator API's plan preview, computed with the user's own client (see lib/api/plan-route.ts). */
async function plan(client: KubeClient, file: string, namespace: string): Promise<string> {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const manifest = parse(text) as { metadata?: Record<string, unknown> } | null;
  if (!manifest || typeof manifest !== 'object') throw new UsageError(`${file} holds no manifest`);
  const { planLocally } = await import('./kubectl-pg-plan');
  return JSON.stringify(await planLocally(client, manifest, namespace), null, 2);
}

/** Runs one command; returns what to print. */
export async function run(argv: string[], client: () => KubeClient): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      filename: { type: 'string', short: 'f' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, name, extra] = positionals;
  if (values.help || !command) return USAGE;
  const kube = client();
  const namespace =
    values.namespace ?? kube.kubeConfig.getContextObject(kube.kubeConfig.currentContext)?.namespace ?? 'default';
  try {
    switch (command) {
      case 'status':
        if (name) return await cluster(kube, namespace, name);
        return await fleet(kube, values['all-namespaces'] ? undefined : namespace);
      case 'pause':
      case 'resume':
      case 'sync':
        if (!name) throw new UsageError(`${command} needs the cluster's name`);
        return await act(kube, namespace, name, command === 'sync' ? 'sync-now' : command, {});
      case 'scale':
        if (!name || extra === undefined)
          throw new UsageError('scale needs the cluster name and the number of instances');
        return await act(kube, namespace, name, 'scale', { numberOfInstances: extra });
      case 'plan':
        if (!values.filename)
          throw new UsageError('plan needs -f FILE (a postgresql manifest or an operator ConfigMap)');
        return await plan(kube, values.filename, namespace);
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    kube.close();
  }
}

/** The CLI: prints the answer, or the error to stderr with exit status 1 (2 for bad usage). */
async function main(): Promise<void> {
  try {
    console.log(await run(process.argv.slice(2), () => KubeClient.fromDefault({ fieldManager: 'kubectl-pg' })));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    if (error instanceof UsageError) console.error(USAGE);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}

// Run as a command (the source through tsx, or the bundle dist/kubectl-pg/kubectl-pg.js), not when imported.
if (process.argv[1] && /kubectl-pg(\.[jt]s)?$/.test(process.argv[1])) void main();
