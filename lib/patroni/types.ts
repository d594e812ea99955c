/**
 * Shapes of Patroni REST API responses, validated with zod. Objects are loose: fields a newer Patroni adds are
 * kept, and only the fields the operator reads are checked. Values that changed between Patroni versions are
 * plain strings (e.g. `GET /patroni` says `role: "master"` up to 3.x and `"primary"` from 4.0).
 *
 * Source: Patroni REST API docs (https://patroni.readthedocs.io/en/latest/rest_api.html), "Monitoring endpoint"
 * (`GET /patroni`) and "Cluster status endpoints" (`GET /cluster`); checked against Patroni 3.0.2
 * (`patroni/api.py`, `patroni/utils.py` `cluster_as_json`).
 *
 * @module
 */
import * as z from 'zod';

/**
 * One member in `GET /cluster`. `role` is `leader`, `standby_leader`, `sync_standby`, `quorum_standby` (4.0+)
 * or `replica`; `state` is e.g. `running`, `streaming` (replicas, 3.0.4+), `starting`, `stopped`,
 * `start failed`, `crashed`. `lag` (bytes behind the leader) is absent on the leader and `"unknown"` when the
 * member reported no WAL position.
 */
export const patroniMemberSchema = z.looseObject({
  name: z.string(),
  role: z.string(),
  state: z.string(),
  /** `http://<host>:<port>/patroni`; null when the member published no REST API address */
  api_url: z.string().nullable().optional(),
  host: z.string().optional(),
  port: z.number().int().optional(),
  timeline: z.number().int().optional(),
  lag: z.union([z.number(), z.string()]).optional(),
  pending_restart: z.boolean().optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
});
/** One member in `GET /cluster`, see {@link patroniMemberSchema}. */
export type PatroniMember = z.infer<typeof patroniMemberSchema>;

/**
 * `GET /cluster`: the members as the DCS sees them, sorted by name, plus `pause` (maintenance mode) and a
 * `scheduled_switchover` (`at` ISO 8601, `from`, `to`) when one is pending.
 */
export const patroniClusterSchema = z.looseObject({
  members: z.array(patroniMemberSchema),
  pause: z.boolean().optional(),
  scheduled_switchover: z
    .looseObject({
      at: z.string(),
      from: z.string().optional(),
      to: z.string().optional(),
    })
    .optional(),
});
/** `GET /cluster`, see {@link patroniClusterSchema}. */
export type PatroniCluster = z.infer<typeof patroniClusterSchema>;

/**
 * `GET /patroni`: this node's own view. `state` is Patroni's PostgreSQL state (`running`, `starting`,
 * `stopped`, ...); `role` is `master` (up to 3.x) or `primary` (4.0+), `replica`, `standby_leader`, ... ;
 * `xlog` holds `location` on a primary and `received_location`/`replayed_location` (bytes) on a replica;
 * `cluster_unlocked` is true while no member holds the leader key.
 */
export const patroniStatusSchema = z.looseObject({
  state: z.string(),
  role: z.string(),
  server_version: z.number().int().optional(),
  postmaster_start_time: z.string().nullable().optional(),
  timeline: z.number().int().nullable().optional(),
  xlog: z
    .looseObject({
      location: z.number().optional(),
      received_location: z.number().nullable().optional(),
      replayed_location: z.number().nullable().optional(),
      replayed_timestamp: z.string().nullable().optional(),
      paused: z.boolean().optional(),
    })
    .optional(),
  cluster_unlocked: z.boolean().optional(),
  pending_restart: z.boolean().optional(),
  pause: z.boolean().optional(),
  database_system_identifier: z.string().optional(),
  dcs_last_seen: z.number().optional(),
  patroni: z.looseObject({ version: z.string(), scope: z.string() }),
  replication: z
    .array(z.looseObject({ application_name: z.string().optional(), state: z.string().optional() }))
    .optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
});
/** `GET /patroni`, see {@link patroniStatusSchema}. */
export type PatroniStatus = z.infer<typeof patroniStatusSchema>;

/**
 * `GET /config` and the answer of `PATCH /config`: the cluster's dynamic configuration as kept in the DCS
 * (`ttl`, `loop_wait`, `retry_timeout`, `maximum_lag_on_failover`, `synchronous_mode`, `slots`,
 * `postgresql.parameters`, ...). Source: Patroni docs, "Dynamic Configuration Settings" and REST API
 * "Config endpoint".
 */
export const patroniDynamicConfigSchema = z.record(z.string(), z.unknown());
/** `GET /config`, see {@link patroniDynamicConfigSchema}. */
export type PatroniDynamicConfig = z.infer<typeof patroniDynamicConfigSchema>;

/** What a switchover or failover request ended with. */
export interface SwitchoverResult {
  /**
   * `switched`: Patroni saw a new leader before answering (200); `scheduled`: `scheduled_at` was given and
   * Patroni accepted it (202).
   */
  outcome: 'switched' | 'scheduled';
  /** The leader Patroni reported after the switch, when it named one (it may differ from the candidate). */
  newLeader: string | undefined;
  /** Patroni's own message, e.g. `Successfully switched over to "pg-1"`. */
  message: string;
  /** The endpoint that did it: `/switchover`, or `/failover` on a Patroni without `/switchover`. */
  endpoint: '/switchover' | '/failover';
}
