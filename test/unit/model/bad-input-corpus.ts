// Our own corpus of bad input: manifests a new user might write and ConfigMap values an administrator might set,
// each with its exact expected outcome. Shared by the unit test (validatePostgresql, the CRD schema, the builders,
// parseOperatorConfig) and the integration test on the API server (test/integration/bad-input-corpus.test.ts).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = Record<string, any>;

/**
 * How a bad manifest ends:
 * - `crd`: refused by the CRD schema at `kubectl apply` (and by validatePostgresql, should another CRD be installed);
 *   `crdPath` is the path the API server names;
 * - `invalid`: accepted by the CRD, status Invalid and a Warning naming `path`;
 * - `warned`: accepted, a warning naming `path`, the field skipped;
 * - `adjusted`: accepted, a value used in place of the one given, reported once naming `path`.
 */
export interface BadManifest {
  what: string;
  outcome: 'crd' | 'invalid' | 'warned' | 'adjusted';
  edit: (m: Manifest) => void;
  /** the field validatePostgresql (or the builders' note) names */
  path: string;
  /** what the message says */
  message: RegExp;
  /** for `crd`: the field the API server names (`spec.allowedSourceRanges[0]`) */
  crdPath?: string;
  /** operator config keys the case needs (ConfigMap syntax) */
  config?: Record<string, string>;
  /** validation option enable_team_id_clustername_prefix */
  prefixRule?: boolean;
}

const spec =
  (patch: Manifest) =>
  (m: Manifest): void => {
    m.spec = { ...m.spec, ...patch };
  };
const set =
  (path: string, value: unknown) =>
  (m: Manifest): void => {
    const keys = path.split('.');
    let node = m;
    for (const key of keys.slice(0, -1)) node = node[key] ??= {};
    if (value === undefined) delete node[keys.at(-1)!];
    else node[keys.at(-1)!] = value;
  };
const users = (u: Manifest) => spec({ users: { zalando: ['superuser', 'createdb'], ...u } });
const databases = (d: Manifest) => spec({ databases: d });
const volumes = (...v: Manifest[]) => spec({ additionalVolumes: v });
const sidecars = (...c: Manifest[]) => spec({ sidecars: c });
const emptyDir = { emptyDir: {} };
const long = (n: number, c = 'a') => c.repeat(n);

const crd = (
  what: string,
  edit: BadManifest['edit'],
  path: string,
  message: RegExp,
  crdPath = path.replace(/\.(\d+)(?=\.|$)/g, '[$1]'),
): BadManifest => ({ what, outcome: 'crd', edit, path, message, crdPath });
const invalid = (
  what: string,
  edit: BadManifest['edit'],
  path: string,
  message: RegExp,
  more: Partial<BadManifest> = {},
) => ({ what, outcome: 'invalid', edit, path, message, ...more }) as BadManifest;

/** Bad manifests, each an edit of Zalando's v2.0.1 minimal manifest. */
export const BAD_MANIFESTS: BadManifest[] = [
  // Refused by the CRD schema.
  crd('PostgreSQL 19 (not released)', set('spec.postgresql.version', '19'), 'spec.postgresql.version', /major version/),
  crd('version "latest"', set('spec.postgresql.version', 'latest'), 'spec.postgresql.version', /major version/),
  crd('version as a number', set('spec.postgresql.version', 17), 'spec.postgresql.version', /major version/),
  crd(
    'version missing',
    set('spec.postgresql.version', undefined),
    'spec.postgresql.version',
    /required|major version/,
  ),
  crd('numberOfInstances beyond int32', spec({ numberOfInstances: 2 ** 31 }), 'spec.numberOfInstances', /<=2147483647/),
  crd('numberOfInstances negative', spec({ numberOfInstances: -1 }), 'spec.numberOfInstances', />=0/),
  crd('numberOfInstances a fraction', spec({ numberOfInstances: 1.5 }), 'spec.numberOfInstances', /int/),
  crd('numberOfInstances a word', spec({ numberOfInstances: 'two' }), 'spec.numberOfInstances', /number/),
  crd(
    'IPv6 CIDR of colons only',
    spec({ allowedSourceRanges: [':::::/64'] }),
    'spec.allowedSourceRanges.0',
    /not a CIDR/,
  ),
  crd('IPv4 prefix 33', spec({ allowedSourceRanges: ['10.0.0.0/33'] }), 'spec.allowedSourceRanges.0', /not a CIDR/),
  crd('CIDR without prefix', spec({ allowedSourceRanges: ['10.0.0.0'] }), 'spec.allowedSourceRanges.0', /CIDR/),
  crd('IPv6 prefix 129', spec({ allowedSourceRanges: ['2001:db8::/129'] }), 'spec.allowedSourceRanges.0', /not a CIDR/),
  crd('octet above 255', spec({ allowedSourceRanges: ['300.1.1.1/8'] }), 'spec.allowedSourceRanges.0', /not a CIDR/),
  crd('IPv6 zone in a CIDR', spec({ allowedSourceRanges: ['fe80::1%eth0/64'] }), 'spec.allowedSourceRanges.0', /CIDR/),
  crd(
    'second range bad',
    spec({ allowedSourceRanges: ['10.0.0.0/8', '1.2.3/24'] }),
    'spec.allowedSourceRanges.1',
    /not a CIDR/,
  ),
  crd('masterNodePort above 65535', spec({ masterNodePort: 70000 }), 'spec.masterNodePort', /<=65535/),
  crd('replicaNodePort negative', spec({ replicaNodePort: -1 }), 'spec.replicaNodePort', />=0/),
  crd('spiloRunAsUser negative', spec({ spiloRunAsUser: -1 }), 'spec.spiloRunAsUser', />=0/),
  crd('spiloFSGroup beyond int32', spec({ spiloFSGroup: 2 ** 31 }), 'spec.spiloFSGroup', /<=2147483647/),
  crd('spiloRunAsGroup beyond uint32', spec({ spiloRunAsGroup: 2 ** 32 }), 'spec.spiloRunAsGroup', /<=2147483647/),
  crd('patroni ttl 0', spec({ patroni: { ttl: 0 } }), 'spec.patroni.ttl', />=1/),
  crd('patroni loop_wait negative', spec({ patroni: { loop_wait: -5 } }), 'spec.patroni.loop_wait', />=1/),
  crd(
    'patroni synchronous_node_count negative',
    spec({ patroni: { synchronous_node_count: -1 } }),
    'spec.patroni.synchronous_node_count',
    />=0/,
  ),
  crd(
    'patroni maximum_lag_on_failover negative',
    spec({ patroni: { maximum_lag_on_failover: -1 } }),
    'spec.patroni.maximum_lag_on_failover',
    />=0/,
  ),
  crd('clone uid not a UUID', spec({ clone: { cluster: 'acid-source', uid: 'not-a-uuid' } }), 'spec.clone.uid', /UUID/),
  crd(
    'clone timestamp without offset',
    spec({ clone: { cluster: 'acid-source', timestamp: '2024-01-01T00:00:00' } }),
    'spec.clone.timestamp',
    /RFC 3339/,
  ),
  crd('volume size with a space', spec({ volume: { size: '1 GB' } }), 'spec.volume.size', /quantity/),
  crd('volume size missing', spec({ volume: {} }), 'spec.volume.size', /required/),
  crd('CPU request a word', spec({ resources: { requests: { cpu: 'lots' } } }), 'spec.resources.requests.cpu', /CPU/),
  crd(
    'memory limit in GB',
    spec({ resources: { limits: { memory: '1GB' } } }),
    'spec.resources.limits.memory',
    /quantity/,
  ),
  crd('unknown user flag', users({ app: ['superman'] }), 'spec.users.app.0', /Invalid option|superman/),
  crd('user flags not a list', users({ app: 'login' }), 'spec.users.app', /array/),
  crd(
    'pooler with no instances',
    spec({ connectionPooler: { numberOfInstances: 0 } }),
    'spec.connectionPooler.numberOfInstances',
    />=1/,
  ),
  crd(
    'pooler mode statement',
    spec({ connectionPooler: { mode: 'statement' } }),
    'spec.connectionPooler.mode',
    /session|transaction/,
  ),
  crd(
    'pooler maxDBConnections 0',
    spec({ connectionPooler: { maxDBConnections: 0 } }),
    'spec.connectionPooler.maxDBConnections',
    />=1/,
  ),
  crd('teamId missing', set('spec.teamId', undefined), 'spec.teamId', /required/),
  crd('teamId a number', spec({ teamId: 42 }), 'spec.teamId', /string/),
  crd(
    'maintenance window at 25:00',
    spec({ maintenanceWindows: ['Mon:25:00-26:00'] }),
    'spec.maintenanceWindows.0',
    /01:00-06:00/,
  ),
  crd(
    'logical backup schedule in words',
    spec({ logicalBackupSchedule: 'every day' }),
    'spec.logicalBackupSchedule',
    /cron/,
  ),
  crd('volume iops negative', spec({ volume: { size: '1Gi', iops: -1 } }), 'spec.volume.iops', />=0/),
  crd('enableShmVolume "yes"', spec({ enableShmVolume: 'yes' }), 'spec.enableShmVolume', /boolean/),
  crd(
    'standby without a source',
    spec({ standby: { standby_port: '5432' } }),
    'spec.standby',
    /one of s3_wal_path, gs_wal_path or standby_host/,
  ),
  crd(
    'standby with both WAL archives',
    spec({ standby: { s3_wal_path: 's3://a/wal', gs_wal_path: 'gs://b/wal' } }),
    'spec.standby',
    /cannot both be set/,
  ),

  // Accepted by the CRD, refused by the operator before any child is written.
  invalid('user name of 64 bytes', users({ [long(64)]: [] }), `spec.users.${long(64)}`, /64 bytes long.*at most 63/),
  invalid('user name in upper case', users({ 'Bad-User': [] }), 'spec.users.Bad-User', /invalid username/),
  invalid('user name with a space', users({ 'app user': [] }), 'spec.users.app user', /invalid username/),
  invalid('user name with non-ASCII', users({ 'b\u00e4r': [] }), 'spec.users.b\u00e4r', /invalid username/),
  invalid('conflicting user flags', users({ app: ['login', 'NOLOGIN'] }), 'spec.users.app', /conflicting user flags/),
  invalid('database name with a dash', databases({ 'bad-name': 'zalando' }), 'spec.databases.bad-name', /must match/),
  invalid(
    'database name of 64 bytes',
    databases({ [long(64, 'd')]: 'zalando' }),
    `spec.databases.${long(64, 'd')}`,
    /64 bytes/,
  ),
  invalid('database named postgres', databases({ postgres: 'zalando' }), 'spec.databases.postgres', /system database/),
  invalid(
    'database named template1',
    databases({ template1: 'zalando' }),
    'spec.databases.template1',
    /system database/,
  ),
  invalid('database name starting with a digit', databases({ '1db': 'zalando' }), 'spec.databases.1db', /must match/),
  invalid('database owner with a space', databases({ foo: 'Bad Owner' }), 'spec.databases.foo', /invalid owner name/),
  invalid('database owner of 64 bytes', databases({ foo: long(64, 'o') }), 'spec.databases.foo', /64 bytes/),
  invalid('database owner empty', databases({ foo: '' }), 'spec.databases.foo', /owner name is empty/),
  invalid('cluster name with a dot', set('metadata.name', 'acid.minimal'), 'metadata.name', /DNS-1035/),
  invalid(
    'cluster name too long for the replica pooler',
    (m) => {
      set('metadata.name', `acid-${long(47, 'x')}`)(m);
      spec({ enableReplicaConnectionPooler: true })(m);
    },
    'metadata.name',
    /too long for the replica pooler: Service "acid-x+-pooler-repl" would be 64 characters/,
  ),
  invalid(
    'pooler user with a space',
    spec({ connectionPooler: { user: 'pool er' } }),
    'spec.connectionPooler.user',
    /invalid role name "pool er"/,
  ),
  invalid(
    'pooler schema in upper case',
    spec({ enableConnectionPooler: true, connectionPooler: { schema: 'Pooler' } }),
    'spec.connectionPooler.schema',
    /invalid schema name "Pooler"/,
  ),
  invalid(
    'cluster name of 59 characters',
    set('metadata.name', `acid-${long(54, 'x')}`),
    'metadata.name',
    /longer than 58/,
  ),
  invalid('teamId empty', spec({ teamId: '' }), 'spec.teamId', /team name is empty/),
  invalid(
    'name without the team prefix',
    set('metadata.name', 'minimal-cluster'),
    'metadata.name',
    /\{TEAM\}-\{NAME\}/,
    {
      prefixRule: true,
    },
  ),
  invalid(
    'clone source not DNS-1035',
    spec({ clone: { cluster: 'Source_Cluster' } }),
    'spec.clone.cluster',
    /DNS-1035/,
  ),
  invalid('clone source of 64 characters', spec({ clone: { cluster: long(64, 'c') } }), 'spec.clone.cluster', /63/),
  invalid(
    'maintenance window ending before it starts',
    spec({ maintenanceWindows: ['05:00-01:00'] }),
    'spec.maintenanceWindows.0',
    /./,
  ),
  invalid(
    'logical backup schedule at hour 24 (within the CRD pattern, refused in a CronJob)',
    spec({ enableLogicalBackup: true, logicalBackupSchedule: '0 24 * * *' }),
    'spec.logicalBackupSchedule',
    /hour 24 is out of range/,
  ),
  invalid('volume size zero', spec({ volume: { size: '0' } }), 'spec.volume.size', /is zero/),
  invalid(
    'additional volume name with an underscore',
    volumes({ name: 'Bad_Name', mountPath: '/x', volumeSource: emptyDir }),
    'spec.additionalVolumes.0.name',
    /must match/,
  ),
  invalid(
    'additional volume named pgdata',
    volumes({ name: 'pgdata', mountPath: '/x', volumeSource: emptyDir }),
    'spec.additionalVolumes.0.name',
    /database pods themselves/,
  ),
  invalid(
    'two additional volumes of one name',
    volumes(
      { name: 'extra', mountPath: '/x', volumeSource: emptyDir },
      { name: 'extra', mountPath: '/y', volumeSource: emptyDir },
    ),
    'spec.additionalVolumes.1.name',
    /earlier entry/,
  ),
  invalid(
    'additional volume without a mount path',
    volumes({ name: 'extra', mountPath: '', volumeSource: emptyDir }),
    'spec.additionalVolumes.0.mountPath',
    /empty/,
  ),
  invalid(
    'service annotation key with a space',
    spec({ serviceAnnotations: { 'bad key': 'x' } }),
    'spec.serviceAnnotations.bad key',
    /annotation key/,
  ),
  invalid(
    'pod annotation key with an empty name',
    spec({ podAnnotations: { 'example.com/': 'x' } }),
    'spec.podAnnotations.example.com/',
    /annotation key/,
  ),
  invalid(
    'master service annotation key with a bad prefix',
    spec({ masterServiceAnnotations: { 'Bad_Prefix/x': 'y' } }),
    'spec.masterServiceAnnotations.Bad_Prefix/x',
    /prefix/,
  ),
  invalid(
    'init container named postgres',
    spec({ initContainers: [{ name: 'postgres', image: 'busybox' }] }),
    'spec.initContainers.0.name',
    /database container/,
  ),
  invalid(
    'two init containers of one name',
    spec({
      initContainers: [
        { name: 'init', image: 'busybox' },
        { name: 'init', image: 'busybox' },
      ],
    }),
    'spec.initContainers.1.name',
    /earlier entry/,
  ),
  invalid(
    'init container name in upper case',
    spec({ init_containers: [{ name: 'Init_1', image: 'busybox' }] }),
    'spec.init_containers.0.name',
    /must match/,
  ),
  invalid(
    'priority class with a space',
    spec({ podPriorityClassName: 'High Priority' }),
    'spec.podPriorityClassName',
    /must match/,
  ),
  invalid('scheduler with an underscore', spec({ schedulerName: 'my_scheduler' }), 'spec.schedulerName', /must match/),
  invalid(
    'storage class with a space',
    spec({ volume: { size: '1Gi', storageClass: 'Fast SSD' } }),
    'spec.volume.storageClass',
    /must match/,
  ),
  invalid(
    'image with spaces around it',
    spec({ dockerImage: ' ghcr.io/zalando/spilo-17:4.0-p2 ' }),
    'spec.dockerImage',
    /spaces/,
  ),
  invalid(
    'standby port not a number',
    spec({ standby: { standby_host: 'acid-source', standby_port: 'abc' } }),
    'spec.standby.standby_port',
    /TCP port/,
  ),
  invalid('standby with an empty archive', spec({ standby: { s3_wal_path: '' } }), 'spec.standby', /required/),
  invalid('sidecar without an image', sidecars({ name: 'exporter' }), 'spec.sidecars.0.image', /image is required/),
  invalid(
    'sidecar named postgres',
    sidecars({ name: 'postgres', image: 'exporter:1' }),
    'spec.sidecars.0.name',
    /database container/,
  ),
  invalid(
    'sidecar name in capitals',
    sidecars({ name: 'Exporter', image: 'exporter:1' }),
    'spec.sidecars.0.name',
    /must match/,
  ),
  invalid(
    'sidecar named like an init container',
    (m) => {
      spec({ initContainers: [{ name: 'prepare', image: 'busybox' }] })(m);
      sidecars({ name: 'prepare', image: 'exporter:1' })(m);
    },
    'spec.sidecars.0.name',
    /init container/,
  ),
  invalid(
    'TLS Secret name with a dot',
    spec({ tls: { secretName: 'pg.tls' } }),
    'spec.tls.secretName',
    /mounted as a volume of its name: "pg.tls" must match/,
  ),
  invalid(
    'TLS Secret named like an additional volume',
    (m) => {
      volumes({ name: 'certs', mountPath: '/etc/certs', volumeSource: emptyDir })(m);
      set('spec.tls', { secretName: 'certs' })(m);
    },
    'spec.tls.secretName',
    /another volume of the pod/,
  ),
  invalid(
    'TLS CA Secret the same as the certificate Secret',
    spec({ tls: { secretName: 'pg-tls', caFile: 'ca.crt', caSecretName: 'pg-tls' } }),
    'spec.tls.caSecretName',
    /same Secret as tls.secretName/,
  ),
  invalid('sidecars while enable_sidecars is false', sidecars({ image: 'exporter:1' }), 'spec.sidecars', /disabled/, {
    config: { enable_sidecars: 'false' },
  }),
  invalid(
    'initContainers while enable_init_containers is false',
    spec({ initContainers: [{ name: 'prepare', image: 'busybox:1' }] }),
    'spec.initContainers',
    /disabled in configuration/,
    { config: { enable_init_containers: 'false' } },
  ),

  // Warned at the first sync, the field skipped.
  {
    what: 'database owner not among the users',
    outcome: 'warned',
    edit: databases({ foo: 'nobody' }),
    path: 'spec.databases.foo',
    message: /owner "nobody" is not in spec.users/,
  },
  {
    what: 'additional volume on a mount path taken',
    outcome: 'warned',
    edit: volumes(
      { name: 'one', mountPath: '/etc/extra', volumeSource: emptyDir },
      { name: 'two', mountPath: '/etc/extra', volumeSource: emptyDir },
    ),
    path: 'spec.additionalVolumes.1.mountPath',
    message: /already the mount path of spec.additionalVolumes.0/,
  },
  {
    what: 'TLS CA Secret without a CA file',
    outcome: 'warned',
    edit: spec({ tls: { secretName: 'pg-tls', caSecretName: 'pg-ca' } }),
    path: 'spec.tls.caSecretName',
    message: /not mounted: tls.caFile names no file in it/,
  },
  {
    what: 'two sidecars of one name',
    outcome: 'warned',
    edit: sidecars({ name: 'exporter', image: 'exporter:1' }, { name: 'exporter', image: 'exporter:2' }),
    path: 'spec.sidecars.1.name',
    message: /used by spec.sidecars.0: this sidecar is not added/,
  },
  {
    what: 'sidecar with args',
    outcome: 'warned',
    edit: sidecars({ name: 'exporter', image: 'exporter:1', args: ['--verbose'] }),
    path: 'spec.sidecars.0.args',
    message: /not used: a sidecar takes name, image, command, ports, env and resources/,
  },
  {
    what: 'sidecar setting POSTGRES_PASSWORD',
    outcome: 'warned',
    edit: sidecars({ name: 'exporter', image: 'exporter:1', env: [{ name: 'POSTGRES_PASSWORD', value: 'x' }] }),
    path: 'spec.sidecars.0.env.0',
    message: /POSTGRES_PASSWORD is set by the operator/,
  },
  {
    what: 'additional volume on the data directory',
    outcome: 'warned',
    edit: volumes({ name: 'data', mountPath: '/home/postgres/pgdata', volumeSource: emptyDir }),
    path: 'spec.additionalVolumes.0.mountPath',
    message: /data directory/,
  },
  {
    what: 'deprecated useLoadBalancer',
    outcome: 'warned',
    edit: spec({ useLoadBalancer: true }),
    path: 'spec.useLoadBalancer',
    message: /deprecated/,
  },

  // Accepted, a value used in place of the one given, reported once naming the field.
  {
    what: 'CPU limit below the request',
    outcome: 'adjusted',
    edit: spec({ resources: { requests: { cpu: '500m', memory: '100Mi' }, limits: { cpu: '200m', memory: '1Gi' } } }),
    path: 'spec.resources.limits.cpu',
    message: /^spec\.resources\.limits\.cpu: 200m given, 500m used \(raised to the request\)$/,
  },
  {
    what: 'memory limit below the request',
    outcome: 'adjusted',
    edit: spec({ resources: { requests: { cpu: '100m', memory: '2Gi' }, limits: { cpu: '1', memory: '1Gi' } } }),
    path: 'spec.resources.limits.memory',
    message: /^spec\.resources\.limits\.memory: 1Gi given, 2Gi used \(raised to the request\)$/,
  },
  {
    what: 'CPU limit below min_cpu_limit',
    outcome: 'adjusted',
    edit: spec({ resources: { requests: { cpu: '100m', memory: '100Mi' }, limits: { cpu: '150m', memory: '1Gi' } } }),
    config: { min_cpu_limit: '250m' },
    path: 'spec.resources.limits.cpu',
    message: /^spec\.resources\.limits\.cpu: 150m given, 250m used \(min_cpu_limit 250m\)$/,
  },
  {
    what: 'memory request above max_memory_request',
    outcome: 'adjusted',
    edit: spec({ resources: { requests: { cpu: '100m', memory: '4Gi' }, limits: { cpu: '1', memory: '4Gi' } } }),
    config: { max_memory_request: '1Gi' },
    path: 'spec.resources.requests.memory',
    message: /^spec\.resources\.requests\.memory: 4Gi given, 1Gi used \(max_memory_request 1Gi\)$/,
  },
  {
    what: 'memory request set to the limit',
    outcome: 'adjusted',
    edit: spec({ resources: { requests: { cpu: '100m', memory: '100Mi' }, limits: { cpu: '1', memory: '1Gi' } } }),
    config: { set_memory_request_to_limit: 'true' },
    path: 'spec.resources.requests.memory',
    message: /^spec\.resources\.requests\.memory: 100Mi given, 1Gi used \(set_memory_request_to_limit\)$/,
  },
  {
    what: 'shm volume switched off in the manifest, on in the config',
    outcome: 'adjusted',
    edit: spec({ enableShmVolume: false }),
    config: { enable_shm_volume: 'true' },
    path: 'spec.enableShmVolume',
    message: /^spec\.enableShmVolume: false given, true used/,
  },
  {
    what: 'sidecar CPU limit below its request',
    outcome: 'adjusted',
    edit: sidecars({
      name: 'exporter',
      image: 'exporter:1',
      resources: { requests: { cpu: '2' }, limits: { cpu: '1' } },
    }),
    path: 'spec.sidecars.0.resources.limits.cpu',
    message: /^spec\.sidecars\.0\.resources\.limits\.cpu: 1 given, 2 used \(raised to the request\)$/,
  },
  {
    what: 'TLS without an fsGroup',
    outcome: 'adjusted',
    edit: spec({ tls: { secretName: 'pg-tls' } }),
    path: 'spec.tls',
    message: /^spec\.tls: neither spec\.spiloFSGroup nor spilo_fsgroup is set/,
  },
  {
    what: 'more instances than max_instances',
    outcome: 'adjusted',
    edit: spec({ numberOfInstances: 5 }),
    config: { max_instances: '3' },
    // The existing note (checked word for word by other tests) names the field in words.
    path: 'number of instances',
    message: /adjusted number of instances from 5 to 3/,
  },
  {
    what: 'standby with two instances',
    outcome: 'adjusted',
    edit: spec({ standby: { standby_host: 'acid-source' } }),
    path: 'instance',
    message: /standby clusters run exactly 1 instance \(manifest asks for 2\)/,
  },
  {
    what: 'pooler user named like the superuser',
    outcome: 'adjusted',
    edit: spec({ connectionPooler: { user: 'postgres' } }),
    path: 'spec.connectionPooler.user',
    message: /^spec\.connectionPooler\.user: "postgres" given, "pooler" used \(it is the superuser\)$/,
  },
  {
    what: 'user named like the superuser',
    outcome: 'adjusted',
    edit: users({ postgres: [] }),
    path: 'postgres',
    message: /system user "postgres"/,
  },
];

/** A bad ConfigMap value: the key, the value, and what the error says. */
export interface BadConfigValue {
  data: Record<string, string>;
  key: string;
  message: RegExp;
}

const value = (key: string, text: string, message: RegExp, extra: Record<string, string> = {}): BadConfigValue => ({
  data: { ...extra, [key]: text },
  key,
  message,
});

/** Bad values of the operator ConfigMap `postgres-operator`. */
export const BAD_CONFIG_VALUES: BadConfigValue[] = [
  value('workers', '0', /at least 1/),
  value('workers', 'many', /an integer/),
  value('enable_master_load_balancer', 'maybe', /a boolean/),
  value('kubernetes_use_configmaps', 'yes please', /a boolean/),
  value('set_memory_request_to_limit', 'nah', /a boolean/),
  value('enable_database_access', 'sometimes', /a boolean/),
  value('resync_period', '5 minutes', /a duration/),
  value('ready_wait_interval', '3', /a duration/),
  value('pod_terminate_grace_period', 'forever', /a duration/),
  value('pod_deletion_wait_timeout', '10 mins', /a duration/),
  value('min_instances', '5', /no higher than "max_instances"/, { max_instances: '2' }),
  value('max_instances', 'abc', /an integer/),
  value('spilo_runasuser', 'root', /an integer/),
  value('cluster_labels', 'application', /a map/),
  value('default_cpu_request', 'lots', /quantity/),
  value('default_memory_limit', '1GB', /quantity/),
  value('default_memory_request', '-100Mi', /not negative/),
  value('min_cpu_limit', 'x', /quantity/),
  value('max_memory_request', 'lots', /quantity/),
  value('connection_pooler_user', 'postgres', /other than "super_username"/),
  value('connection_pooler_number_of_instances', '0', /at least 1/),
  value('connection_pooler_image', '', /not an empty value/),
  value('connection_pooler_schema', 'Pool-Schema', /a schema name of lower case letters/),
  value('connection_pooler_default_cpu_limit', 'lots', /quantity/),
  value('storage_resize_mode', 'sideways', /one of "pvc", "ebs", "mixed", "off"/),
  value('pod_management_policy', 'random', /one of "ordered_ready", "parallel"/),
  value('password_rotation_interval', '-1', /whole number of days/),
  value('docker_image', '', /not an empty value/),
  value('team_api_role_configuration', 'log_statement', /a map/),
  value('watched_namespace', 'Bad NS', /"Bad NS" is not a namespace name/),
  value('watched_namespace', 'ns1,,ns2', /"" is not a namespace name/),
  value('super_username', '', /a role name, not an empty value/),
  value('replication_username', 'x'.repeat(64), /at most 63 bytes/),
  value('replication_username', 'postgres', /other than "super_username"/),
  value('spilo_fsgroup', '-1', /at least 0/),
  value('spilo_runasgroup', '-5', /at least 0/),
  value('sidecars', 'exporter', /a JSON list of containers/),
  value('sidecars', '[{"name":"postgres","image":"exporter:1"}]', /the database container's/),
  value('sidecars', '[{"name":"exporter"}]', /"exporter" has no image/),
  value('sidecar_docker_images', 'Exporter:exporter', /container names and images/),
  value('downscaler_annotations', 'downscaler/(', /regular expressions such as "downscaler\/\.\*"/),
  value('logical_backup_schedule', '61 * * * *', /a cron schedule such as "30 00 \* \* \*" \(the schedule minute 61/),
  value('logical_backup_docker_image', '', /not an empty value/),
  value('logical_backup_memory_limit', '1GB', /quantity/),
];
