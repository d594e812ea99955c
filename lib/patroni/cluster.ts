/**
 * Reading a `GET /cluster` answer: who leads, how far behind each replica is, which replica is the best
 * switchover candidate. The pure functions live in `lib/plan/patroni-members.ts` (the rolling-update plan uses
 * them too); they are re-exported here for users of the client.
 *
 * @module
 */
export {
  clusterLeader,
  lagBytes,
  isHealthyReplica,
  pickSwitchoverCandidate,
  replicaNotFollowing,
  type CandidateOptions,
} from '../plan/patroni-members';
