// Helpers of the tests that run the role step against a real PostgreSQL (test/integration/postgres.ts): what Patroni
// and Spilo would do (the master Endpoints, the superuser's password from its Secret) and the server's DDL count.
import assert from 'node:assert/strict';
import type { KubeClient } from '../../lib/k8s/client';
import { scramVerifier } from '../../lib/roles/password';
import type { TestPostgres } from './postgres';
import { kubectl } from './testenv';

/** @returns the name of a role's credentials Secret (Zalando's default secret_name_template) */
export const secretOf = (user: string, cluster: string) =>
  `${user.replaceAll('_', '-')}.${cluster}.credentials.postgresql.acid.zalan.do`;

/** @returns the password in a role's credentials Secret */
export async function password(client: KubeClient, namespace: string, user: string, cluster: string): Promise<string> {
  const secret = await client.get({ kind: 'Secret', namespace, name: secretOf(user, cluster) });
  assert.ok(secret, `Secret of ${user}`);
  return Buffer.from(secret.data.password, 'base64').toString();
}

/** What Patroni does once a leader runs: the master Endpoints get its address. */
export async function masterUp(namespace: string, name: string): Promise<void> {
  const patch = JSON.stringify({
    subsets: [{ addresses: [{ ip: '10.0.0.4' }], ports: [{ name: 'postgresql', port: 5432, protocol: 'TCP' }] }],
  });
  const result = await kubectl(['patch', 'endpoints', name, '-n', namespace, '--type', 'merge', '-p', patch]);
  assert.equal(result.code, 0, result.stderr);
}

/** What Spilo does at bootstrap: the superuser gets the password of its Secret (sent as a verifier). */
export async function superuserFromSecret(
  server: TestPostgres,
  client: KubeClient,
  namespace: string,
  cluster: string,
): Promise<void> {
  const admin = await server.admin();
  const secret = await password(client, namespace, 'postgres', cluster);
  await admin.query(`ALTER ROLE postgres PASSWORD '${scramVerifier(secret, Buffer.from('fixed-test-salt!'))}'`);
  server.password = secret;
}

/** @returns how many DDL statements the server has logged */
export const ddlCount = (server: TestPostgres): number =>
  server
    .log()
    .split('\n')
    .filter((l) => /LOG:\s+statement: (CREATE|ALTER|GRANT|DROP|REVOKE)/.test(l)).length;

/** Points the role step at a test server: its address, no TLS, and the operator namespace of the test. */
export function connectRolesTo(server: TestPostgres, namespace: string): void {
  Object.assign(process.env, {
    POSTGRES_HOST_TEMPLATE: `127.0.0.1:${server.port}`,
    POSTGRES_SSLMODE: 'disable',
    OPERATOR_NAMESPACE: namespace,
  });
}

/** @returns a `postgresql` manifest of team acid, one instance, PostgreSQL 17, with `spec` added */
export const clusterManifest = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { name },
  spec: { teamId: 'acid', numberOfInstances: 1, volume: { size: '1Gi' }, postgresql: { version: '17' }, ...spec },
});
