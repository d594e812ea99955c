// The event bridge and PostgresTeam objects, on the real control plane: with enable_postgres_team_crd a change of a
// PostgresTeam is delivered to on-update once per cluster whose team it names (directly or through the merged
// additional teams), as an update of that cluster's postgresql object; other clusters get nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { startBridge, type Bridge } from '../../lib/bridge/bridge';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { installCrd as installCrdObject } from '../../lib/k8s/crd';
import { silentLogger } from '../../lib/log/logger';
import { FUNCTIONS } from '../../lib/registry/functions';
import { applyManifest, installCrd, reference, repoRoot, testClient } from './operator';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

/** What the stand-in functions received: `<function> <kind> <name>` per request. */
class Deliveries {
  readonly seen: string[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const object = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as KubeObject;
      this.seen.push(
        `${(req.url ?? '/').slice(1)} ${req.headers['ce-type'] ?? ''} ${object.kind} ${object.metadata?.name}`,
      );
      res.writeHead(200).end('{}');
    });
  });
  async start(): Promise<Record<string, string>> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return Object.fromEntries(FUNCTIONS.map((f) => [f.name, `http://127.0.0.1:${port}/${f.name}`]));
  }
  /** @returns the on-update deliveries of postgresql updates since `from`, by cluster name, sorted */
  updates(from: number): string[] {
    return this.seen
      .slice(from)
      .filter((s) => s.startsWith('on-update dev.knative.apiserver.resource.update postgresql '))
      .map((s) => s.split(' ').at(-1)!)
      .sort();
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the bridge delivers PostgresTeam changes to the clusters of the teams involved', () => {
  let client: KubeClient;
  let namespace: string;
  let bridge: Bridge;
  const deliveries = new Deliveries();

  /** Waits until the on-update deliveries since `from` are `expected`, then a little longer for any extra one. */
  async function expectUpdates(from: number, expected: string[]): Promise<void> {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(50))
      if (deliveries.updates(from).length >= expected.length) break;
    await sleep(600);
    assert.deepEqual(deliveries.updates(from), expected, JSON.stringify(deliveries.seen.slice(from)));
  }

  before(async () => {
    await installCrd();
    client = testClient();
    await installCrdObject(client, parse(readFileSync(`${repoRoot}manifests/postgresteam.crd.yaml`, 'utf8')));
    namespace = await createNamespace('roles-bridge');
    await applyManifest(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'postgres-operator' },
        data: { enable_postgres_team_crd: 'true', watched_namespace: namespace },
      },
      namespace,
    );
    const manifest = reference('v2.0.1/minimal-postgres-manifest.yaml') as KubeObject;
    for (const [name, teamId] of [
      ['acid-a', 'acid'],
      ['bi-a', 'bi'],
      ['other-a', 'other'],
    ] as const)
      await applyManifest({ ...manifest, metadata: { name }, spec: { ...manifest.spec, teamId } }, namespace);
    const targets = await deliveries.start();
    bridge = await startBridge({
      client,
      targets,
      log: silentLogger,
      port: 0,
      schedule: false,
      env: { OPERATOR_NAMESPACE: namespace, CONFIG_MAP_NAME: 'postgres-operator' },
      coalesceMs: 100,
      retry: { minMs: 50, maxMs: 1_000 },
      graceMs: 1_000,
    });
    await bridge.ready;
    await sleep(1_000); // the PostgresTeam informer starts after the config is read
  });

  after(async () => {
    await bridge?.stop();
    await deliveries.close();
    client.close();
    await deleteNamespace(namespace);
  });

  test('a new PostgresTeam: the clusters of the teams it names; a change through an additional team too', async () => {
    let from = deliveries.seen.length;
    await applyManifest(
      {
        apiVersion: 'acid.zalan.do/v1',
        kind: 'PostgresTeam',
        metadata: { name: 'links' },
        spec: { additionalTeams: { acid: ['e2e'] }, additionalMembers: { bi: ['kind'] } },
      },
      namespace,
    );
    await expectUpdates(from, ['acid-a', 'bi-a']);

    // another object changes e2e's members: acid reaches e2e through the first object
    from = deliveries.seen.length;
    await applyManifest(
      {
        apiVersion: 'acid.zalan.do/v1',
        kind: 'PostgresTeam',
        metadata: { name: 'members' },
        spec: { additionalMembers: { e2e: ['tester'] } },
      },
      namespace,
    );
    await expectUpdates(from, ['acid-a']);
  });

  test('a metadata-only change delivers nothing; a deletion delivers to the clusters it named', async () => {
    let from = deliveries.seen.length;
    const labelled = await kubectl(['label', 'postgresteam', 'links', 'x=y', '-n', namespace]);
    assert.equal(labelled.code, 0, labelled.stderr);
    await expectUpdates(from, []);
    from = deliveries.seen.length;
    const deleted = await kubectl(['delete', 'postgresteam', 'links', '-n', namespace]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await expectUpdates(from, ['acid-a', 'bi-a']);
  });
});
