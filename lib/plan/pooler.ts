/**
 * What goes when a pooler is turned off: its Deployment and Service, and once no pooler runs, the pooler role's
 * Secret when `enable_secrets_deletion` is on (the role itself stays in PostgreSQL, as with Zalando). Objects
 * already being deleted are left alone, so a second sync plans nothing. Pure.
 *
 * Source: Zalando postgres-operator v1.15.1 docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/user.md#connection-pooler ("to disable it,
 * set enableConnectionPooler to false"); its `syncConnectionPooler` removes the Deployment and Service of a pooler
 * turned off and the pooler Secret once neither runs.
 */
import { secretName } from '../builders/names';
import type { DesiredObject } from '../builders/object-meta';
import type { OperatorConfig } from '../model/config';
import { anyPoolerEnabled, POOLER_ROLES, poolerEnabled, poolerName, poolerSettings } from '../model/pooler';
import type { Postgresql } from '../model/postgresql';
import { objectKey, type Action, type LiveObject } from './plan';

const API_VERSIONS: Readonly<Record<string, string>> = { Deployment: 'apps/v1', Service: 'v1', Secret: 'v1' };

/**
 * @param desired the owned objects the builders made (a Secret among them is never deleted)
 * @param observed live children by `Kind/name`
 * @returns one `delete` action per pooler object that exists but is no longer wanted
 */
export function poolerRemovals(
  cluster: Postgresql,
  config: OperatorConfig,
  desired: readonly DesiredObject[],
  observed: ReadonlyMap<string, LiveObject>,
): Action[] {
  const name = cluster.metadata.name;
  const wanted = new Set(desired.map(objectKey));
  const candidates: Array<{ kind: string; name: string; why: string }> = [];
  for (const role of POOLER_ROLES) {
    if (poolerEnabled(cluster.spec, role)) continue;
    const why = `the ${role} pooler is turned off`;
    candidates.push(
      { kind: 'Deployment', name: poolerName(name, role), why },
      {
        kind: 'Service',
        name: poolerName(name, role),
        why,
      },
    );
  }
  if (!anyPoolerEnabled(cluster.spec) && config.enable_secrets_deletion) {
    const user = poolerSettings(cluster.spec, config).user;
    candidates.push({
      kind: 'Secret',
      name: secretName(config, name, user),
      why: `no pooler runs and enable_secrets_deletion is on (the role ${user} is kept)`,
    });
  }
  const actions: Action[] = [];
  for (const candidate of candidates) {
    const key = `${candidate.kind}/${candidate.name}`;
    const live = observed.get(key);
    if (!live || wanted.has(key) || live.metadata?.deletionTimestamp) continue;
    actions.push({
      type: 'delete',
      change: 'deleted',
      object: {
        apiVersion: API_VERSIONS[candidate.kind]!,
        kind: candidate.kind,
        metadata: { name: candidate.name, namespace: cluster.metadata.namespace ?? 'default' },
      },
      reason: `${candidate.kind} ${candidate.name} is removed: ${candidate.why}`,
    });
  }
  return actions;
}
