/**
 * Patroni REST API: a client for one member (`GET /cluster`, `GET /patroni`, `POST /switchover`,
 * `POST /failover`, `GET /config`, `PATCH /config`), typed errors, validated response shapes and pure helpers to
 * read a cluster view.
 *
 * Source: Patroni REST API docs, https://patroni.readthedocs.io/en/latest/rest_api.html
 *
 * @module
 */
export {
  PatroniClient,
  patroniUrl,
  PATRONI_PORT,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_SWITCHOVER_TIMEOUT_MS,
  type PatroniClientOptions,
  type CallOptions,
  type SwitchoverRequest,
  type FailoverRequest,
} from './client';
export { PatroniError, isPatroniError, type PatroniErrorKind } from './errors';
export {
  patroniClusterSchema,
  patroniDynamicConfigSchema,
  patroniMemberSchema,
  patroniStatusSchema,
  type PatroniCluster,
  type PatroniDynamicConfig,
  type PatroniMember,
  type PatroniStatus,
  type SwitchoverResult,
} from './types';
export {
  clusterLeader,
  lagBytes,
  isHealthyReplica,
  pickSwitchoverCandidate,
  replicaNotFollowing,
  type CandidateOptions,
} from './cluster';
