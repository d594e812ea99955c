// testenv: full
// Proves the full test control plane (kube-controller-manager, kube-scheduler, kwok, fake Nodes): a StatefulSet
// with a volumeClaimTemplate gets scheduled Pods that are Running with pod IPs, and Bound PVCs; a deleted pod
// comes back with the same name and claim. The `// testenv: full` line above makes run-integration.sh run this
// file on the full plane (`testenv.sh up --full`, which exports TESTENV_FULL=1).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createNamespace, deleteNamespace, kubectl } from './testenv';

const skip =
  process.env.TESTENV_FULL === '1'
    ? false
    : 'needs the full control plane: run `bash scripts/testenv/run-integration.sh`, or ' +
      '`eval "$(bash scripts/testenv/testenv.sh up --full)"` before this file (TESTENV_FULL=1 is not set)';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- objects are read field by field
type Obj = Record<string, any>;

async function getJson(args: string[]): Promise<Obj> {
  const result = await kubectl([...args, '-o', 'json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Obj;
}

/** Polls `check` every 200 ms until it returns a value, or fails with the last observation after `timeoutMs`. */
async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  describe: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      assert.fail(`${what} not reached within ${timeoutMs} ms; last seen:\n${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function statefulSet(name: string, replicas: number): Obj {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'postgres', image: 'example.invalid/spilo:1' }] },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'pgdata' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    },
  };
}

interface PodView {
  name: string;
  phase: string;
  podIP: string | undefined;
  nodeName: string | undefined;
  claim: string | undefined;
  uid: string;
}

async function pods(ns: string, app: string): Promise<PodView[]> {
  const list = await getJson(['get', 'pods', '-n', ns, '-l', `app=${app}`]);
  return (list.items as Obj[])
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      phase: p.status?.phase ?? '',
      podIP: p.status?.podIP,
      nodeName: p.spec.nodeName,
      claim: (p.spec.volumes as Obj[] | undefined)?.find((v) => v.name === 'pgdata')?.persistentVolumeClaim?.claimName,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function claims(ns: string): Promise<Obj[]> {
  return (await getJson(['get', 'pvc', '-n', ns])).items as Obj[];
}

let ns = '';
before(async () => {
  if (skip) return;
  ns = await createNamespace('full-plane');
});
after(async () => {
  if (ns) await deleteNamespace(ns);
});

test('the fake Nodes are Ready and kwok-volume is the default StorageClass', { skip }, async () => {
  const nodes = (await getJson(['get', 'nodes'])).items as Obj[];
  assert.equal(nodes.length, Number(process.env.TESTENV_NODES ?? 3));
  for (const node of nodes) {
    const ready = (node.status.conditions as Obj[]).find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True', `${node.metadata.name} Ready`);
  }
  const sc = await getJson(['get', 'storageclass', 'kwok-volume']);
  assert.equal(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
});

test('a StatefulSet gets scheduled Running pods with IPs and Bound claims', { skip }, async () => {
  const apply = await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(statefulSet('web', 3)));
  assert.equal(apply.code, 0, apply.stderr);

  const running = await eventually(
    '3 Running pods with IPs',
    60_000,
    async () => {
      const list = await pods(ns, 'web');
      return list.length === 3 && list.every((p) => p.phase === 'Running' && p.podIP) ? list : undefined;
    },
    async () => JSON.stringify(await pods(ns, 'web'), null, 1),
  );

  assert.deepEqual(
    running.map((p) => p.name),
    ['web-0', 'web-1', 'web-2'],
  );
  assert.equal(new Set(running.map((p) => p.podIP)).size, 3, 'pod IPs are distinct');
  for (const pod of running) {
    assert.match(pod.nodeName ?? '', /^testenv-node-\d+$/, `${pod.name} is scheduled on a fake node`);
    assert.equal(pod.claim, `pgdata-${pod.name}`, `${pod.name} mounts its own claim`);
  }

  const bound = await eventually(
    '3 Bound claims',
    30_000,
    async () => {
      const list = await claims(ns);
      return list.length === 3 && list.every((c) => c.status?.phase === 'Bound') ? list : undefined;
    },
    async () => JSON.stringify((await claims(ns)).map((c) => [c.metadata.name, c.status?.phase])),
  );
  for (const claim of bound) {
    const pv = await getJson(['get', 'pv', claim.spec.volumeName]);
    assert.equal(pv.spec.claimRef.uid, claim.metadata.uid, `${claim.metadata.name} is bound to its own volume`);
    assert.equal(pv.status.phase, 'Bound');
  }
});

test('a deleted pod comes back with the same name, a new uid and the same Bound claim', { skip }, async () => {
  const before = (await pods(ns, 'web')).find((p) => p.name === 'web-1');
  assert.ok(before, 'web-1 exists');
  const claimBefore = (await claims(ns)).find((c) => c.metadata.name === 'pgdata-web-1');
  const del = await kubectl(['delete', 'pod', '-n', ns, 'web-1', '--wait=false']);
  assert.equal(del.code, 0, del.stderr);

  const back = await eventually(
    'web-1 recreated and Running',
    60_000,
    async () => {
      const pod = (await pods(ns, 'web')).find((p) => p.name === 'web-1');
      return pod && pod.uid !== before.uid && pod.phase === 'Running' && pod.podIP ? pod : undefined;
    },
    async () => JSON.stringify(await pods(ns, 'web')),
  );
  assert.equal(back.claim, 'pgdata-web-1');
  const claimAfter = (await claims(ns)).find((c) => c.metadata.name === 'pgdata-web-1');
  assert.equal(claimAfter?.metadata.uid, claimBefore?.metadata.uid, 'the claim (the data) is kept');
  assert.equal(claimAfter?.status.phase, 'Bound');
});
