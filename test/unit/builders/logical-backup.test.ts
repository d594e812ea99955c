// The logical backup CronJob as Zalando v1.15.1 builds it (name, env per provider, schedule, resources), the
// schedules Kubernetes would refuse, and the plan: turned on it is applied, turned off (or renamed) it is deleted
// once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildLogicalBackupCronJob, logicalBackupJobName } from '../../../lib/builders/logical-backup';
import type { DesiredObject } from '../../../lib/builders/object-meta';
import { cronScheduleProblem } from '../../../lib/model/logical-backup';
import { validatePostgresql } from '../../../lib/model/validate';
import { logicalBackupRemovals } from '../../../lib/plan/logical-backup';
import type { LiveObject } from '../../../lib/plan/plan';
import { buildEdited, rawManifest, referenceConfig, UID } from '../reference';

const name = 'acid-test-cluster';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function cronJob(spec: Record<string, unknown> = {}, overrides: Record<string, string> = {}) {
  const config = referenceConfig('v2.0.1', overrides);
  const built = buildEdited('v2.0.1/complete-postgres-manifest.yaml', config, (raw) =>
    Object.assign(raw.spec, { enableLogicalBackup: true, ...spec }),
  );
  const job = built.objects.find((o) => o.kind === 'CronJob');
  assert.ok(job, 'a CronJob is built');
  return { job: job as DesiredObject & Json, built, config };
}

const envOf = (job: Json): Record<string, string | undefined> =>
  Object.fromEntries(
    (job.spec.jobTemplate.spec.template.spec.containers[0].env as Json[]).map((e) => [e.name, e.value]),
  );

describe('buildLogicalBackupCronJob', () => {
  it('is named by logical_backup_job_prefix, cut at 52 characters without a trailing dash', () => {
    assert.equal(cronJob().job.metadata.name, `logical-backup-${name}`);
    assert.equal(logicalBackupJobName({ logical_backup_job_prefix: '' }, 'x'), 'x');
    const long = `${'a'.repeat(36)}-b`;
    assert.equal(
      logicalBackupJobName({ logical_backup_job_prefix: 'logical-backup-' }, long),
      `logical-backup-${'a'.repeat(36)}`,
    );
  });

  it('carries the s3 env in Zalando order, the retention of the manifest winning over the key', () => {
    const { job } = cronJob(
      { logicalBackupRetention: '3 months' },
      {
        logical_backup_s3_bucket: 'bkt',
        logical_backup_s3_access_key_id: 'AK',
        logical_backup_s3_retention_time: '1 week',
      },
    );
    const container = job.spec.jobTemplate.spec.template.spec.containers[0];
    assert.deepEqual(
      container.env.map((e: Json) => e.name),
      [
        'SCOPE',
        'CLUSTER_NAME_LABEL',
        'POD_NAMESPACE',
        'PG_VERSION',
        'PGPORT',
        'PGUSER',
        'PGDATABASE',
        'PGSSLMODE',
        'PGPASSWORD',
        'LOGICAL_BACKUP_PROVIDER',
        'LOGICAL_BACKUP_S3_BUCKET',
        'LOGICAL_BACKUP_S3_BUCKET_PREFIX',
        'LOGICAL_BACKUP_S3_BUCKET_SCOPE_SUFFIX',
        'LOGICAL_BACKUP_S3_REGION',
        'LOGICAL_BACKUP_S3_ENDPOINT',
        'LOGICAL_BACKUP_S3_SSE',
        'LOGICAL_BACKUP_S3_RETENTION_TIME',
        'AWS_ACCESS_KEY_ID',
      ],
    );
    const env = envOf(job);
    assert.equal(env.SCOPE, name);
    assert.equal(env.LOGICAL_BACKUP_S3_BUCKET, 'bkt');
    assert.equal(env.LOGICAL_BACKUP_S3_BUCKET_SCOPE_SUFFIX, `/${UID}`);
    assert.equal(env.LOGICAL_BACKUP_S3_RETENTION_TIME, '3 months');
    assert.equal(env.LOGICAL_BACKUP_S3_REGION, undefined, 'an empty value is left out, as the API stores it');
    const password = container.env.find((e: Json) => e.name === 'PGPASSWORD');
    assert.deepEqual(password.valueFrom.secretKeyRef, {
      name: `postgres.${name}.credentials.postgresql.acid.zalan.do`,
      key: 'password',
    });
  });

  it('gcs and az carry their own keys and no s3 ones', () => {
    const gcs = envOf(
      cronJob({}, { logical_backup_provider: 'gcs', logical_backup_google_application_credentials: '/c.json' }).job,
    );
    assert.equal(gcs.LOGICAL_BACKUP_GOOGLE_APPLICATION_CREDENTIALS, '/c.json');
    assert.ok(!('LOGICAL_BACKUP_S3_SSE' in gcs));
    const az = envOf(
      cronJob({}, { logical_backup_provider: 'az', logical_backup_azure_storage_account_name: 'acct' }).job,
    );
    assert.equal(az.LOGICAL_BACKUP_AZURE_STORAGE_ACCOUNT_NAME, 'acct');
    assert.ok('LOGICAL_BACKUP_AZURE_STORAGE_CONTAINER' in az && !('LOGICAL_BACKUP_S3_REGION' in az));
  });

  it('runs on the manifest schedule, else the config one; Forbid, Never, history limits and TTL from the keys', () => {
    assert.equal(cronJob().job.spec.schedule, '30 00 * * *');
    const { job } = cronJob(
      { logicalBackupSchedule: '15 3 * * 1' },
      { logical_backup_failed_jobs_history_limit: '1', logical_backup_ttl_seconds_after_finished: '60' },
    );
    assert.equal(job.spec.schedule, '15 3 * * 1');
    assert.equal(job.spec.concurrencyPolicy, 'Forbid');
    assert.equal(job.spec.failedJobsHistoryLimit, 1);
    assert.equal(job.spec.successfulJobsHistoryLimit, 3);
    assert.equal(job.spec.jobTemplate.spec.ttlSecondsAfterFinished, 60);
    const pod = job.spec.jobTemplate.spec.template;
    assert.equal(pod.spec.restartPolicy, 'Never');
    assert.equal(pod.metadata.labels.application, 'spilo-logical-backup');
    assert.equal((job as Json).metadata.labels.application, 'spilo');
  });

  it('takes the logical_backup_* resources, else the default_* ones, a limit raised to its request', () => {
    const resources = (o: Record<string, string>) =>
      cronJob({}, o).job.spec.jobTemplate.spec.template.spec.containers[0].resources;
    const config = referenceConfig('v2.0.1');
    assert.equal(resources({}).requests.cpu, config.default_cpu_request);
    assert.deepEqual(
      resources({ logical_backup_cpu_request: '2', logical_backup_cpu_limit: '1', logical_backup_memory_limit: '1Gi' }),
      {
        requests: { cpu: '2', memory: config.default_memory_request },
        limits: { cpu: '2', memory: '1Gi' },
      },
    );
  });

  it('takes every key of logical_backup_cronjob_environment_secret as env, through envFrom', () => {
    const container = (o: Record<string, string>) =>
      cronJob({}, o).job.spec.jobTemplate.spec.template.spec.containers[0];
    assert.equal(container({}).envFrom, undefined);
    assert.deepEqual(container({ logical_backup_cronjob_environment_secret: 'backup-creds' }).envFrom, [
      { secretRef: { name: 'backup-creds' } },
    ]);
  });

  it('is not built when the manifest does not enable it', () => {
    const config = referenceConfig('v2.0.1');
    const built = buildEdited('v2.0.1/complete-postgres-manifest.yaml', config);
    assert.ok(!built.objects.some((o) => o.kind === 'CronJob'));
    assert.equal(buildLogicalBackupCronJob(built.cluster, config).kind, 'CronJob');
  });
});

describe('logicalBackupSchedule', () => {
  it('accepts what the Kubernetes cron parser accepts within the CRD pattern', () => {
    for (const ok of ['30 00 * * *', '*/5 * * * *', '5/15 2 * * 0', '0 0 31 12 6'])
      assert.equal(cronScheduleProblem(ok), undefined, ok);
  });

  it('refuses values out of range and a zero step, naming the field', () => {
    assert.match(cronScheduleProblem('99 * * * *')!, /minute 99 is out of range/);
    assert.match(cronScheduleProblem('0 0 * * 7')!, /day of week 7/);
    assert.match(cronScheduleProblem('0 0 0 * *')!, /not a valid cron schedule/);
    assert.match(cronScheduleProblem('*/0 * * * *')!, /not a valid cron schedule/);
  });

  it('makes a manifest invalid at spec.logicalBackupSchedule', () => {
    const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    Object.assign(raw.spec, { enableLogicalBackup: true, logicalBackupSchedule: '0 24 * * *' });
    const result = validatePostgresql(raw, { enableTeamIdClusterNamePrefix: false });
    assert.ok(!result.ok);
    assert.deepEqual(
      result.problems.map((p) => p.path),
      ['spec.logicalBackupSchedule'],
    );
    assert.match(result.problems[0]!.message, /hour 24 is out of range/);
  });
});

describe('logicalBackupRemovals', () => {
  const liveJob = (jobName: string, extra: Json = {}): LiveObject =>
    ({
      metadata: { name: jobName, ...extra },
      spec: { jobTemplate: { spec: { template: { metadata: { labels: { application: 'spilo-logical-backup' } } } } } },
    }) as LiveObject;

  it('deletes the CronJob once the backup is turned off, and only that', () => {
    const config = referenceConfig('v2.0.1');
    const off = buildEdited('v2.0.1/complete-postgres-manifest.yaml', config);
    const observed = new Map<string, LiveObject>([
      [`CronJob/logical-backup-${name}`, liveJob(`logical-backup-${name}`)],
      ['CronJob/someone-elses', { metadata: { name: 'someone-elses' } } as LiveObject],
    ]);
    const actions = logicalBackupRemovals(off.cluster, off.objects, observed);
    assert.deepEqual(
      actions.map((a) => `${a.type} ${a.object.kind}/${a.object.metadata.name}`),
      [`delete CronJob/logical-backup-${name}`],
    );
    assert.match(actions[0]!.reason, /turned off/);
    observed.set(`CronJob/logical-backup-${name}`, liveJob(`logical-backup-${name}`, { deletionTimestamp: 'now' }));
    assert.deepEqual(logicalBackupRemovals(off.cluster, off.objects, observed), []);
  });

  it('keeps the wanted CronJob and deletes one of an old prefix', () => {
    const { built } = cronJob({}, { logical_backup_job_prefix: 'backup-' });
    const observed = new Map<string, LiveObject>([
      [`CronJob/backup-${name}`, liveJob(`backup-${name}`)],
      [`CronJob/logical-backup-${name}`, liveJob(`logical-backup-${name}`)],
    ]);
    const actions = logicalBackupRemovals(built.cluster, built.objects, observed);
    assert.deepEqual(
      actions.map((a) => a.object.metadata.name),
      [`logical-backup-${name}`],
    );
    assert.match(actions[0]!.reason, /logical_backup_job_prefix/);
  });
});
