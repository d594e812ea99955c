/**
 * What a kubelet gives a pod's containers, for the test harnesses that run real processes behind kwok's pods
 * (scripts/testenv/patroni-pods.ts): a container's environment resolved from the pod spec, Secret volumes written
 * out as files in a local directory standing in for the mount, and the pod's sidecar containers run as local
 * processes (their `command` and `args`; there are no images here).
 *
 * Source: Kubernetes docs, "Define Environment Variables for a Container" (`value`, `$(VAR)` references,
 * `valueFrom.secretKeyRef`, `valueFrom.fieldRef`), "Expose Pod Information to Containers Through Environment
 * Variables" (the fieldRef paths), "Secrets" (a Secret volume: one file per key, `defaultMode`, `items`), and
 * "Define a Command and Arguments for a Container" (`command` replaces the entrypoint, `args` follow, `$(VAR)` is
 * expanded and `$$` escapes it); Kubernetes API reference, core/v1 EnvVar, SecretVolumeSource, Container.
 */
import { type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { nameOf, namespaceOf } from '../../lib/k8s/meta';
import { spawnLogged } from './patroni-process';

/** The Spilo container's name in Zalando's pods; every other container is a sidecar. */
export const SPILO_CONTAINER = 'postgres';

/** @returns the value of a `$(NAME)` reference in `text` from `env` (unknown names kept as written; `$$` is `$`) */
export function expandReferences(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) =>
    name === undefined ? '$' : (env[name] ?? match),
  );
}

/**
 * The environment of one container of `pod`, as the kubelet would set it: literal values (with `$(NAME)` of the
 * variables before them expanded), the downward API fields a pod spec can name, and Secret keys.
 * @returns the variables, or what is still missing (a Secret or key not there yet: the kubelet would wait too)
 */
export async function resolveContainerEnv(
  client: KubeClient,
  pod: KubeObject,
  container: KubeObject,
): Promise<Record<string, string> | string> {
  const fields: Record<string, string | undefined> = {
    'metadata.name': nameOf(pod),
    'metadata.namespace': namespaceOf(pod),
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': pod.status?.podIP,
    'status.hostIP': pod.status?.hostIP,
  };
  const env: Record<string, string> = {};
  for (const e of (container.env ?? []) as KubeObject[]) {
    if (e.value !== undefined) env[e.name] = expandReferences(String(e.value), env);
    else if (e.valueFrom?.fieldRef) env[e.name] = fields[e.valueFrom.fieldRef.fieldPath as string] ?? '';
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef as { name: string; key: string; optional?: boolean };
      const secret = await client.get({ kind: 'Secret', namespace: namespaceOf(pod), name: ref.name });
      const data = secret?.data?.[ref.key] as string | undefined;
      if (data !== undefined) env[e.name] = Buffer.from(data, 'base64').toString('utf8');
      else if (!ref.optional) return `Secret ${ref.name} key ${ref.key}`;
    } else if (e.value === undefined && !e.valueFrom) env[e.name] = '';
  }
  return env;
}

/**
 * Writes the Secret volumes of `container` that hold the given container paths into `localRoot/<volume>/`, one file
 * per key (or per `items` entry), owned by `runAs` and readable by their owner only. A kubelet makes them root's with
 * the pod's fsGroup as group and `defaultMode` (Zalando asks 0640); here the owner is the process's own user, and
 * PostgreSQL refuses a key file of its own user that others can read, so the group bits are dropped.
 * @param paths file names inside the container (e.g. `/tls/tls.crt`)
 * @returns the local file of each path, or what is missing (no Secret volume mounted there, a Secret not created)
 */
export async function secretVolumeFiles(
  client: KubeClient,
  pod: KubeObject,
  container: KubeObject,
  paths: string[],
  localRoot: string,
  runAs: [number, number] | undefined,
): Promise<Map<string, string> | string> {
  const mounts = (container.volumeMounts ?? []) as KubeObject[];
  const volumes = (pod.spec?.volumes ?? []) as KubeObject[];
  const written = new Set<string>();
  const local = new Map<string, string>();
  for (const path of paths) {
    const mount = mounts
      .filter((m) => path.startsWith(`${String(m.mountPath).replace(/\/$/, '')}/`))
      .sort((a, b) => String(b.mountPath).length - String(a.mountPath).length)[0];
    const source = volumes.find((v) => v.name === mount?.name)?.secret as KubeObject | undefined;
    if (!mount || !source) return `${path} is in no Secret volume of container ${String(container.name)}`;
    const dir = join(localRoot, String(mount.name));
    if (!written.has(dir)) {
      const secret = await client.get({ kind: 'Secret', namespace: namespaceOf(pod), name: source.secretName });
      if (!secret) return `Secret ${String(source.secretName)}`;
      const data = (secret.data ?? {}) as Record<string, string>;
      const items = (source.items as Array<{ key: string; path: string }> | undefined) ?? [
        ...Object.keys(data).map((key) => ({ key, path: key })),
      ];
      for (const item of items) {
        if (data[item.key] === undefined) return `Secret ${String(source.secretName)} key ${item.key}`;
        const file = join(dir, item.path);
        mkdirOwned(dirname(file), runAs);
        writeFileSync(file, Buffer.from(data[item.key]!, 'base64'), { mode: 0o600 });
        chmodSync(file, 0o600);
        if (runAs) chownSync(file, ...runAs);
      }
      written.add(dir);
    }
    const file = join(dir, posix.relative(String(mount.mountPath), path));
    if (!existsSync(file)) return `${path}: no such key in Secret ${String(source.secretName)}`;
    local.set(path, file);
  }
  return local;
}

/** Makes `dir` and its missing parents (mode 0700) owned by `runAs`, as a kubelet's mount is reachable by its container. */
function mkdirOwned(dir: string, runAs: [number, number] | undefined): void {
  if (existsSync(dir)) return;
  mkdirOwned(dirname(dir), runAs);
  mkdirSync(dir, { mode: 0o700 });
  if (runAs) chownSync(dir, ...runAs);
}

/** A sidecar started by {@link startSidecars}: its container name, directory (cwd) and process. */
export interface SidecarProcess {
  name: string;
  dir: string;
  process: ChildProcess;
}

/**
 * Starts each container of `pod` other than Spilo's as a local process: `command` then `args` with `$(NAME)` expanded,
 * in `<dir>/<container>/` (its working directory and HOME; output in `output.log`), with only the container's
 * environment resolved as the kubelet would, `HOSTNAME` (the pod's name) and this machine's `PATH`. A container
 * without a `command` (the image's entrypoint, which does not exist here) is skipped and said.
 * @returns the processes started, or what is missing for some container's environment (nothing is started then)
 */
export async function startSidecars(
  client: KubeClient,
  pod: KubeObject,
  dir: string,
  runAs: [number, number] | undefined,
  say: (line: string) => void,
): Promise<SidecarProcess[] | string> {
  const containers = ((pod.spec?.containers ?? []) as KubeObject[]).filter((c) => c.name !== SPILO_CONTAINER);
  const resolved: Array<{ container: KubeObject; env: Record<string, string> }> = [];
  for (const container of containers) {
    const env = await resolveContainerEnv(client, pod, container);
    if (typeof env === 'string') return `sidecar ${String(container.name)}: ${env}`;
    resolved.push({ container, env });
  }
  const started: SidecarProcess[] = [];
  for (const { container, env } of resolved) {
    const argv = [...((container.command ?? []) as string[]), ...((container.args ?? []) as string[])].map((a) =>
      expandReferences(String(a), env),
    );
    if (((container.command ?? []) as string[]).length === 0) {
      say(`pod ${nameOf(pod)}: sidecar ${String(container.name)} has no command (no images here): not started`);
      continue;
    }
    const cwd = join(dir, String(container.name));
    mkdirOwned(cwd, runAs);
    const child = spawnLogged(argv[0]!, argv.slice(1), {
      logFile: join(cwd, 'output.log'),
      runAs,
      cwd,
      env: { ...env, HOSTNAME: nameOf(pod), PATH: process.env.PATH ?? '/usr/bin:/bin' },
      inheritEnv: false,
    });
    started.push({ name: String(container.name), dir: cwd, process: child });
    say(`pod ${nameOf(pod)}: started sidecar ${String(container.name)}`);
  }
  return started;
}
