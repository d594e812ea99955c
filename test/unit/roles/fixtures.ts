// Shared fixtures of the roles unit tests: catalog rows and catalogs as lib/pg/catalog.ts would read them.
import type { Catalog, CatalogRole, DesiredRole } from '../../../lib/roles/types';

/** @returns a catalog row: LOGIN INHERIT, no password, no groups, no settings, unless `extra` says otherwise */
export const catalogRole = (name: string, extra: Partial<CatalogRole> = {}): CatalogRole => ({
  name,
  superuser: false,
  inherit: true,
  createrole: false,
  createdb: false,
  login: true,
  replication: false,
  bypassrls: false,
  password: null,
  memberOf: [],
  admins: [],
  parameters: {},
  ...extra,
});

/** @returns a catalog with these roles and databases (name -> owner) */
export const catalogOf = (roles: CatalogRole[], databases: Record<string, string> = {}): Catalog => ({
  roles: new Map(roles.map((r) => [r.name, r])),
  databases: new Map(Object.entries(databases)),
});

/** @returns a desired LOGIN role of that origin: no groups, admins or settings, unless `extra` says otherwise */
export const desiredRole = (
  name: string,
  origin: DesiredRole['origin'] = 'manifest',
  extra: Partial<DesiredRole> = {},
): DesiredRole => ({
  name,
  origin,
  attributes: ['LOGIN'],
  memberOf: [],
  admins: [],
  parameters: {},
  ...extra,
});
