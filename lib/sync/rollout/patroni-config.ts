/**
 * Keeps Patroni's dynamic configuration at what the manifest sets, on every sync of a cluster with pods. The
 * manifest's `patroni` settings and the PostgreSQL parameters Spilo keeps in the DCS (`max_connections`, ...) are
 * in SPILO_CONFIGURATION's `bootstrap.dcs`, which only seeds a new cluster, and a change there recreates no pod
 * (`lib/plan/statefulset.ts`): it reaches a running cluster only through `PATCH /config`. Patroni applies it in its
 * next loop: settings and reloadable parameters at once; a parameter that needs a restart shows as
 * `pending_restart` until the pod's PostgreSQL next restarts (this operator does not restart it by itself).
 *
 * Nothing is asked of Patroni when the manifest sets none of these; with nothing to change there is one
 * `GET /config` and no write. A member that cannot be read is not an error of the sync (the next one tries again).
 *
 * Source: Zalando postgres-operator v1.15.1 `syncPatroniConfig`
 * (https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/sync.go) and pkg/util/patroni/patroni.go
 * (PATCH /config with the differences to GET /config, each sync); Patroni docs, "Dynamic Configuration Settings".
 */
import type { V1Pod } from '@kubernetes/client-node';
import { patroniDynamicConfiguration } from '../../builders/spilo-configuration';
import type { Postgresql } from '../../model/postgresql';
import { patroniConfigReport, patroniConfigWanted } from '../../plan/patroni-config';
import { syncPatroniConfig } from '../pods/patroni';
import type { SyncContext } from '../context';
import type { StepEvent } from '../context';

/** What the step did. */
export interface PatroniConfigOutcome {
  /** a change is due and the caller does not hold the cluster's Lease */
  needsLease?: boolean;
  events: StepEvent[];
}

/**
 * @param pods the cluster's pods, as just listed
 * @param holdsLease whether the caller holds the cluster's Lease (a change is written only under it)
 * @returns the Event of a change made (`patroniConfigReport`); never throws
 */
export async function patroniConfigStep(
  ctx: SyncContext,
  cluster: Postgresql,
  pods: readonly V1Pod[],
  holdsLease: boolean,
): Promise<PatroniConfigOutcome> {
  const desired = patroniDynamicConfiguration(cluster, ctx.config);
  if (!patroniConfigWanted(desired, pods.length)) return { events: [] };
  const report = patroniConfigReport(await syncPatroniConfig(ctx, pods, desired, { write: holdsLease }));
  if (report.warning)
    ctx.log.warn('Could not sync the Patroni configuration', { cluster: cluster.metadata.name, error: report.warning });
  return { events: report.events, ...(report.needsLease ? { needsLease: true } : {}) };
}
