// Golden fixtures: every Zalando reference manifest built under both reference ConfigMaps.
// `UPDATE_GOLDEN=1` (npm run golden) rewrites the fixtures; review the diff like code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import {
  build,
  CONFIG_VERSIONS,
  rawManifest,
  referenceConfig,
  REFERENCE_MANIFESTS,
  telegrafSidecar,
  tlsWithCa,
  validCluster,
  type ConfigVersion,
  type ReferenceManifest,
} from '../reference';

const FIXTURES = fileURLToPath(new URL('../../fixtures/golden/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

function fixturePath(configVersion: ConfigVersion, manifest: ReferenceManifest, suffix?: string): string {
  const name = manifest.replace('/', '-').replace(/\.yaml$/, '');
  return `${FIXTURES}${configVersion}/${name}${suffix ? `-${suffix}` : ''}.yaml`;
}

/**
 * Edited copies of a reference manifest, each a fixture of its own: `<manifest>-<suffix>.yaml`. `pooler` is Zalando's
 * complete manifest with the connection pooler section its comments show, both poolers on and the replica pooler
 * behind a load balancer. `tls` sets the commented TLS section with a CA Secret. `sidecars` adds the sidecar its comments show, one without a name or resources, the
 * commented volume for the sidecar, and global sidecars of both config keys with the shared socket directory.
 * `logical-backup` turns the logical backup on with its own schedule and retention, to an S3 bucket.
 */
const VARIANTS: ReadonlyArray<{
  manifest: ReferenceManifest;
  suffix: string;
  what: string;
  edit: (raw: ReturnType<typeof rawManifest>) => void;
  /** changes to the reference ConfigMap's config (the header says which) */
  config?: { what: string; edit: (config: ReturnType<typeof referenceConfig>) => void };
}> = [
  {
    manifest: 'v2.0.1/complete-postgres-manifest.yaml',
    suffix: 'tls',
    what: 'tls.secretName pg-tls, caFile ca.crt from caSecretName pg-ca, and spiloFSGroup 103 as its comments ask',
    edit: (raw) => {
      Object.assign(raw.spec, tlsWithCa());
    },
  },
  {
    manifest: 'v2.0.1/complete-postgres-manifest.yaml',
    suffix: 'sidecars',
    what: 'the commented telegraf-sidecar and its /etc/telegraf volume, and a sidecar with only an image and a command',
    edit: (raw) => {
      const spec = raw.spec as Record<string, unknown[]>;
      spec.sidecars = [telegrafSidecar(), { image: 'busybox', command: ['sleep', 'infinity'] }];
      spec.additionalVolumes!.push({
        name: 'conf',
        mountPath: '/etc/telegraf',
        subPath: 'telegraf.conf',
        targetContainers: ['telegraf-sidecar'],
        volumeSource: { configMap: { name: 'my-config-map' } },
      });
    },
    config: {
      what: 'share_pgsocket_with_sidecars: true, sidecar_docker_images exporter, sidecars [log-shipper]',
      edit: (config) => {
        config.share_pgsocket_with_sidecars = true;
        config.sidecar_docker_images = { exporter: 'registry.example.com/postgres-exporter:0.15' };
        config.sidecars = JSON.stringify([
          {
            name: 'log-shipper',
            image: 'fluent/fluent-bit:3.0',
            args: ['-c', '/etc/fluent-bit/fluent-bit.conf'],
            env: [{ name: 'POSTGRES_USER', value: 'ignored' }],
          },
        ]);
      },
    },
  },
  {
    manifest: 'v2.0.1/complete-postgres-manifest.yaml',
    suffix: 'pooler',
    what: 'enableConnectionPooler, enableReplicaConnectionPooler, enableReplicaPoolerLoadBalancer: true and the commented connectionPooler section',
    edit: (raw) => {
      Object.assign(raw.spec, {
        enableConnectionPooler: true,
        enableReplicaConnectionPooler: true,
        enableReplicaPoolerLoadBalancer: true,
        connectionPooler: {
          numberOfInstances: 2,
          mode: 'transaction',
          schema: 'pooler',
          user: 'pooler',
          maxDBConnections: 60,
          resources: { requests: { cpu: '300m', memory: '100Mi' }, limits: { cpu: '1', memory: '100Mi' } },
        },
      });
    },
  },
  {
    manifest: 'v2.0.1/complete-postgres-manifest.yaml',
    suffix: 'logical-backup',
    what: 'enableLogicalBackup: true, logicalBackupSchedule "15 2 * * *" and logicalBackupRetention "2 weeks"',
    edit: (raw) => {
      Object.assign(raw.spec, {
        enableLogicalBackup: true,
        logicalBackupSchedule: '15 2 * * *',
        logicalBackupRetention: '2 weeks',
      });
    },
    config: {
      what: 'logical_backup_s3_bucket my-bucket, logical_backup_s3_sse AES256, logical_backup_cpu_request 50m',
      edit: (config) => {
        config.logical_backup_s3_bucket = 'my-bucket';
        config.logical_backup_s3_sse = 'AES256';
        config.logical_backup_cpu_request = '50m';
      },
    },
  },
];

function render(
  configVersion: ConfigVersion,
  manifest: ReferenceManifest,
  variant?: (typeof VARIANTS)[number],
): string {
  const config = referenceConfig(configVersion);
  variant?.config?.edit(config);
  const raw = rawManifest(manifest);
  variant?.edit(raw);
  const { cluster, warnings } = validCluster(raw, config);
  const { objects, shared, notes } = build(cluster, config);
  const header =
    `# Generated by test/unit/builders/golden.test.ts (UPDATE_GOLDEN=1): do not edit by hand.\n` +
    (variant ? `# Variant: ${variant.what}.\n` : '') +
    (variant?.config ? `# Config changed: ${variant.config.what}.\n` : '') +
    `# Input: reference/zalando/${manifest}, ConfigMap reference/zalando/${configVersion}/configmap.yaml,\n` +
    `# namespace default, uid 00000000-0000-4000-8000-000000000001, passwords "<user>-password".\n`;
  return header + stringify({ warnings, notes, objects, shared }, { lineWidth: 0, aliasDuplicateObjects: false });
}

describe('golden fixtures', () => {
  const cases = [
    ...REFERENCE_MANIFESTS.map((manifest) => ({ manifest, variant: undefined })),
    ...VARIANTS.map((variant) => ({ manifest: variant.manifest, variant })),
  ];
  for (const configVersion of CONFIG_VERSIONS) {
    for (const { manifest, variant } of cases) {
      it(`${manifest}${variant ? ` (${variant.suffix})` : ''} under the ${configVersion} ConfigMap`, () => {
        const path = fixturePath(configVersion, manifest, variant?.suffix);
        const actual = render(configVersion, manifest, variant);
        if (update) {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, actual);
          return;
        }
        assert.ok(existsSync(path), `missing fixture ${path}: run UPDATE_GOLDEN=1 npm run golden`);
        assert.equal(
          actual,
          readFileSync(path, 'utf8'),
          `${path} differs: review, then run UPDATE_GOLDEN=1 npm run golden`,
        );
      });
    }
  }
});

describe('determinism', () => {
  for (const manifest of REFERENCE_MANIFESTS) {
    it(`building ${manifest} twice gives identical output`, () => {
      const config = referenceConfig('v2.0.1');
      const first = build(validCluster(rawManifest(manifest), config).cluster, config);
      const second = build(
        validCluster(rawManifest(manifest), referenceConfig('v2.0.1')).cluster,
        referenceConfig('v2.0.1'),
      );
      assert.equal(JSON.stringify(second), JSON.stringify(first));
      assert.equal(render('v2.0.1', manifest), render('v2.0.1', manifest));
    });
  }

  it('object keys are sorted at every level (a resync must not see a reordering)', () => {
    const config = referenceConfig('v2.0.1');
    const { objects, shared } = build(
      validCluster(rawManifest('v2.0.1/complete-postgres-manifest.yaml'), config).cluster,
      config,
    );
    const check = (value: unknown, path: string): void => {
      if (Array.isArray(value)) {
        value.forEach((v, i) => check(v, `${path}[${i}]`));
        return;
      }
      if (value === null || typeof value !== 'object') return;
      const keys = Object.keys(value);
      assert.deepEqual(keys, [...keys].sort(), `keys of ${path} are not sorted`);
      for (const [k, v] of Object.entries(value)) check(v, `${path}.${k}`);
    };
    check(objects, 'objects');
    check(shared, 'shared');
  });

  it('key order of the manifest does not change the output', () => {
    const config = referenceConfig('v2.0.1');
    const raw = rawManifest('v2.0.1/complete-postgres-manifest.yaml');
    const reversed = JSON.parse(JSON.stringify(raw), function (this: unknown, _key: string, value: unknown) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(Object.entries(value).reverse());
    }) as unknown;
    const a = build(validCluster(raw, config).cluster, config);
    const b = build(validCluster(reversed, config).cluster, config);
    assert.equal(JSON.stringify(b), JSON.stringify(a));
  });
});
