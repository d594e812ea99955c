/**
 * Annotations users put on `postgresql` objects to talk to the operator, and those the operator puts on pods.
 */

/**
 * `acid.zalan.do/sync-now` (any value): sync this cluster now. The bridge delivers the change without its
 * coalescing delay, fleet sync treats the cluster as drifted, and onUpdate removes the annotation once synced.
 */
export const SYNC_NOW_ANNOTATION = 'acid.zalan.do/sync-now';

/**
 * `acid.zalan.do/rolling-update-paused: "true"`: hold this cluster's rolling update. Pods stay flagged and keep
 * running; other changes are still applied; removing the annotation (or any other value) lets the rollout go on.
 * The per-cluster pause of a fleet-wide rollout (e.g. after a `docker_image` change in the operator ConfigMap).
 */
export const ROLLING_UPDATE_PAUSED_ANNOTATION = 'acid.zalan.do/rolling-update-paused';

/** Pod template annotation: the hash of the recreate-relevant part of the template the pod was created from. */
export const POD_TEMPLATE_HASH_ANNOTATION = 'acid.zalan.do/pod-template-hash';
