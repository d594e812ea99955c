/**
 * Multi-document YAML of generated objects, byte for byte the same for the same input (no dates, no folding of
 * long lines such as a base64 bundle). Written with the YAML 1.1 schema, so strings that YAML 1.1 reads as
 * booleans (`off`, `yes`, `on`, `y`) are quoted: kubectl and the API server parse YAML 1.1 (sigs.k8s.io/yaml), and
 * would otherwise turn an env value `off` into `false` and refuse it.
 */
import { stringify } from 'yaml';
import type { DesiredObject } from './meta';

/**
 * @param header comment lines printed first (without `#`)
 * @returns the objects as YAML documents separated by `---`
 */
export function toYaml(objects: readonly DesiredObject[], header: string[] = []): string {
  const comment = header.map((line) => `# ${line}\n`).join('');
  return (
    comment +
    objects.map((o) => `---\n${stringify(o, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false })}`).join('')
  );
}
