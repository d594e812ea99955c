/**
 * A change of the operator ConfigMap. The ConfigMap is read again (the event only says that something changed) and
 * compared with the configuration last applied to the fleet, recorded on the ConfigMap as the annotation
 * `acid.zalan.do/last-applied-config` (`../operator/history.ts`):
 *
 * - valid data with keys accepted but not acted on, unknown or deprecated: a Warning Event
 *   `ConfigurationKeysIgnored` on the ConfigMap naming them (once per distinct content), then as below;
 * - invalid data: a Warning Event `InvalidConfiguration` on the ConfigMap naming every bad key (once per distinct
 *   content), and nothing else; every function keeps using the last applied configuration meanwhile;
 * - valid data equal to the last applied: a fleet sync, which writes nothing when all is in sync (our own
 *   annotation patch comes back as an update event and ends here) and carries rolling updates on;
 * - valid and different: fleet sync under the new config, which syncs exactly the clusters whose desired objects
 *   change (their pods are then rolled at the rate `rollout_clusters_at_once` / `rollout_cluster_delay` allow);
 *   a Normal Event `ConfigurationChanged` with the changed keys and the clusters synced; and, once the fleet run
 *   left nothing behind, the annotation. A run cut short by its deadline or an unreadable namespace is retryable,
 *   so the source calls again and the next run continues where this one stopped.
 *
 * No restart of anything is needed (unlike Zalando's operator, which reads its config at start).
 */
import type { KubeClient, ObjectRef } from '../../k8s/client';
import { eventRecorder, type EventRecorder } from '../../k8s/events';
import { configKeyReport, describeConfigKeyReport } from '../../model/config';
import type { Logger } from '../../log/logger';
import type { ConfigLocation } from '../context';
import { describeFleetItem } from '../../plan/fleet-run';
import { runFleet } from '../fleet/run';
import { syncFleet, type FleetResult } from '../fleet/sync-fleet';
import {
  changedKeys,
  configDataHash,
  describeConfigDiff,
  diffConfigData,
  recordAppliedConfig,
  sameConfigData,
  type ConfigData,
} from '../operator/history';
import type { OperatorContextResult } from '../operator/load';

/** What handling the change did (a JSON-able summary), and whether the caller should be called again (503). */
export interface ConfigChangeOutcome {
  result: unknown;
  retryable?: boolean;
  /** with `retryable`: when to be called again, in seconds, if a rollout waits for Patroni (else the default) */
  retryAfterSeconds?: number;
}

/** How to run the fleet sync a change starts. */
export interface ConfigChangeOptions {
  client: KubeClient;
  log: Logger;
  /** the invocation's budget in ms */
  deadlineMs: number;
  /** clusters synced at once */
  parallelism: number;
  /** the invocation's clock (Event timestamps when the config is invalid and there is no sync context) */
  now: () => Date;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Clusters named in an Event message at most; the rest are counted. */
const LISTED_CLUSTERS = 20;

const listed = (keys: string[]) =>
  keys.length <= LISTED_CLUSTERS
    ? keys.join(', ')
    : `${keys.slice(0, LISTED_CLUSTERS).join(', ')} and ${keys.length - LISTED_CLUSTERS} more`;

/**
 * @param operator the operator config as read for this invocation (`createOperatorContext`)
 * @param about the object the event names, if any: a change of another ConfigMap is ignored
 * @returns the outcome for an ignored, invalid or unchanged ConfigMap and for an applied change; retryable while
 *   the fleet run of a change has work left; throws KubeApiError when the API fails (the caller answers 503)
 */
export async function applyOperatorConfigChange(
  operator: OperatorContextResult,
  about: Partial<ObjectRef> | undefined,
  options: ConfigChangeOptions,
): Promise<ConfigChangeOutcome> {
  const { location } = operator;
  const { namespace, name } = location;
  // An ApiServerSource selects by label only: changes of other ConfigMaps (e.g. Patroni's) are not ours.
  if (about?.kind === 'ConfigMap' && (about.name !== name || (about.namespace ?? namespace) !== namespace)) {
    return {
      result: {
        ignored: `ConfigMap ${about.namespace}/${about.name} is not the operator ConfigMap ${namespace}/${name}`,
      },
    };
  }
  const { data, lastApplied } = operator.configMap;
  if (!operator.ok || operator.configSource === 'last-applied') {
    const errors = operator.ok ? operator.currentErrors : operator.errors;
    return reportInvalid(
      options,
      location,
      data,
      errors.map((e) => e.message),
      lastApplied !== undefined,
    );
  }
  await reportConfigKeys(operator.ctx.events, options.log, location, data);
  const fleetOptions = {
    operatorNamespace: namespace,
    deadlineMs: options.deadlineMs,
    parallelism: options.parallelism,
  };
  if (lastApplied && sameConfigData(lastApplied, data)) {
    // Applied already (this may be our own annotation patch coming back). Rolling updates the change started go on
    // one step per sync: carry them on, asking to be called again while they last (no write when all is in sync).
    const fleet = await runFleet(operator.ctx, fleetOptions);
    return {
      ...fleet,
      result: {
        configMap: `${namespace}/${name}`,
        unchanged: 'the configuration is the one last applied',
        fleet: fleet.result,
      },
    };
  }

  const diff = diffConfigData(lastApplied, data);
  const changes = lastApplied
    ? describeConfigDiff(diff, lastApplied, data)
    : [`first configuration applied (${plural(Object.keys(data ?? {}).length, 'key')})`];
  options.log.info('Operator configuration changed', {
    configMap: `${namespace}/${name}`,
    changes: changes.join('; '),
  });
  // Under the new config every cluster whose desired objects change shows as drifted, and only those are synced.
  const ctx = operator.ctx;
  const fleet = await syncFleet(ctx, fleetOptions);
  const left = leftBehind(fleet);
  const synced = fleet.items.filter((i) => i.outcome === 'synced').map((i) => i.cluster);
  const failed = fleet.items.filter((i) => i.outcome === 'failed').map((i) => `${i.cluster} (${i.error ?? 'failed'})`);
  const summary = {
    configMap: `${namespace}/${name}`,
    changes,
    warnings: operator.warnings,
    fleet: { ...fleet, items: fleet.items.map(describeFleetItem) },
  };

  // One Event per run that did something, or that completes the change (a run that synced nothing and must be
  // called again stays silent; so does a missing ConfigMap, which has no annotation to end the repetition).
  if (synced.length > 0 || (left.length === 0 && operator.configMap.exists)) {
    const what = lastApplied ? `changed keys: ${changedKeys(diff).join(', ')}; ${changes.join('; ')}` : changes[0];
    const message = [
      `operator configuration ${left.length ? 'being applied' : 'applied'}; ${what}`,
      synced.length ? `clusters synced: ${listed(synced)}` : "no cluster's objects change",
      ...(failed.length ? [`failed (retried by periodic sync): ${listed(failed)}`] : []),
      ...(left.length ? [`still to do: ${left.join('; ')}`] : []),
    ].join('; ');
    await ctx.events.record(configMapRef(location), 'Normal', 'ConfigurationChanged', message);
  }
  if (left.length) {
    options.log.info('Operator configuration partly applied, continuing on the next call', { left: left.join('; ') });
    return { result: { ...summary, applied: false, left }, retryable: true };
  }
  if (operator.configMap.exists) await recordAppliedConfig(options.client, location, data, ctx.signal);
  // The pods follow one rolling-update step per sync: ask to be called again while any cluster has steps left.
  const rolling = fleet.items.filter((i) => i.rollingUpdate).map((i) => i.cluster);
  const lookAgain = fleet.items.flatMap((i) => (i.lookAgainSeconds === undefined ? [] : [i.lookAgainSeconds]));
  return {
    result: { ...summary, applied: true, rollingUpdates: rolling },
    retryable: rolling.length > 0,
    ...(lookAgain.length > 0 ? { retryAfterSeconds: Math.min(...lookAgain) } : {}),
  };
}

/**
 * Keys of valid content worth a warning (accepted but not acted on, unknown with the known key probably meant,
 * deprecated): one Warning Event `ConfigurationKeysIgnored` on the ConfigMap per distinct content (named after a
 * hash of the data, so a second delivery of the same data costs one GET and no write), and one log line when it is
 * recorded. Nothing at all when every key is known and acted on. Invalid content gets `InvalidConfiguration`
 * instead (the key report then waits for the fixed content).
 */
async function reportConfigKeys(
  events: EventRecorder,
  log: Logger,
  location: ConfigLocation,
  data: ConfigData | undefined,
): Promise<void> {
  const report = configKeyReport(data);
  const message = describeConfigKeyReport(report);
  if (message === undefined) return;
  const recorded = await events.once(
    configDataHash(data),
    configMapRef(location),
    'Warning',
    'ConfigurationKeysIgnored',
    message,
  );
  if (recorded !== 'recorded') return;
  log.warn('Operator configuration keys not acted on', {
    configMap: `${location.namespace}/${location.name}`,
    unknown: report.unknown.map(({ key, nearest }) => (nearest ? `${key} (did you mean ${nearest}?)` : key)).join(', '),
    deprecated: report.deprecated.map(({ key }) => key).join(', '),
    notActedOn: report.notActedOn.map(({ key }) => key).join(', '),
  });
}

const configMapRef = (location: ConfigLocation) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace: location.namespace,
  name: location.name,
});

/**
 * What keeps a change from counting as applied: namespaces that could not be listed, clusters not started before
 * the deadline, and clusters whose Lease another invocation held (it may have read the old config). Clusters whose
 * sync failed do not: the config is in force for them, and periodic sync repairs them like any failed cluster
 * (waiting for them would also make a later invalid edit fall back to a config older than what runs).
 */
function leftBehind(fleet: FleetResult): string[] {
  const busy = fleet.items.filter((i) => i.outcome === 'busy').map((i) => i.cluster);
  return [
    ...fleet.errors.map((e) => `namespace not listed: ${e}`),
    ...(fleet.left ? [`${plural(fleet.left, 'cluster')} not started before the deadline`] : []),
    ...(busy.length ? [`busy: ${listed(busy)}`] : []),
  ];
}

/**
 * The ConfigMap's data is invalid: a Warning Event `InvalidConfiguration` once per distinct content (named after a
 * hash of the data, so a second delivery of the same data costs one GET and no write; Events expire after the
 * apiserver's `--event-ttl`, and the same data delivered after that is reported again), and nothing is run.
 * @param fallback whether a last applied configuration stays in force (else nothing is synced until it is fixed)
 */
async function reportInvalid(
  options: ConfigChangeOptions,
  location: ConfigLocation,
  data: ConfigData | undefined,
  errors: string[],
  fallback: boolean,
): Promise<ConfigChangeOutcome> {
  const consequence = fallback
    ? 'the last applied configuration stays in force until it is fixed'
    : 'no configuration was applied before, so no cluster is synced until it is fixed';
  const message = `invalid operator configuration: ${errors.join('; ')}; ${consequence}`;
  const events = eventRecorder(options.client, options.log, options.now);
  const recorded = await events.once(
    configDataHash(data),
    configMapRef(location),
    'Warning',
    'InvalidConfiguration',
    message,
  );
  if (recorded === 'recorded') options.log.warn('Invalid operator configuration', { reason: message });
  return {
    result: {
      configMap: `${location.namespace}/${location.name}`,
      invalid: errors,
      using: fallback ? 'last-applied' : 'none',
      event: recorded === 'failed' ? 'not recorded (see the log)' : recorded,
    },
  };
}
