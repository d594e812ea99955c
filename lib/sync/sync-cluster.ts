/**
 * `syncCluster`: converge one `postgresql` object's children to its manifest. Read the object and its children,
 * validate, build the desired objects, plan, apply what differs (server-side apply), then write status and Events
 * only when they change. Running it twice in a row makes no write request the second time.
 *
 * Bad input never throws: an invalid manifest ends in status `Invalid` and a Warning Event naming the fields, and no
 * child is touched. API failures end in a `*Failed` status and a result marked retryable.
 */
import type { buildCluster, KubeObject as Desired } from '../builders';
import { buildPodServiceAccount } from '../builders/service-account';
import { isRetryable } from '../k8s/errors';
import type { KubeClient, KubeObject } from '../k8s/client';
import type { Logger } from '../log/logger';
import type { OperatorConfig } from '../model/config';
import { POSTGRESQL, type Postgresql, type PostgresqlStatus } from '../model/postgresql';
import { describeProblems, validatePostgresql } from '../model/validate';
import { objectKey, type Action } from '../plan/plan';
import { deriveStatus, statusChanged, type SyncObservation } from '../plan/status';
import { recordEvent, type InvolvedObject } from './events';
import { ensureFinalizer } from './finalizer';
import { observeChildren, passwordsFor, planCluster } from './cluster-state';
import type { PasswordSource } from './passwords';
import { syncRolesAndDatabases, type RolesSummary } from './roles-step';

/** What a sync needs from outside: the API, the config, time and randomness. */
export interface SyncContext {
  client: KubeClient;
  config: OperatorConfig;
  log: Logger;
  now: () => Date;
  /** passwords of Secrets that do not exist yet (see `passwords.ts`) */
  newPassword: PasswordSource;
  signal?: AbortSignal;
}

/** How a sync ended. */
export interface SyncResult {
  outcome: 'synced' | 'invalid' | 'not-found' | 'deleting' | 'failed';
  /** the writes made to children, with their reasons */
  actions: Array<{ change: Action['change']; kind: string; name: string; reason: string }>;
  status?: string;
  /** for `failed`: whether trying again later may succeed; for `synced`: set with `pending` */
  retryable?: boolean;
  error?: string;
  /** for `synced`: work left for a later sync (e.g. roles waiting for the master pod) */
  pending?: string;
  /** roles and databases in PostgreSQL, when they were synced */
  roles?: RolesSummary;
}

function podsReady(observed: Map<string, KubeObject>, cluster: Postgresql, instances: number): { ready: boolean; progress: string } {
  const sts = observed.get(`StatefulSet/${cluster.metadata.name}`);
  const readyReplicas = (sts?.status?.readyReplicas as number | undefined) ?? 0;
  const current = sts !== undefined && (sts.status?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0);
  const ready = sts !== undefined && current && readyReplicas >= instances && (sts.spec?.replicas ?? 0) === instances;
  return { ready, progress: `${Math.min(readyReplicas, instances)} of ${instances} pods ready` };
}

const involved = (raw: KubeObject): InvolvedObject => ({
  apiVersion: POSTGRESQL.apiVersion, kind: POSTGRESQL.kind, name: raw.metadata!.name, namespace: raw.metadata!.namespace, uid: raw.metadata!.uid,
});

async function writeStatus(ctx: SyncContext, raw: KubeObject, observation: SyncObservation,
  extra: NonNullable<PostgresqlStatus['conditions']> = []): Promise<PostgresqlStatus> {
  const previous = typeof raw.status === 'object' ? raw.status as PostgresqlStatus : undefined;
  const status = deriveStatus(observation, previous, ctx.now().toISOString());
  if (extra.length) status.conditions = [...(status.conditions ?? []), ...extra];
  if (statusChanged(raw.status, status)) {
    await ctx.client.mergePatch({ kind: POSTGRESQL.kind, namespace: raw.metadata!.namespace, name: raw.metadata!.name },
      { status: raw.status && typeof raw.status === 'object' ? { ...nullOut(raw.status), ...status } : status }, 'status', ctx.signal);
  }
  return status;
}

/** Merge patch entries that remove status fields this operator no longer writes (e.g. cleared warnings). */
function nullOut(status: Record<string, unknown>): Record<string, null> {
  return Object.fromEntries(Object.keys(status).map((key) => [key, null]));
}

async function event(ctx: SyncContext, raw: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, log: Logger) {
  const error = await recordEvent(ctx.client, involved(raw), type, reason, message, ctx.now());
  if (error) log.warn('Could not record event', { reason, error: error.message });
}

/**
 * Converges one cluster.
 * @returns what was done; never throws for invalid input or API failures (see `outcome` and `retryable`)
 */
export async function syncCluster(ctx: SyncContext, namespace: string, name: string): Promise<SyncResult> {
  const log = ctx.log.with({ cluster: name, namespace });
  let raw: KubeObject | undefined;
  try {
    raw = await ctx.client.get({ kind: POSTGRESQL.kind, namespace, name }, ctx.signal);
  } catch (error) {
    return { outcome: 'failed', actions: [], retryable: isRetryable(error), error: (error as Error).message };
  }
  if (!raw) return { outcome: 'not-found', actions: [] };
  if (raw.metadata?.deletionTimestamp) return { outcome: 'deleting', actions: [] };
  try {
    raw = await ensureFinalizer(ctx.client, raw, ctx.signal);
  } catch (error) {
    // A failed `test` (422) means the object changed under us: the event for that change syncs again.
    return { outcome: 'failed', actions: [], retryable: true, error: `adding the finalizer: ${(error as Error).message}` };
  }
  const generation = (raw.metadata?.generation as number | undefined) ?? 0;
  const previousWarnings = (typeof raw.status === 'object' ? raw.status?.warnings : undefined) as string[] | undefined;

  const validation = validatePostgresql(raw, { enableTeamIdClusterNamePrefix: ctx.config.enable_team_id_clustername_prefix });
  if (!validation.ok) {
    const message = describeProblems(validation.problems);
    try {
      const before = typeof raw.status === 'object' ? raw.status as PostgresqlStatus : undefined;
      const status = await writeStatus(ctx, raw, { generation, invalid: message, changed: false, podsReady: false, warnings: [] });
      if (before?.PostgresClusterStatus !== 'Invalid' || before.conditions?.find((c) => c.type === 'Ready')?.message !== message
        || before.observedGeneration !== generation) {
        await event(ctx, raw, 'Warning', 'InvalidManifest', message, log);
        log.warn('Invalid manifest', { reason: message });
      }
      return { outcome: 'invalid', actions: [], status: status.PostgresClusterStatus, error: message };
    } catch (error) {
      return { outcome: 'failed', actions: [], retryable: isRetryable(error), error: (error as Error).message };
    }
  }

  const cluster = { ...validation.cluster, metadata: { ...validation.cluster.metadata, namespace } };
  const actions: SyncResult['actions'] = [];
  let state: ReturnType<typeof buildCluster> | undefined;
  try {
    const observed = await observeChildren(ctx, cluster, buildPodServiceAccount(ctx.config, namespace));
    const planned = planCluster(ctx, cluster, observed, await passwordsFor(ctx, cluster, observed));
    state = planned.state;
    const plan = planned.actions;
    for (const action of plan) {
      const written = action.type === 'apply'
        ? await ctx.client.apply(action.object, ctx.signal)
        : await createShared(ctx, action.object);
      if (written) observed.set(objectKey(action.object), written);
      actions.push({ change: action.change, kind: action.object.kind, name: action.object.metadata.name, reason: action.reason });
      log.info(`${action.change === 'created' ? 'Created' : 'Updated'} ${action.object.kind}`, { name: action.object.metadata.name, reason: action.reason });
    }
    const instances = (state.objects.find((o) => o.kind === 'StatefulSet')?.spec as { replicas: number }).replicas;
    const pods = podsReady(observed, cluster, instances);
    const warnings = [...validation.warnings, ...state.notes];
    const roles = await syncRolesAndDatabases(ctx, raw, cluster, observed, log);
    const status = await writeStatus(ctx, raw, { generation, changed: actions.length > 0, podsReady: pods.ready, progress: pods.progress, warnings },
      roles.condition ? [roles.condition] : []);
    if (actions.length > 0) {
      const created = actions.filter((a) => a.change === 'created').map((a) => `${a.kind} ${a.name}`);
      const updated = actions.filter((a) => a.change === 'updated').map((a) => a.reason);
      const message = [created.length ? `Created ${created.join(', ')}` : '', updated.length ? `Updated ${updated.join('; ')}` : '']
        .filter(Boolean).join('. ');
      await event(ctx, raw, 'Normal', created.length && !updated.length ? 'Created' : 'Updated', message, log);
    }
    if (warnings.length > 0 && warnings.join('\n') !== (previousWarnings ?? []).join('\n')) {
      await event(ctx, raw, 'Warning', 'ManifestWarnings', warnings.join('; '), log);
      for (const warning of warnings) log.warn('Manifest warning', { reason: warning });
    }
    return { outcome: 'synced', actions, status: status.PostgresClusterStatus, ...(roles.pending ? { retryable: true, pending: roles.pending } : {}),
      ...(roles.summary ? { roles: roles.summary } : {}) };
  } catch (error) {
    const message = (error as Error).message;
    log.error('Sync failed', { error: message });
    try {
      await writeStatus(ctx, raw, { generation, failed: message, changed: actions.length > 0, podsReady: false, warnings: validation.warnings });
      await event(ctx, raw, 'Warning', 'SyncFailed', message, log);
    } catch (statusError) {
      log.warn('Could not write failure status', { error: (statusError as Error).message });
    }
    return { outcome: 'failed', actions, retryable: isRetryable(error), error: message };
  }
}

/** Creates a shared object; one created meanwhile by a concurrent sync counts as done. */
async function createShared(ctx: SyncContext, object: Desired): Promise<KubeObject | undefined> {
  try {
    return await ctx.client.create(object, ctx.signal);
  } catch (error) {
    if ((error as { status?: number }).status === 409) return undefined;
    throw error;
  }
}
