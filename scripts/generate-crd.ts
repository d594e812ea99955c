// Writes manifests/postgresql.crd.yaml and manifests/postgresteam.crd.yaml from the zod schemas (npm run crd).
// test/unit/model/crd.test.ts fails when a committed file differs from what this prints.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml, renderPostgresTeamCrdYaml } from '../lib/model/crd-yaml';

for (const [file, text] of [
  ['postgresql.crd.yaml', renderCrdYaml()],
  ['postgresteam.crd.yaml', renderPostgresTeamCrdYaml()],
] as const) {
  const target = fileURLToPath(new URL(`../manifests/${file}`, import.meta.url));
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
