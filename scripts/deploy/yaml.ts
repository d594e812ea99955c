/**
 * Multi-document YAML of generated objects, byte for byte the same for the same input (no dates, no folding of
 * long lines such as a base64 bundle).
 */
import { stringify } from 'yaml';
import type { KubeObject } from './meta';

/**
 * @param header comment lines printed first (without `#`)
 * @returns the objects as YAML documents separated by `---`
 */
export function toYaml(objects: readonly KubeObject[], header: string[] = []): string {
  const comment = header.map((line) => `# ${line}\n`).join('');
  return comment + objects.map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}
