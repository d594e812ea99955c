/**
 * The UI's actions on one cluster, each a JSON merge patch of its `postgresql` object, as a user would make with
 * `kubectl patch` / `kubectl annotate`: scale (`spec.numberOfInstances`), pause or resume its rolling update
 * (`acid.zalan.do/rolling-update-paused`), sync now (`acid.zalan.do/sync-now`). Pure: the time comes in.
 *
 * Source: RFC 7386 (JSON merge patch: `null` removes a key); lib/model/annotations.ts for what each annotation does.
 */
import { ROLLING_UPDATE_PAUSED_ANNOTATION, SYNC_NOW_ANNOTATION } from '../../model/annotations';

/** An action on a cluster; `scale` carries the number of instances asked for. */
export type ClusterAction =
  { action: 'scale'; numberOfInstances: number } | { action: 'pause' } | { action: 'resume' } | { action: 'sync-now' };

/** The names of the actions, as the URL path says them (`POST /ui/api/clusters/<ns>/<name>/<action>`). */
export const ACTIONS = ['scale', 'pause', 'resume', 'sync-now'] as const;

/**
 * @param request the action's name and its JSON body (`{numberOfInstances}` for scale)
 * @returns the action, or a message naming what is wrong with it
 */
export function parseAction(name: string, body: unknown): ClusterAction | { error: string } {
  switch (name) {
    case 'scale': {
      const n = (body as { numberOfInstances?: unknown } | undefined)?.numberOfInstances;
      const value = typeof n === 'string' && n.trim() !== '' ? Number(n) : n;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
        return { error: 'numberOfInstances: must be a whole number, 0 or more' };
      return { action: 'scale', numberOfInstances: value };
    }
    case 'pause':
    case 'resume':
    case 'sync-now':
      return { action: name };
    default:
      return { error: `unknown action ${name}; known: ${ACTIONS.join(', ')}` };
  }
}

/**
 * @param action what to do
 * @param now the time (the sync-now annotation's value, so a second request changes the object again)
 * @returns the merge patch of the `postgresql` object
 */
export function actionPatch(action: ClusterAction, now: Date): Record<string, unknown> {
  switch (action.action) {
    case 'scale':
      return { spec: { numberOfInstances: action.numberOfInstances } };
    case 'pause':
      return { metadata: { annotations: { [ROLLING_UPDATE_PAUSED_ANNOTATION]: 'true' } } };
    case 'resume':
      return { metadata: { annotations: { [ROLLING_UPDATE_PAUSED_ANNOTATION]: null } } };
    case 'sync-now':
      return { metadata: { annotations: { [SYNC_NOW_ANNOTATION]: now.toISOString() } } };
  }
}
