/**
 * Rules on decoded operator config values that end up in every cluster's objects: a value breaking one would make
 * the API server refuse the objects of every cluster, so it makes the whole ConfigMap invalid instead (and the
 * last applied configuration stays in force). The rule of each key is the `check` of its spec in `keys.ts`.
 *
 * Source: Kubernetes API reference (Container `image`, Quantity, label and annotation key syntax, namespace names);
 * PostgreSQL docs, "Identifiers and Key Words" (NAMEDATALEN: 63 bytes kept); Zalando operator
 * docs for which keys feed which object,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md.
 *
 * @module
 */

import { cronScheduleProblem } from '../logical-backup';
import { DNS_1123_LABEL, labelKeyProblem, labelValueProblem } from '../labels';
import { parseQuantity } from '../quantity';
import { schemaNameProblem } from '../rules';
import { configSidecarsProblem, sidecarImagesProblem } from '../sidecars';
import type { ValueCheck } from './keys';

/** Phrase used when a resource quantity does not parse. */
export const EXPECTED_QUANTITY = 'a Kubernetes quantity such as "100m", "1", "500Mi" or "2Gi"';

function quantityProblem(text: string): string | undefined {
  const amount = parseQuantity(text);
  if (amount === undefined) return EXPECTED_QUANTITY;
  if (amount < 0) return `${EXPECTED_QUANTITY}, not negative`;
  return undefined;
}

/**
 * Checks a decoded value against a rule.
 *
 * @param check - the rule, from the key's spec
 * @param value - the decoded value (a string for `image`, `quantity`, `optional-quantity` and `label-key`; a
 *   string map for `labels` and `annotations`)
 * @returns what a valid value looks like, with the problem in parentheses when there is more to say (completes
 *   the sentence "expected …"), or `undefined` when the value is valid
 */
export function checkValue(check: ValueCheck, value: unknown): string | undefined {
  switch (check) {
    case 'image':
      return value === '' ? 'a container image, not an empty value' : undefined;
    case 'quantity':
      return value === '' ? `${EXPECTED_QUANTITY}, not an empty value` : quantityProblem(String(value));
    case 'optional-quantity':
      return value === '' ? undefined : quantityProblem(String(value));
    case 'label-key': {
      const problem = labelKeyProblem(String(value));
      return problem && `a label key such as "cluster-name" or "example.com/role" (${problem})`;
    }
    case 'labels': {
      for (const [key, text] of Object.entries(value as Record<string, string>)) {
        const problem = labelKeyProblem(key) ?? labelValueProblem(text);
        if (problem) return `labels like "key1:value1,key2:value2" that Kubernetes accepts (${problem})`;
      }
      return undefined;
    }
    case 'namespaces': {
      const text = String(value).trim();
      if (text === '' || text === '*') return undefined;
      for (const name of text.split(',').map((n) => n.trim())) {
        if (name.length > 63 || !DNS_1123_LABEL.test(name)) {
          return `"*", "" or a comma list of namespace names (${JSON.stringify(name)} is not a namespace name: lower case letters, digits and "-", at most 63)`;
        }
      }
      return undefined;
    }
    case 'role-name': {
      const text = String(value);
      if (text === '') return 'a role name, not an empty value';
      if (Buffer.byteLength(text) > 63) return 'a role name of at most 63 bytes (PostgreSQL truncates longer names)';
      if (/\s/.test(text)) return 'a role name without spaces';
      return undefined;
    }
    case 'schema-name': {
      const problem = schemaNameProblem(String(value));
      return problem && `a schema name of lower case letters, digits and "_" (${problem})`;
    }
    case 'containers':
      return configSidecarsProblem(String(value));
    case 'container-images':
      return sidecarImagesProblem(value as Record<string, string>);
    case 'regexps':
      for (const pattern of value as string[]) {
        try {
          new RegExp(pattern);
        } catch (error) {
          return `regular expressions such as "downscaler/.*" (${(error as Error).message})`;
        }
      }
      return undefined;
    case 'cron-schedule': {
      const problem = cronScheduleProblem(String(value));
      return problem && `a cron schedule such as "30 00 * * *" (the schedule ${problem})`;
    }
    case 'annotations': {
      for (const key of Object.keys(value as Record<string, string>)) {
        const problem = labelKeyProblem(key);
        if (problem) return `annotations whose keys Kubernetes accepts (${problem})`;
      }
      return undefined;
    }
  }
}
