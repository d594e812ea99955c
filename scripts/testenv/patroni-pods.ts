/**
 * Real Patroni + PostgreSQL behind kwok's fake pods: the part of a kubelet that matters to a Postgres operator.
 * For every Running pod that matches a selector and has a pod IP, it starts a Patroni member configured the way
 * Spilo configures one from the pod's environment (scope, Kubernetes DCS labels, role label, superuser and
 * replication credentials from the pod's Secrets), listening on the pod's IP (REST API :8008, PostgreSQL :5432);
 * when the pod goes away (deleted, or replaced by a new pod of the same name) it stops that member. The data
 * directory belongs to the pod's PersistentVolumeClaim, so a recreated pod finds its data again, like a volume.
 *
 * Patroni's Kubernetes DCS then does what it does in a real cluster: it elects a leader through Endpoints (or
 * ConfigMaps with KUBERNETES_USE_CONFIGMAPS=true), labels the pods with the role (`spilo-role=master|replica` by
 * Zalando's default), and follows switchovers asked through its REST API. Like a kubelet running the pod's
 * readiness probe (Spilo's `GET /readiness` on :8008), each round probes every member and sets its pod's Ready
 * condition: False from the start until the first success (kwok marks a new pod Ready at once), then False only
 * after the probe's `failureThreshold` failures in a row, each failure being a non-2xx answer or no answer within
 * its `timeoutSeconds` (Kubernetes defaults 3 and 1 s without a probe). The period is `pollMs`, not the probe's
 * `periodSeconds`, so tests see changes quickly.
 *
 * Like a kubelet, which removes a pod's object only after its containers have stopped, the harness puts a finalizer
 * ({@link MEMBER_FINALIZER}) on each pod before it starts the pod's member and removes it once that member has
 * stopped. kwok alone deletes a pod's object at once and hands its IP to the next pod (often the same pod name,
 * recreated by its StatefulSet) while the old Patroni still answers there; the operator then took the old
 * incarnation's answer for the new pod's (seen in the rollout benchmark: a switchover to a replica being replaced).
 *
 * Like Spilo, which makes a self-signed certificate when none is given, each PostgreSQL runs with `ssl = on`
 * (one self-signed certificate per harness, made with openssl), so clients that insist on TLS (Zalando's operator
 * connects with `sslmode=require`) get it; password authentication is the same with or without TLS. When the pod's
 * environment names certificate files (`SSL_CERTIFICATE_FILE`, `SSL_PRIVATE_KEY_FILE`, `SSL_CA_FILE`: Zalando's
 * `tls` section), Spilo's configure_spilo uses them as they are for `ssl_cert_file`, `ssl_key_file` and
 * `ssl_ca_file`; the harness writes the Secret volumes holding them (`/tls`, `/tlsca`) into the member's `mounts/`
 * directory and points PostgreSQL at those copies. The REST API stays plain HTTP, as in Spilo, which serves it over
 * TLS only with its own `SSL_RESTAPI_*` variables (Zalando's operator sets none).
 *
 * The pod's other containers (sidecars) run as local processes beside the member, from their `command` and `args`
 * with their environment resolved as a kubelet would (scripts/testenv/pod-containers.ts), and stop with it.
 *
 * There is no cluster DNS: with {@link PatroniPodsOptions.hostsFile} each round writes
 * `<endpoints>.<namespace>.svc.<domain> <first address>` for every Endpoints object with an address into that
 * file, which a process in a private mount namespace sees as /etc/hosts (scripts/testenv/netns.sh), so the
 * master Service's name leads to the master pod's IP as kube-proxy would lead its cluster IP there.
 *
 * Pod IPs must be local addresses: run inside scripts/testenv/netns.sh (the pod CIDR on the namespace's loopback
 * device), or give kwok a loopback CIDR (TESTENV_POD_CIDR=127.244.0.0/16; Endpoints refuse loopback addresses, so
 * then the cluster needs KUBERNETES_USE_CONFIGMAPS). A pod whose IP is not local is reported once and skipped.
 *
 * Source: Patroni docs, "YAML Configuration Settings" (`kubernetes`: namespace, labels, scope_label, role_label,
 * use_endpoints, pod_ip, ports, context) and "Kubernetes" DCS; Spilo's documented environment (SCOPE, PGUSER_*,
 * PGPASSWORD_*, KUBERNETES_*_LABEL, KUBERNETES_LABELS, KUBERNETES_USE_CONFIGMAPS); kwok out of cluster
 * (https://kwok.sigs.k8s.io/docs/user/kwok-out-cluster/, `--cidr` for pod IPs); Patroni 3.0.2's Kubernetes DCS
 * (https://github.com/patroni/patroni/blob/v3.0.2/patroni/dcs/kubernetes.py).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeObject } from '../../lib/k8s/client';
import { nameOf, namespaceOf } from '../../lib/k8s/meta';
import {
  findPatroniTools,
  killPostmaster,
  spawnLogged,
  stopProcess,
  tail,
  testClusterDcs,
  type PatroniTools,
} from './patroni-process';
import {
  resolveContainerEnv,
  secretVolumeFiles,
  SPILO_CONTAINER,
  startSidecars,
  type SidecarProcess,
} from './pod-containers';

/** The finalizer on each pod that has a member: the pod object stays (Terminating) until its member has stopped. */
export const MEMBER_FINALIZER = 'testenv.postgres-operator-functions.local/patroni-member';

const finalizersOf = (pod: KubeObject) => (pod.metadata?.finalizers ?? []) as string[];

/** Options of {@link PatroniPods}. */
export interface PatroniPodsOptions {
  /**
   * Admin kubeconfig: for the harness's own client (pods, the Secrets they refer to, pod readiness; its requests
   * are not counted on any client of the code under test) and for Patroni's Kubernetes DCS (copied so the
   * member's user can read it).
   */
  kubeconfig: string;
  /** Its context to use; default `testenv` (testenv.sh's). */
  context?: string;
  namespace: string;
  /** Label selector of the pods to back; default `application=spilo` (Zalando's cluster label). */
  selector?: string;
  tools: PatroniTools;
  /** Directory for volumes (`volumes/<claim>`), member configs and logs (`pods/<pod>-<uid>`). */
  dir: string;
  /** How often the pods are listed, in ms; default 500. */
  pollMs?: number;
  /** Progress lines ("started pg-0 on 10.244.0.3"); default: none. */
  log?: (line: string) => void;
  /** Mirror each member's `GET /readiness` into its pod's Ready condition; default true. */
  readiness?: boolean;
  /**
   * A hosts file to keep Service names in (see the module comment), e.g. `/etc/hosts` inside netns.sh's private
   * mount namespace (`TESTENV_PRIVATE_HOSTS=1`); its lines from before the start are kept. Default: none.
   */
  hostsFile?: string;
  /** The cluster domain of the names in {@link hostsFile}; default `cluster.local`. */
  clusterDomain?: string;
}

/** One running member: the pod incarnation (uid) it belongs to and its process. */
interface Member {
  pod: string;
  uid: string;
  ip: string;
  dir: string;
  dataDir: string;
  process: ChildProcess;
  /** the pod's other containers, run beside the member */
  sidecars: SidecarProcess[];
  /** readiness probes failed in a row, and whether one ever succeeded (a kubelet's probe worker state) */
  probe: { failures: number; succeeded: boolean };
}

/** Starts and stops a Patroni member per pod, polling the pods; `stop()` ends them all. */
export class PatroniPods {
  private readonly members = new Map<string, Member>();
  private readonly reported = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly client: KubeClient;
  private readonly tls: Tls | undefined;
  /** the hosts file's own lines (before the first write), and what was written last */
  private readonly hosts: { base: string; written: string } | undefined;

  constructor(private readonly options: PatroniPodsOptions) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(options.kubeconfig);
    this.client = new KubeClient(kubeConfig, { fieldManager: 'testenv-patroni-pods' });
    mkdirSync(join(options.dir, 'volumes'), { recursive: true });
    mkdirSync(join(options.dir, 'pods'), { recursive: true });
    if (options.tools.runAs) {
      for (const d of [options.dir, join(options.dir, 'volumes'), join(options.dir, 'pods')]) {
        chownSync(d, ...options.tools.runAs);
      }
    }
    this.tls = selfSignedCertificate(options.dir, options.tools.runAs, (line) => this.say(line));
    if (options.hostsFile) {
      const base = readFileSync(options.hostsFile, 'utf8').replace(/\n*$/, '\n');
      this.hosts = { base, written: base };
    }
  }

  /** Starts polling (the first round at once). */
  start(): void {
    const tick = (): void => {
      this.round = this.sync()
        .catch((error: unknown) => this.say(`sync failed: ${String(error)}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs ?? 500);
        });
    };
    tick();
  }

  /** Stops polling and every member (Patroni stops its PostgreSQL first). Volumes stay in `dir`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
    await Promise.all([...this.members.values()].map((m) => this.stopMember(m)));
    const { namespace, selector = 'application=spilo' } = this.options;
    const pods = await this.client.list('Pod', namespace, selector).catch(() => [] as KubeObject[]);
    await Promise.all(pods.filter((p) => finalizersOf(p).includes(MEMBER_FINALIZER)).map((p) => this.releasePod(p)));
    if (this.hosts && this.options.hostsFile) writeFileSync(this.options.hostsFile, this.hosts.base);
    this.client.close();
  }

  /** @returns the members running now: pod name -> the pod's IP and uid (which pod incarnation it serves) */
  running(): Map<string, { ip: string; uid: string }> {
    return new Map([...this.members.values()].map((m) => [m.pod, { ip: m.ip, uid: m.uid }]));
  }

  /** @returns the directory (working directory, `output.log`) of a sidecar of the member of `pod`, if it runs */
  sidecarDir(pod: string, container: string): string | undefined {
    return this.members.get(pod)?.sidecars.find((s) => s.name === container)?.dir;
  }

  /** @returns the tail of the log of the member of `pod`, for failure messages */
  log(pod: string, lines = 30): string {
    const m = this.members.get(pod);
    return m ? tail(join(m.dir, 'patroni.log'), lines) : `(no member for ${pod})`;
  }

  /**
   * One round: stop members whose pod is gone, being deleted or replaced, let the pods being deleted go (remove the
   * finalizer), start members for new Running pods, then mirror readiness.
   */
  async sync(): Promise<void> {
    const { namespace, selector = 'application=spilo' } = this.options;
    const pods = await this.client.list('Pod', namespace, selector);
    const live = new Map(
      pods
        .filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && p.status?.podIP)
        .map((p) => [p.metadata!.name as string, p]),
    );
    await Promise.all(
      [...this.members.values()].filter((m) => live.get(m.pod)?.metadata?.uid !== m.uid).map((m) => this.stopMember(m)),
    );
    await Promise.all(
      pods
        .filter(
          (p) =>
            p.metadata?.deletionTimestamp &&
            finalizersOf(p).includes(MEMBER_FINALIZER) &&
            this.members.get(p.metadata!.name as string)?.uid !== p.metadata!.uid,
        )
        .map((p) => this.releasePod(p)),
    );
    for (const pod of live.values()) {
      if (!this.members.has(pod.metadata!.name as string) && !this.stopped) await this.startMember(pod);
    }
    if (this.options.readiness !== false) {
      await Promise.all(
        [...live.values()]
          .filter((p) => this.members.has(p.metadata!.name as string))
          .map((p) => this.mirrorReadiness(p)),
      );
    }
    await this.writeHosts();
  }

  /**
   * Writes the Service names of the namespace's Endpoints into the hosts file (see the module comment), in place
   * (the same inode, which is what a bind mount shows), and only when they changed.
   */
  private async writeHosts(): Promise<void> {
    if (!this.hosts || !this.options.hostsFile) return;
    const { namespace, clusterDomain = 'cluster.local' } = this.options;
    const endpoints = await this.client.list('Endpoints', namespace);
    const lines = endpoints
      .map((e) => {
        const ip = ((e.subsets ?? []) as KubeObject[]).flatMap((s) => (s.addresses ?? []) as KubeObject[])[0]?.ip;
        return ip ? `${ip as string}\t${nameOf(e)}.${namespace}.svc.${clusterDomain}\n` : '';
      })
      .sort()
      .join('');
    const text = `${this.hosts.base}${lines}`;
    if (text === this.hosts.written) return;
    writeFileSync(this.options.hostsFile, text);
    this.hosts.written = text;
    this.say(`hosts: ${lines.trim().replace(/\s+/g, ' ')}`);
  }

  /**
   * Probes the member's `GET /readiness` and sets the pod's Ready and ContainersReady conditions the way a kubelet
   * would: see the module comment. Source: Kubernetes docs, "Configure Liveness, Readiness and Startup Probes".
   */
  private async mirrorReadiness(pod: KubeObject): Promise<void> {
    const member = this.members.get(pod.metadata!.name as string);
    if (!member || member.uid !== pod.metadata!.uid) return;
    const probe = readinessProbe(pod);
    const answer = await fetch(`http://${member.ip}:8008/readiness`, {
      signal: AbortSignal.timeout(probe.timeoutMs),
    }).catch(() => undefined);
    const passed = answer !== undefined && answer.status >= 200 && answer.status < 300;
    member.probe.failures = passed ? 0 : member.probe.failures + 1;
    if (passed) member.probe.succeeded = true;
    let ready: 'True' | 'False';
    if (passed) ready = 'True';
    else if (!member.probe.succeeded || member.probe.failures >= probe.failureThreshold) ready = 'False';
    else return;
    const conditions = (pod.status.conditions ?? []) as KubeObject[];
    if (conditions.find((c) => c.type === 'Ready')?.status === ready) return;
    const now = new Date().toISOString();
    const next = conditions.filter((c) => c.type !== 'Ready' && c.type !== 'ContainersReady');
    next.push(
      { type: 'Ready', status: ready, lastTransitionTime: now },
      { type: 'ContainersReady', status: ready, lastTransitionTime: now },
    );
    const containerStatuses = ((pod.status.containerStatuses ?? []) as KubeObject[]).map((c) => ({
      ...c,
      ready: ready === 'True',
    }));
    await this.client
      .mergePatch(
        { kind: 'Pod', namespace: namespaceOf(pod), name: nameOf(pod) },
        { status: { conditions: next, containerStatuses } },
        'status',
      )
      .catch(() => undefined);
    this.say(`pod ${pod.metadata!.name as string} Ready=${ready}`);
  }

  private async startMember(pod: KubeObject): Promise<void> {
    const name = pod.metadata!.name as string;
    const uid = pod.metadata!.uid as string;
    const ip = pod.status.podIP as string;
    if (!(await isLocalAddress(ip))) {
      this.sayOnce(uid, `pod ${name}: IP ${ip} is not a local address; run inside scripts/testenv/netns.sh`);
      return;
    }
    const env = await this.resolveEnv(pod);
    if (typeof env === 'string') return this.sayOnce(`${uid}:${env}`, `pod ${name}: waiting: ${env}`);
    const { tools, dir } = this.options;
    const claim = (pod.spec.volumes as KubeObject[] | undefined)?.find((v) => v.persistentVolumeClaim)
      ?.persistentVolumeClaim.claimName as string | undefined;
    const volume = join(dir, 'volumes', claim ?? name);
    const memberDir = join(dir, 'pods', `${name}-${uid.slice(0, 8)}`);
    for (const d of [volume, memberDir]) {
      if (!existsSync(d)) mkdirSync(d, { mode: 0o700 });
      if (tools.runAs) chownSync(d, ...tools.runAs);
    }
    const tls = await this.podTls(pod, env, memberDir);
    if (typeof tls === 'string') return this.sayOnce(`${uid}:${tls}`, `pod ${name}: waiting: ${tls}`);
    const kubeconfig = join(memberDir, 'kubeconfig');
    copyFileSync(this.options.kubeconfig, kubeconfig);
    // Spilo's bootstrap also creates the NOLOGIN role `admin` (Zalando's default team_admin_role), which operators
    // name as ADMIN of the manifest's roles: Patroni runs this once, after initdb, with the superuser's connection.
    const postBootstrap = join(memberDir, 'post-bootstrap.sh');
    writeFileSync(
      postBootstrap,
      `#!/bin/sh\nexec ${join(tools.pgBin, 'psql')} "$1" -v ON_ERROR_STOP=1 -c 'CREATE ROLE admin CREATEDB NOLOGIN'\n`,
      { mode: 0o755 },
    );
    const config = join(memberDir, 'patroni.yml');
    writeFileSync(
      config,
      stringify(
        spiloLikeConfig({
          pod: name,
          ip,
          env,
          tools,
          memberDir,
          dataDir: join(volume, 'pgdata'),
          context: this.options.context ?? 'testenv',
          tls,
          postBootstrap,
        }),
      ),
      { mode: 0o600 },
    );
    if (tools.runAs) for (const f of [kubeconfig, config, postBootstrap]) chownSync(f, ...tools.runAs);
    if (!(await this.holdPod(pod))) return;
    const sidecars = await startSidecars(this.client, pod, join(memberDir, 'containers'), tools.runAs, (line) =>
      this.say(line),
    );
    if (typeof sidecars === 'string') return this.sayOnce(`${uid}:${sidecars}`, `pod ${name}: waiting: ${sidecars}`);
    const child = spawnLogged(tools.patroni, [config], {
      logFile: join(memberDir, 'patroni.log'),
      runAs: tools.runAs,
      cwd: memberDir,
      env: { KUBECONFIG: kubeconfig },
      dataDir: join(volume, 'pgdata'),
    });
    this.members.set(name, {
      pod: name,
      uid,
      ip,
      dir: memberDir,
      dataDir: join(volume, 'pgdata'),
      process: child,
      sidecars,
      probe: { failures: 0, succeeded: false },
    });
    this.say(`started ${name} on ${ip} (volume ${claim ?? name})`);
  }

  /**
   * Puts {@link MEMBER_FINALIZER} on this incarnation of the pod (a JSON patch that tests its uid).
   * @returns false when the pod is gone, replaced or already being deleted (then no member is started)
   */
  private async holdPod(pod: KubeObject): Promise<boolean> {
    const finalizers = finalizersOf(pod);
    if (finalizers.includes(MEMBER_FINALIZER)) return true;
    try {
      await this.client.jsonPatch({ kind: 'Pod', namespace: namespaceOf(pod), name: nameOf(pod) }, [
        { op: 'test', path: '/metadata/uid', value: pod.metadata!.uid },
        finalizers.length > 0
          ? { op: 'add', path: '/metadata/finalizers/-', value: MEMBER_FINALIZER }
          : { op: 'add', path: '/metadata/finalizers', value: [MEMBER_FINALIZER] },
      ]);
      return true;
    } catch (error) {
      this.say(`pod ${pod.metadata!.name as string}: could not add the member finalizer: ${String(error)}`);
      return false;
    }
  }

  /** Removes {@link MEMBER_FINALIZER} from this incarnation of the pod (its member has stopped). Never throws. */
  private async releasePod(pod: KubeObject): Promise<void> {
    const finalizers = finalizersOf(pod);
    await this.client
      .jsonPatch({ kind: 'Pod', namespace: namespaceOf(pod), name: nameOf(pod) }, [
        { op: 'test', path: '/metadata/uid', value: pod.metadata!.uid },
        { op: 'test', path: '/metadata/finalizers', value: finalizers },
        { op: 'replace', path: '/metadata/finalizers', value: finalizers.filter((f) => f !== MEMBER_FINALIZER) },
      ])
      .then(() => this.say(`pod ${pod.metadata!.name as string}: member stopped, finalizer removed`))
      .catch((error: unknown) =>
        this.say(`pod ${pod.metadata!.name as string}: finalizer not removed (next round): ${String(error)}`),
      );
  }

  private async stopMember(m: Member): Promise<void> {
    if (this.members.get(m.pod) === m) this.members.delete(m.pod);
    await Promise.all([m.process, ...m.sidecars.map((s) => s.process)].map((p) => stopProcess(p, 30_000)));
    killPostmaster(m.dataDir);
    this.say(`stopped ${m.pod} (${m.ip})`);
  }

  /**
   * The Spilo container's environment (scripts/testenv/pod-containers.ts), with the variables a member needs.
   * @returns the variables, or what is still missing (a Secret not created yet)
   */
  private async resolveEnv(pod: KubeObject): Promise<Record<string, string> | string> {
    const containers = pod.spec.containers as KubeObject[];
    const container = containers.find((c) => c.name === SPILO_CONTAINER) ?? containers[0]!;
    const env = await resolveContainerEnv(this.client, pod, container);
    if (typeof env === 'string') return env;
    for (const required of [
      'SCOPE',
      'PGUSER_SUPERUSER',
      'PGPASSWORD_SUPERUSER',
      'PGUSER_STANDBY',
      'PGPASSWORD_STANDBY',
    ]) {
      if (!env[required]) return `environment variable ${required}`;
    }
    return env;
  }

  /**
   * The certificate PostgreSQL serves: the files the pod's `SSL_*_FILE` variables name, copied out of the Secret
   * volumes holding them into `<memberDir>/mounts/`, else the harness's self-signed one (Spilo makes one then).
   * @returns the local files (none when openssl failed: no TLS then), or what is missing (a Secret not created yet, a file in no Secret volume)
   */
  private async podTls(
    pod: KubeObject,
    env: Record<string, string>,
    memberDir: string,
  ): Promise<Tls | undefined | string> {
    const { SSL_CERTIFICATE_FILE: cert, SSL_PRIVATE_KEY_FILE: key, SSL_CA_FILE: ca } = env;
    if (!cert || !key) return this.tls;
    const containers = pod.spec.containers as KubeObject[];
    const container = containers.find((c) => c.name === SPILO_CONTAINER) ?? containers[0]!;
    const paths = ca ? [cert, key, ca] : [cert, key];
    const files = await secretVolumeFiles(
      this.client,
      pod,
      container,
      paths,
      join(memberDir, 'mounts'),
      this.options.tools.runAs,
    );
    if (typeof files === 'string') return files;
    return { cert: files.get(cert)!, key: files.get(key)!, ...(ca ? { ca: files.get(ca)! } : {}) };
  }

  private say(line: string): void {
    this.options.log?.(`patroni-pods: ${line}`);
  }

  private sayOnce(key: string, line: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.say(line);
  }
}

/**
 * The readiness probe of the pod's postgres container (or its first container), with Kubernetes' defaults.
 * @returns the probe's timeout in ms and its failure threshold
 */
function readinessProbe(pod: KubeObject): { timeoutMs: number; failureThreshold: number } {
  const containers = (pod.spec?.containers ?? []) as KubeObject[];
  const probe = (containers.find((c) => c.name === 'postgres') ?? containers[0])?.readinessProbe as
    KubeObject | undefined;
  return {
    timeoutMs: 1_000 * Number(probe?.timeoutSeconds ?? 1),
    failureThreshold: Number(probe?.failureThreshold ?? 3),
  };
}

/** The keys of SPILO_CONFIGURATION's `bootstrap.dcs` the harness honours. */
const MANIFEST_DCS_KEYS = ['ttl', 'loop_wait', 'retry_timeout', 'failsafe_mode'] as const;

/**
 * @returns the `ttl`, `loop_wait`, `retry_timeout` (seconds) and `failsafe_mode` the pod's SPILO_CONFIGURATION (JSON)
 *   sets in `bootstrap.dcs`; nothing for a key it does not set. Sources: Patroni "Dynamic Configuration Settings"
 *   (https://patroni.readthedocs.io/en/latest/dynamic_configuration.html) and "DCS Failsafe Mode"
 *   (https://patroni.readthedocs.io/en/latest/dcs_failsafe_mode.html).
 */
function manifestDcs(spiloConfiguration: string | undefined): Record<string, unknown> {
  try {
    const dcs = (JSON.parse(spiloConfiguration ?? '{}') as { bootstrap?: { dcs?: Record<string, unknown> } }).bootstrap
      ?.dcs;
    return Object.fromEntries(MANIFEST_DCS_KEYS.filter((k) => dcs?.[k] !== undefined).map((k) => [k, dcs![k]]));
  } catch {
    return {};
  }
}

/** The files PostgreSQL's TLS uses (local paths). */
interface Tls {
  cert: string;
  key: string;
  /** `ssl_ca_file`: the CAs PostgreSQL trusts for client certificates */
  ca?: string;
}

/** Inputs of {@link spiloLikeConfig}. */
interface MemberInputs {
  pod: string;
  ip: string;
  env: Record<string, string>;
  tools: PatroniTools;
  memberDir: string;
  dataDir: string;
  context: string;
  tls: Tls | undefined;
  /** a script Patroni runs once after initdb (the roles Spilo's bootstrap makes) */
  postBootstrap: string;
}

/**
 * The Patroni configuration Spilo would write for this pod, reduced to what runs here: Kubernetes DCS with the
 * pod's labels and IP, the pod's credentials, PostgreSQL on the pod IP; short DCS timings (ttl 20 s, loop_wait
 * 1 s) so tests see leader changes quickly; the `admin` role Spilo's bootstrap makes; no WAL archiving, no PAM; TLS
 * with the pod's certificate or the harness's self-signed one.
 */
function spiloLikeConfig(m: MemberInputs): Record<string, unknown> {
  const { env } = m;
  let labels: Record<string, string> = { application: 'spilo' };
  try {
    if (env.KUBERNETES_LABELS) labels = JSON.parse(env.KUBERNETES_LABELS) as Record<string, string>;
  } catch {
    /* keep Spilo's default */
  }
  return {
    scope: env.SCOPE,
    name: m.pod,
    restapi: { listen: `${m.ip}:8008`, connect_address: `${m.ip}:8008` },
    kubernetes: {
      context: m.context,
      namespace: env.POD_NAMESPACE,
      labels,
      scope_label: env.KUBERNETES_SCOPE_LABEL || 'cluster-name',
      role_label: env.KUBERNETES_ROLE_LABEL || 'spilo-role',
      use_endpoints: env.KUBERNETES_USE_CONFIGMAPS !== 'true',
      pod_ip: m.ip,
      ports: [{ name: 'postgresql', port: 5432 }],
    },
    bootstrap: {
      // Spilo merges SPILO_CONFIGURATION into its own: the timings and failsafe_mode a manifest sets win over the
      // harness's short defaults (they decide whether a leader survives an API server outage).
      dcs: { ...testClusterDcs(33554432), ...manifestDcs(env.SPILO_CONFIGURATION) },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }, 'no-sync'],
      post_bootstrap: m.postBootstrap,
      pg_hba: [
        'local all all trust',
        `host replication ${env.PGUSER_STANDBY} 0.0.0.0/0 md5`,
        'host all all 0.0.0.0/0 md5',
      ],
    },
    postgresql: {
      listen: `${m.ip}:5432`,
      connect_address: `${m.ip}:5432`,
      data_dir: m.dataDir,
      bin_dir: m.tools.pgBin,
      pgpass: join(m.memberDir, 'pgpass'),
      authentication: {
        superuser: { username: env.PGUSER_SUPERUSER, password: env.PGPASSWORD_SUPERUSER },
        replication: { username: env.PGUSER_STANDBY, password: env.PGPASSWORD_STANDBY },
        rewind: { username: env.PGUSER_SUPERUSER, password: env.PGPASSWORD_SUPERUSER },
      },
      parameters: {
        unix_socket_directories: m.memberDir,
        ...(m.tls ? { ssl: 'on', ssl_cert_file: m.tls.cert, ssl_key_file: m.tls.key } : {}),
        ...(m.tls?.ca ? { ssl_ca_file: m.tls.ca } : {}),
      },
      basebackup: { checkpoint: 'fast' },
    },
  };
}

/**
 * A self-signed server certificate and key in `dir` (made once; kept when there), readable only by the members'
 * user, as PostgreSQL demands of a key file.
 * @returns the files, or undefined (said through `say`) when openssl is missing or fails: the members then run
 *   without TLS
 */
function selfSignedCertificate(
  dir: string,
  runAs: [number, number] | undefined,
  say: (line: string) => void,
): Tls | undefined {
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  if (!existsSync(cert) || !existsSync(key)) {
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=testenv-postgres'].concat([
          '-keyout',
          key,
          '-out',
          cert,
        ]),
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (error) {
      say(`no TLS for PostgreSQL: openssl failed: ${String(error)}`);
      return undefined;
    }
  }
  chmodSync(key, 0o600);
  if (runAs) for (const f of [cert, key]) chownSync(f, ...runAs);
  return { cert, key };
}

/** @returns whether this process can listen on `ip` (it is one of this network namespace's addresses) */
export async function isLocalAddress(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, ip, () => server.close(() => resolve(true)));
  });
}

/**
 * Why a test with Patroni behind the pods cannot run here: it needs the full plane (TESTENV_FULL=1), Debian's
 * patroni and postgresql (missing tools fail instead of skipping under CI=true), and pod IPs that are local
 * addresses (scripts/testenv/netns.sh).
 * @returns the reason to skip, or false
 */
export async function patroniPodsSkipReason(): Promise<string | false> {
  if (process.env.TESTENV_FULL !== '1')
    return 'needs the full control plane (run `bash scripts/testenv/run-integration.sh`)';
  const tools = findPatroniTools();
  if (typeof tools === 'string') return process.env.CI === 'true' ? false : tools;
  const firstPodIp = (process.env.TESTENV_POD_CIDR ?? '10.244.0.0/16').replace(
    /\.(\d+)\/\d+$/,
    (_, d: string) => `.${Number(d) + 1}`,
  );
  if (!(await isLocalAddress(firstPodIp))) {
    return `pod IPs (${firstPodIp}, ...) are not local addresses here: run inside scripts/testenv/netns.sh (needs root)`;
  }
  return false;
}
