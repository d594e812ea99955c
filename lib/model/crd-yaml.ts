import { stringify } from 'yaml';
import { postgresqlCrd } from './crd';
import { postgresTeamCrd } from './postgres-team-crd';

const yamlOf = (source: string, crd: object): string =>
  `# Generated from ${source} by \`npm run crd\`. Do not edit by hand.\n` +
  stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false });

/** The CRD as the YAML text committed in manifests/postgresql.crd.yaml (header comment included). */
export function renderCrdYaml(): string {
  return yamlOf('lib/model/postgresql.ts', postgresqlCrd());
}

/** The PostgresTeam CRD as the YAML text committed in manifests/postgresteam.crd.yaml (header comment included). */
export function renderPostgresTeamCrdYaml(): string {
  return yamlOf('lib/model/postgres-team.ts', postgresTeamCrd());
}
