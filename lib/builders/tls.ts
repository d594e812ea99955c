/**
 * The manifest's `tls` section as Zalando v1.15.1 turns it into the pod (generateStatefulSet, generateTlsMounts,
 * ensurePath in pkg/cluster/k8sres.go): the Secret `secretName` mounted at `/tls` (mode 0640), the CA Secret
 * `caSecretName` at `/tlsca` when a `caFile` is given, and Spilo's `SSL_CERTIFICATE_FILE`, `SSL_PRIVATE_KEY_FILE`
 * and `SSL_CA_FILE` pointing into them (a relative file name is taken in the mount directory, an absolute one as it
 * is). The key is readable by the group only: the pod's fsGroup (`spiloFSGroup`, else `spilo_fsgroup`) must be
 * Spilo's group, as Zalando's docs say; `buildCluster` reports a TLS section without one.
 *
 * Source: https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md#custom-tls-certificates
 * and https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/user.md#custom-tls-certificates; Spilo's
 * ENVIRONMENT.rst (SSL_*_FILE).
 */
import { posix } from 'node:path';
import type { Postgresql } from '../model/postgresql';

type AdditionalVolume = NonNullable<Postgresql['spec']['additionalVolumes']>[number];
/** A core/v1 EnvVar with a value (the shape of spilo-env.ts's EnvVar, which imports this file). */
type EnvVar = { name: string; value: string };

/** Where the certificate Secret is mounted. */
export const TLS_MOUNT = '/tls';
/** Where the CA Secret is mounted when it is a Secret of its own. */
export const TLS_CA_MOUNT = '/tlsca';
/** 0640: owner read-write, group read; with the fsGroup, Spilo's postgres user reads the key through its group. */
const TLS_MODE = 0o640;

/** Zalando's ensurePath: the default file in `dir` when empty, a relative name taken in `dir`, an absolute one kept. */
function ensurePath(file: string | undefined, dir: string, fallback: string): string {
  if (!file) return posix.join(dir, fallback);
  return posix.isAbsolute(file) ? file : posix.join(dir, file);
}

/** @returns whether the manifest asks for its own certificate (`tls.secretName` set) */
export const tlsEnabled = (cluster: Postgresql): boolean => Boolean(cluster.spec.tls?.secretName);

/** @returns the `SSL_*` variables of the Spilo container, appended after all others; none without `tls.secretName` */
export function tlsEnv(cluster: Postgresql): EnvVar[] {
  const tls = cluster.spec.tls;
  if (!tls?.secretName) return [];
  const env: EnvVar[] = [
    { name: 'SSL_CERTIFICATE_FILE', value: ensurePath(tls.certificateFile, TLS_MOUNT, 'tls.crt') },
    { name: 'SSL_PRIVATE_KEY_FILE', value: ensurePath(tls.privateKeyFile, TLS_MOUNT, 'tls.key') },
  ];
  if (tls.caFile)
    env.push({ name: 'SSL_CA_FILE', value: ensurePath(tls.caFile, tls.caSecretName ? TLS_CA_MOUNT : TLS_MOUNT, '') });
  return env;
}

/** @returns the Secret volumes, mounted into the Spilo container after the manifest's additional volumes */
export function tlsVolumes(cluster: Postgresql): AdditionalVolume[] {
  const tls = cluster.spec.tls;
  if (!tls?.secretName) return [];
  const secretVolume = (name: string, mountPath: string): AdditionalVolume => ({
    name,
    mountPath,
    volumeSource: { secret: { secretName: name, defaultMode: TLS_MODE } },
  });
  const volumes = [secretVolume(tls.secretName, TLS_MOUNT)];
  if (tls.caFile && tls.caSecretName) volumes.push(secretVolume(tls.caSecretName, TLS_CA_MOUNT));
  return volumes;
}
