/**
 * The shapes the roles layer works with: the roles a cluster should have (from all sources, merged), what the
 * database catalog says it has, and the statements that close the gap.
 *
 * Source: Zalando postgres-operator docs, user.md ("Manifest roles", "Infrastructure roles", "Teams API roles")
 * and administrator.md ("Role priorities"); PostgreSQL docs, CREATE ROLE, ALTER ROLE, GRANT, CREATE DATABASE.
 */

/** Where a role comes from, lowest priority first (`bootstrap`: the roles of prepared databases, Zalando's highest). */
export const ROLE_ORIGINS = ['manifest', 'infrastructure', 'teams-api', 'system', 'bootstrap'] as const;
export type RoleOrigin = (typeof ROLE_ORIGINS)[number];

/** Priority of an origin on a name clash: system > Teams API > infrastructure > manifest (higher wins). */
export function originPriority(origin: RoleOrigin): number {
  return ROLE_ORIGINS.indexOf(origin);
}

/** Words shown for an origin in messages (Zalando's wording for the "purpose" of a role). */
export const ORIGIN_PURPOSE: Record<RoleOrigin, string> = {
  manifest: 'manifest robot role',
  infrastructure: 'infrastructure role',
  'teams-api': 'API role',
  system: 'system role',
  bootstrap: 'bootstrap role',
};

/** A role the cluster should have. Only what is listed is enforced: nothing is ever removed from a role. */
export interface DesiredRole {
  name: string;
  origin: RoleOrigin;
  /**
   * Role attributes to hold, upper case and sorted: SUPERUSER, LOGIN, CREATEDB, INHERIT, REPLICATION, BYPASSRLS,
   * CREATEROLE, or their NO- forms. Attributes not listed are left as they are.
   */
  attributes: string[];
  /** group roles it must be a member of (sorted) */
  memberOf: string[];
  /** roles that must hold ADMIN OPTION on this role (Zalando's `ADMIN "<team_admin_role>"` for manifest roles) */
  admins: string[];
  /** `ALTER ROLE ... SET name TO value` settings */
  parameters: Record<string, string>;
  /**
   * The password: plaintext (from a Secret) or an md5/SCRAM verifier; `null` for roles that log in without one
   * (created with PASSWORD NULL, never set afterwards); undefined when the operator does not manage it.
   */
  password?: string | null;
}

/** Something the operator refused or could not do for one role or database, with the exact reason. */
export interface RoleNote {
  /** the role or database name as given (may be hostile: show it with JSON.stringify) */
  name: string;
  /** the source the entry came from, or `database` */
  origin: RoleOrigin | 'database';
  message: string;
}

/** One role as read from `pg_authid`, `pg_auth_members` and `pg_db_role_setting`. */
export interface CatalogRole {
  name: string;
  superuser: boolean;
  inherit: boolean;
  createrole: boolean;
  createdb: boolean;
  login: boolean;
  replication: boolean;
  bypassrls: boolean;
  /** `rolpassword`: an md5 or SCRAM verifier, or null */
  password: string | null;
  /** roles it is a member of */
  memberOf: string[];
  /** roles holding ADMIN OPTION on it */
  admins: string[];
  /** database-independent settings (`setdatabase = 0`), as name -> value */
  parameters: Record<string, string>;
}

/** What the catalog holds for the names the plan asked about. */
export interface Catalog {
  roles: Map<string, CatalogRole>;
  /** database name -> owner role name, for the databases asked about */
  databases: Map<string, string>;
}

/** How passwords are sent: pre-hashed, as PostgreSQL's `password_encryption` would store them. */
export type PasswordEncryption = 'md5' | 'scram-sha-256';

/** A statement to run. Names are checked; `password` holds a verifier, never plaintext. */
export type Statement =
  | {
      type: 'create-role';
      role: string;
      attributes: string[];
      inRoles: string[];
      admins: string[];
      password: string | null | undefined;
      reason: string;
    }
  | { type: 'alter-role'; role: string; attributes: string[]; password?: string; reason: string }
  | { type: 'grant-membership'; role: string; groups: string[]; reason: string }
  | { type: 'grant-admin'; role: string; admin: string; reason: string }
  /** `values`: one literal, or the elements of a list setting such as search_path */
  | { type: 'set-parameter'; role: string; name: string; values: string[]; reason: string }
  /** `ALTER ROLE ... RESET ALL`: drops settings no source asks for any more (the wanted ones are set after it) */
  | { type: 'reset-parameters'; role: string; reason: string }
  /** `ALTER ROLE ... RENAME TO`: a removed team member's role deprecated, or a returning member's restored */
  | { type: 'rename-role'; role: string; newName: string; reason: string }
  /** `DROP ROLE IF EXISTS`: only a password rotation role past its retention (`rotation.ts`) */
  | { type: 'drop-role'; role: string; reason: string }
  | { type: 'create-database'; database: string; owner: string; reason: string }
  | { type: 'alter-database-owner'; database: string; owner: string; reason: string };
