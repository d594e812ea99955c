/**
 * The UI's "new cluster" form turned into a `postgresql` manifest, with the fields Zalando's postgres-operator-ui
 * asks for on its create page (name, team, namespace, PostgreSQL version, number of instances, volume size, users,
 * databases), then checked by the operator's own validation (`lib/model/validate.ts`), so the form refuses what
 * the sync would refuse, naming the manifest field. Pure.
 *
 * Source: Zalando docs, user.md ("Create a manifest for a new PostgreSQL cluster": teamId prefix, users with role
 * flags, databases with their owner) and the manifest reference (reference/cluster_manifest.md).
 */
import { validatePostgresql, type Problem, type ValidationOptions } from '../../model/validate';

/** The form as the browser sends it: text fields, lists written one entry a line. */
export interface ClusterForm {
  name: string;
  teamId: string;
  namespace: string;
  /** PostgreSQL major version, e.g. `17` */
  version: string;
  /** number of pods, as typed */
  numberOfInstances: string | number;
  /** a Kubernetes quantity, e.g. `1Gi` */
  volumeSize: string;
  /** one user a line: `name: flag, flag` (flags optional, e.g. `app_owner: createdb`) */
  users?: string;
  /** one database a line: `name: owner` */
  databases?: string;
}

/** The manifest built, or each problem with the field it concerns (`spec.volume.size`, `users` line 2, ...). */
export type FormResult =
  { ok: true; manifest: Record<string, unknown>; warnings: string[] } | { ok: false; problems: Problem[] };

/** @returns the non-empty, trimmed lines of a text area */
const lines = (text: string | undefined) =>
  (text ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

/** Splits `key: rest` lines; a line without a colon is a key with an empty rest. */
function keyedLines(text: string | undefined, field: string, problems: Problem[]): Array<[string, string]> {
  const seen = new Set<string>();
  return lines(text).flatMap((line, index) => {
    const colon = line.indexOf(':');
    const key = (colon < 0 ? line : line.slice(0, colon)).trim();
    const rest = colon < 0 ? '' : line.slice(colon + 1).trim();
    if (key === '') {
      problems.push({ path: field, message: `line ${index + 1} has no name before the colon` });
      return [];
    }
    if (seen.has(key)) {
      problems.push({ path: field, message: `${key} is given twice` });
      return [];
    }
    seen.add(key);
    return [[key, rest] as [string, string]];
  });
}

/**
 * Builds and validates the manifest of a form.
 * @param form the fields as typed
 * @param options the operator settings that change what is valid (name prefix rule, system role names)
 * @returns the manifest (`acid.zalan.do/v1` `postgresql`, namespace in its metadata) or the problems found
 */
export function manifestFromForm(form: ClusterForm, options: ValidationOptions): FormResult {
  const problems: Problem[] = [];
  const users = Object.fromEntries(
    keyedLines(form.users, 'users', problems).map(([name, flags]) => [
      name,
      flags === ''
        ? []
        : flags
            .split(/[,\s]+/)
            .filter((flag) => flag !== '')
            .map((flag) => flag.toLowerCase()),
    ]),
  );
  const databases = Object.fromEntries(
    keyedLines(form.databases, 'databases', problems).map(([name, owner]) => {
      if (owner === '') problems.push({ path: 'databases', message: `database ${name} needs an owner (name: owner)` });
      return [name, owner];
    }),
  );
  const instances =
    typeof form.numberOfInstances === 'number' ? form.numberOfInstances : Number(form.numberOfInstances);
  if (!Number.isInteger(instances))
    problems.push({ path: 'spec.numberOfInstances', message: 'must be a whole number' });
  if (!form.namespace?.trim()) problems.push({ path: 'metadata.namespace', message: 'is required' });
  const manifest = {
    apiVersion: 'acid.zalan.do/v1',
    kind: 'postgresql',
    metadata: { name: form.name?.trim() ?? '', namespace: form.namespace?.trim() ?? '' },
    spec: {
      teamId: form.teamId?.trim() ?? '',
      numberOfInstances: instances,
      volume: { size: form.volumeSize?.trim() ?? '' },
      postgresql: { version: String(form.version ?? '').trim() },
      ...(Object.keys(users).length ? { users } : {}),
      ...(Object.keys(databases).length ? { databases } : {}),
    },
  };
  if (problems.length) return { ok: false, problems };
  const validated = validatePostgresql(manifest, options);
  if (!validated.ok) return { ok: false, problems: validated.problems };
  return { ok: true, manifest, warnings: validated.warnings };
}
