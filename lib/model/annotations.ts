/**
 * Annotations users put on `postgresql` objects to talk to the operator.
 */

/**
 * `acid.zalan.do/sync-now` (any value): sync this cluster now. The bridge delivers the change without its
 * coalescing delay, fleet sync treats the cluster as drifted, and onUpdate removes the annotation once synced.
 */
export const SYNC_NOW_ANNOTATION = 'acid.zalan.do/sync-now';
