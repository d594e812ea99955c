import { stringify } from 'yaml';
import { postgresqlCrd } from './crd';

/** The CRD as the YAML text committed in manifests/postgresql.crd.yaml (header comment included). */
export function renderCrdYaml(): string {
  return (
    '# Generated from lib/model/postgresql.ts by `npm run crd`. Do not edit by hand.\n' +
    stringify(postgresqlCrd(), { lineWidth: 0, aliasDuplicateObjects: false })
  );
}
