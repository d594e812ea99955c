/**
 * Shared inputs of the deploy tests: options, lookups in generated objects, placeholder bundles in a temp build
 * directory, and an RBAC evaluator that answers "may this ServiceAccount do that?" from generated objects the way
 * the RBAC authorizer does (a RoleBinding grants in its namespace, a ClusterRoleBinding everywhere).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyRule } from '../../../lib/registry/rbac';
import { FUNCTIONS } from '../../../lib/registry/functions';
import type { DesiredObject } from '../../../scripts/deploy/meta';
import { defaultOptions, type DeployOptions } from '../../../scripts/deploy/options';

/** A container of a generated pod, as far as the tests read it. */
export type Container = {
  name: string;
  image: string;
  command?: string[];
  env: Array<{ name: string; value?: string }>;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  ports?: Array<{ containerPort: number }>;
};
/** A generated pod spec, as far as the tests read it. */
export type PodSpec = { serviceAccountName?: string; automountServiceAccountToken?: boolean; containers: Container[] };

/** @returns the object of that kind and name, if generated */
export const find = (objects: readonly DesiredObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
/** @returns the pod template of a Deployment */
export const podOf = (deployment: DesiredObject) =>
  (deployment.spec as { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } }).template;
/** @returns a container's env as name → value */
export const envOf = (container: Container) => Object.fromEntries(container.env.map((e) => [e.name, e.value]));

/** Options with an operator namespace `pgo` watching `apps` and `data`. */
export function testOptions(overrides: Partial<DeployOptions> = {}): DeployOptions {
  return {
    ...defaultOptions(),
    namespace: 'pgo',
    watchedNamespaces: ['apps', 'data'],
    configMap: { namespace: 'pgo', name: 'postgres-operator' },
    image: 'registry.example/postgres-operator-functions:test',
    ...overrides,
  };
}

/** @returns the placeholder bundle source of a function: a CommonJS module exporting its handler */
export function placeholderSource(name: string, exportName: string): string {
  return (
    `"use strict";\nmodule.exports = { ${exportName}: async (event, context) => ({ function: ${JSON.stringify(name)}, ` +
    'data: event.data, handler: context["function-name"] }) };\n'
  );
}

/** @returns a temp build directory with `functions/<name>/handler.js` for every function (and one LEGAL file) */
export function placeholderDist(): string {
  const dist = mkdtempSync(join(tmpdir(), 'deploy-dist-'));
  for (const spec of FUNCTIONS) {
    mkdirSync(join(dist, 'functions', spec.name), { recursive: true });
    writeFileSync(join(dist, 'functions', spec.name, 'handler.js'), placeholderSource(spec.name, spec.export));
  }
  writeFileSync(
    join(dist, 'functions', 'on-create', 'handler.js.LEGAL.txt'),
    'Bundled license information:\n\nexample (MIT)\n',
  );
  return dist;
}

/** One request to authorize. */
export interface Access {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

function matches(rule: PolicyRule, access: Access): boolean {
  return (
    rule.apiGroups.includes(access.group) &&
    rule.resources.includes(access.resource) &&
    rule.verbs.includes(access.verb) &&
    (!rule.resourceNames || (access.name !== undefined && rule.resourceNames.includes(access.name)))
  );
}

/**
 * @param account `namespace/name` of a ServiceAccount
 * @returns whether the generated bindings grant it the access (a namespaced access needs `namespace`; a
 *   cluster-scoped one such as nodes has none)
 */
export function allows(objects: readonly DesiredObject[], account: string, access: Access): boolean {
  const [saNamespace, saName] = account.split('/');
  const roleOf = (kind: string, name: string, namespace?: string) =>
    objects.find(
      (o) =>
        o.kind === kind && o.metadata.name === name && (kind === 'ClusterRole' || o.metadata.namespace === namespace),
    );
  return objects.some((binding) => {
    if (binding.kind !== 'RoleBinding' && binding.kind !== 'ClusterRoleBinding') return false;
    const subjects = binding.subjects as Array<{ kind: string; name: string; namespace: string }>;
    if (!subjects.some((s) => s.kind === 'ServiceAccount' && s.name === saName && s.namespace === saNamespace))
      return false;
    if (binding.kind === 'RoleBinding' && binding.metadata.namespace !== access.namespace) return false;
    const ref = binding.roleRef as { kind: string; name: string };
    const role = roleOf(ref.kind, ref.name, binding.metadata.namespace);
    return ((role?.rules as PolicyRule[] | undefined) ?? []).some((rule) => matches(rule, access));
  });
}

/** @returns every `group/resource verb` a list of rules grants, sorted (resourceNames noted) */
export function grantsOf(rules: readonly PolicyRule[]): string[] {
  return rules
    .flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.resources.flatMap((res) =>
          r.verbs.map((v) => `${g || 'core'}/${res} ${v}${r.resourceNames ? ` [${r.resourceNames.join(',')}]` : ''}`),
        ),
      ),
    )
    .sort();
}
