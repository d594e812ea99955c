/**
 * The databases of a cluster: `spec.databases` (name -> owner role). A database is skipped, with a note, when
 * its name is not a plain identifier, when it is a system database, or when its owner is not a role of this
 * cluster (Zalando skips those too).
 *
 * Source: Zalando postgres-operator docs, reference/cluster_manifest.md ("databases").
 */
import type { Postgresql } from '../model/postgresql';
import { databaseNameProblem, SYSTEM_DATABASES } from './names';
import type { RoleNote } from './types';

/** A database and the role that must own it. */
export interface DesiredDatabase {
  name: string;
  owner: string;
  /** created with this owner when missing, its owner never changed (Zalando's prepared databases) */
  createOnly?: boolean;
}

/**
 * @param roles names of the roles the cluster will have (after merging)
 * @returns databases sorted by name, and the skipped ones as notes
 */
export function manifestDatabases(
  cluster: Postgresql,
  roles: ReadonlySet<string>,
): { databases: DesiredDatabase[]; notes: RoleNote[] } {
  const databases: DesiredDatabase[] = [];
  const notes: RoleNote[] = [];
  for (const [name, owner] of Object.entries(cluster.spec.databases ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    const problem =
      databaseNameProblem(name) ??
      (SYSTEM_DATABASES.includes(name) ? `${JSON.stringify(name)} is a system database` : undefined) ??
      (roles.has(owner) ? undefined : `owner ${JSON.stringify(owner)} is not a role of this cluster`);
    if (problem)
      notes.push({ name, origin: 'database', message: `database ${JSON.stringify(name)} skipped: ${problem}` });
    else databases.push({ name, owner });
  }
  return { databases, notes };
}
