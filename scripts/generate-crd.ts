// Writes manifests/postgresql.crd.yaml from the zod schema (npm run crd). test/unit/model/crd.test.ts fails when
// the committed file differs from what this prints.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml } from '../lib/model/crd-yaml';

const target = fileURLToPath(new URL('../manifests/postgresql.crd.yaml', import.meta.url));
writeFileSync(target, renderCrdYaml());
console.log(`wrote ${target}`);
