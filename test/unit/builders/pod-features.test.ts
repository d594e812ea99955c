// Pod and Service features of issue 16 beyond the golden files: what each changes when on, and that a feature off
// leaves the pod template as it was (a changed template restarts every pod of every cluster).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredObject } from '../../../lib/builders';
import { buildEdited, referenceConfig, type ReferenceManifest } from '../reference';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const COMPLETE: ReferenceManifest = 'v2.0.1/complete-postgres-manifest.yaml';
const statefulSet = (objects: readonly DesiredObject[]) => objects.find((o) => o.kind === 'StatefulSet') as Json;

describe('downscaler_annotations', () => {
  const annotated = (raw: Json) => {
    raw.metadata.annotations = {
      'downscaler/uptime': 'Mon-Fri 07:00-19:00 UTC',
      'deployment-time': '2026-01-01',
      'other/key': 'x',
    };
  };

  it('copies the matching annotations of the postgresql object onto the StatefulSet and pooler Deployments only', () => {
    const config = referenceConfig('v2.0.1');
    config.downscaler_annotations = ['deployment-time', 'downscaler/*'];
    const { objects } = buildEdited(COMPLETE, config, (raw) => {
      annotated(raw);
      // Zalando v1.15.1 gives the pooler Deployments the same annotations (AnnotationsToPropagate).
      Object.assign(raw.spec, { enableConnectionPooler: true, enableReplicaConnectionPooler: true });
    });
    const expected = { 'deployment-time': '2026-01-01', 'downscaler/uptime': 'Mon-Fri 07:00-19:00 UTC' };
    const workloads = objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment') as Json[];
    assert.deepEqual(
      workloads.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'Deployment/acid-test-cluster-pooler',
        'Deployment/acid-test-cluster-pooler-repl',
        'StatefulSet/acid-test-cluster',
      ],
    );
    for (const o of workloads) {
      assert.deepEqual(o.metadata.annotations, expected, `${o.kind}/${o.metadata.name}`);
      assert.equal(o.spec.template.metadata.annotations?.['downscaler/uptime'], undefined, 'not on the pods');
    }
    for (const o of objects.filter((o) => !workloads.includes(o)))
      assert.equal(o.metadata.annotations?.['downscaler/uptime'], undefined, `${o.kind}/${o.metadata.name}`);
  });

  it('leaves the pod template as it is', () => {
    const off = buildEdited(COMPLETE, referenceConfig('v2.0.1'), annotated);
    const config = referenceConfig('v2.0.1');
    config.downscaler_annotations = ['.*'];
    const on = buildEdited(COMPLETE, config, annotated);
    assert.deepEqual(statefulSet(on.objects).spec.template, statefulSet(off.objects).spec.template);
    assert.equal(statefulSet(off.objects).metadata.annotations, undefined);
  });
});

describe('features off', () => {
  it('global sidecar keys and share_pgsocket_with_sidecars at their defaults change nothing', () => {
    const defaults = buildEdited(COMPLETE, referenceConfig('v2.0.1'));
    const config = referenceConfig('v2.0.1');
    config.sidecars = '';
    config.sidecar_docker_images = {};
    config.share_pgsocket_with_sidecars = false;
    config.enable_sidecars = false;
    assert.deepEqual(buildEdited(COMPLETE, config).objects, defaults.objects);
  });

  it('a tls section without a secretName changes nothing (Zalando complete manifest has one)', () => {
    const withSection = buildEdited(COMPLETE, referenceConfig('v2.0.1'));
    const without = buildEdited(COMPLETE, referenceConfig('v2.0.1'), (raw) => {
      delete (raw.spec as Json).tls;
    });
    assert.deepEqual(statefulSet(withSection.objects).spec.template, statefulSet(without.objects).spec.template);
  });
});

describe('sidecars', () => {
  it('every container of the pod gets a volume of targetContainers all; a named sidecar only its own', () => {
    const { objects } = buildEdited(COMPLETE, referenceConfig('v2.0.1'), (raw) => {
      const spec = raw.spec as Json;
      spec.sidecars = [
        { name: 'a', image: 'a:1' },
        { name: 'b', image: 'b:1' },
      ];
      spec.additionalVolumes.push({ name: 'only-b', mountPath: '/b', targetContainers: ['b'], volumeSource: {} });
    });
    const mounts = Object.fromEntries(
      (statefulSet(objects).spec.template.spec.containers as Json[]).map((c) => [
        c.name,
        (c.volumeMounts as Json[]).map((m) => m.name),
      ]),
    );
    assert.deepEqual(mounts, {
      postgres: ['pgdata', 'dshm', 'empty'],
      a: ['pgdata', 'empty'],
      b: ['pgdata', 'empty', 'only-b'],
    });
  });

  it('a manifest sidecar wins over a global one of the same name, which is reported', () => {
    const config = referenceConfig('v2.0.1');
    config.sidecar_docker_images = { a: 'global:1' };
    const { objects, notes } = buildEdited(COMPLETE, config, (raw) => {
      (raw.spec as Json).sidecars = [{ name: 'a', image: 'a:1' }];
    });
    const containers = statefulSet(objects).spec.template.spec.containers as Json[];
    assert.deepEqual(
      containers.map((c) => `${c.name}=${c.image}`),
      ['postgres=ghcr.io/zalando/spilo-18:4.1-p2', 'a=a:1'],
    );
    assert.ok(
      notes.includes(
        `sidecar "a" of the config's sidecar_docker_images is not added: spec.sidecars.0 has a sidecar of that name`,
      ),
      JSON.stringify(notes),
    );
  });
});

describe('Scalyr sidecar (deprecated scalyr_* keys)', () => {
  const scalyrConfig = () => {
    const config = referenceConfig('v2.0.1');
    config.scalyr_api_key = 'key-1';
    config.scalyr_image = 'registry.example.com/scalyr-agent:1';
    config.sidecar_docker_images = { exporter: 'exporter:1' };
    return config;
  };
  const containers = (config: ReturnType<typeof referenceConfig>) =>
    statefulSet(buildEdited(COMPLETE, config).objects).spec.template.spec.containers as Json[];

  it('is added after the global sidecars, with its env, resources and the data volume, as Zalando v1.15.1', () => {
    const all = containers(scalyrConfig());
    assert.deepEqual(
      all.map((c) => c.name),
      ['postgres', 'exporter', 'scalyr-sidecar'],
    );
    const scalyr = all[2]!;
    assert.equal(scalyr.image, 'registry.example.com/scalyr-agent:1');
    assert.deepEqual(
      (scalyr.env as Json[]).map((e) => `${e.name}=${e.value ?? JSON.stringify(e.valueFrom)}`).slice(3),
      [
        'POSTGRES_PASSWORD={"secretKeyRef":{"key":"password","name":"postgres.acid-test-cluster.credentials.postgresql.acid.zalan.do"}}',
        'SCALYR_API_KEY=key-1',
        'SCALYR_SERVER_HOST=acid-test-cluster',
        'SCALYR_SERVER_URL=https://upload.eu.scalyr.com',
      ],
    );
    assert.deepEqual(scalyr.resources, {
      requests: { cpu: '100m', memory: '50Mi' },
      limits: { cpu: '1', memory: '500Mi' },
    });
    // The data volume and the complete manifest's volume for all containers.
    assert.deepEqual(
      (scalyr.volumeMounts as Json[]).map((m) => m.name),
      ['pgdata', 'empty'],
    );
  });

  it('empty resources take the default_* ones; an empty server URL is left out', () => {
    const config = scalyrConfig();
    config.scalyr_cpu_limit = '';
    config.scalyr_server_url = '';
    const scalyr = containers(config).find((c) => c.name === 'scalyr-sidecar')!;
    assert.equal(scalyr.resources.limits.cpu, config.default_cpu_limit);
    assert.equal(
      (scalyr.env as Json[]).some((e) => e.name === 'SCALYR_SERVER_URL'),
      false,
    );
  });

  it('an image without an API key adds nothing and says so', () => {
    const config = scalyrConfig();
    config.scalyr_api_key = '';
    const { objects, notes } = buildEdited(COMPLETE, config);
    assert.deepEqual(
      (statefulSet(objects).spec.template.spec.containers as Json[]).map((c) => c.name),
      ['postgres', 'exporter'],
    );
    assert.ok(
      notes.some((n) => n.startsWith('no Scalyr sidecar: scalyr_image is set but scalyr_api_key is empty')),
      JSON.stringify(notes),
    );
  });
});

describe('additional_secret_mount', () => {
  const secretConfig = () => {
    const config = referenceConfig('v2.0.1');
    config.additional_secret_mount = 'wal-credentials';
    config.additional_secret_mount_path = '/meta/credentials';
    config.sidecar_docker_images = { exporter: 'exporter:1' };
    return config;
  };

  it('mounts the Secret in every container, after the socket volume and before the manifest volumes', () => {
    const config = secretConfig();
    config.share_pgsocket_with_sidecars = true;
    const spec = statefulSet(buildEdited(COMPLETE, config).objects).spec.template.spec;
    assert.deepEqual(
      (spec.volumes as Json[]).map((v) => v.name),
      ['dshm', 'postgresql-run', 'wal-credentials', 'empty'],
    );
    assert.deepEqual((spec.volumes as Json[])[2], {
      name: 'wal-credentials',
      secret: { secretName: 'wal-credentials' },
    });
    for (const container of spec.containers as Json[])
      assert.ok(
        (container.volumeMounts as Json[]).some(
          (m) => m.name === 'wal-credentials' && m.mountPath === '/meta/credentials',
        ),
        String(container.name),
      );
  });

  it('keeps a manifest volume of its name or path out, and says so', () => {
    const { objects, notes } = buildEdited(COMPLETE, secretConfig(), (raw) => {
      (raw.spec as Json).additionalVolumes = [
        { name: 'wal-credentials', mountPath: '/elsewhere', volumeSource: { emptyDir: {} } },
        { name: 'other', mountPath: '/meta/credentials', volumeSource: { emptyDir: {} } },
        { name: 'kept', mountPath: '/kept', volumeSource: { emptyDir: {} } },
      ];
    });
    const spec = statefulSet(objects).spec.template.spec;
    assert.deepEqual(
      (spec.volumes as Json[]).map((v) => v.name),
      ['dshm', 'wal-credentials', 'kept'],
    );
    assert.deepEqual(
      notes.filter((n) => n.includes('additional_secret_mount')),
      [
        `spec.additionalVolumes.0: volume "wal-credentials" is not mounted: the operator config's additional_secret_mount takes that volume name`,
        `spec.additionalVolumes.1: volume "other" is not mounted: the operator config's additional_secret_mount takes the mount path /meta/credentials`,
      ],
    );
  });

  it('mounts it in the logical backup pod too', () => {
    const { objects } = buildEdited(COMPLETE, secretConfig(), (raw) => {
      (raw.spec as Json).enableLogicalBackup = true;
    });
    const job = objects.find((o) => o.kind === 'CronJob') as Json;
    const pod = job.spec.jobTemplate.spec.template.spec;
    assert.deepEqual(pod.volumes, [{ name: 'wal-credentials', secret: { secretName: 'wal-credentials' } }]);
    assert.deepEqual(pod.containers[0].volumeMounts, [{ name: 'wal-credentials', mountPath: '/meta/credentials' }]);
  });

  it('empty: no volume (the default)', () => {
    const spec = statefulSet(buildEdited(COMPLETE, referenceConfig('v2.0.1')).objects).spec.template.spec;
    assert.equal(
      (spec.volumes as Json[]).some((v) => v.secret),
      false,
    );
  });
});
