/**
 * Passwords of new credentials Secrets. Each is derived from a per-operator key with HMAC-SHA256 over the cluster's
 * uid and the role name, so a Secret that is deleted by mistake comes back with the same password on the next sync,
 * and two syncs of one new cluster running at once write the same password instead of racing.
 * An existing Secret's password always wins over the derived one (see `syncCluster`).
 *
 * The key lives in the Secret `postgres-operator-password-key` in the operator namespace (created with 32 random
 * bytes when missing); whoever can read it can derive the passwords, exactly as whoever can read the Secrets can.
 */
import type { PasswordSource } from '../context';
import { createHmac, randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { KubeClient } from '../../k8s/client';
import { isStatus } from '../../k8s/errors';

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Bytes at or above this would bias the alphabet (256 is not a multiple of 62): they are skipped. */
const UNBIASED_LIMIT = 256 - (256 % ALPHANUMERIC.length);

/** Name of the Secret holding the key passwords are derived from. */
export const PASSWORD_KEY_SECRET = 'postgres-operator-password-key';

/**
 * @param key the operator's secret key (at least 16 bytes)
 * @returns a source of 64-character alphanumeric passwords (ASCII only, so SASLprep cannot change them)
 */
export function derivedPasswords(key: Buffer, length = 64): PasswordSource {
  if (key.length < 16) throw new Error('the password key must have at least 16 bytes');
  return (clusterUid, user) => {
    let out = '';
    for (let block = 0; out.length < length; block++) {
      const bytes = createHmac('sha256', key).update(`${clusterUid}\0${user}\0${block}`).digest();
      for (const byte of bytes) {
        if (byte < UNBIASED_LIMIT && out.length < length) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
      }
    }
    return out;
  };
}

/**
 * The key of each operator namespace, once read: kept for the life of the process (a warm function host, the one
 * process). It only seeds the passwords of Secrets that do not exist yet, and a Secret's own password always wins,
 * so a key replaced by hand takes effect for new clusters when the process restarts.
 */
const keys = new Map<string, Buffer>();

/**
 * Reads the password key Secret (once per process and namespace: see `keys`), creating it with a random key when it
 * does not exist (a concurrent creator wins and its key is read back).
 * @returns the key bytes; throws KubeApiError when the API cannot be reached
 */
export async function loadPasswordKey(client: KubeClient, namespace: string): Promise<Buffer> {
  const known = keys.get(namespace);
  if (known) return known;
  const key = await readOrCreateKey(client, namespace);
  keys.set(namespace, key);
  return key;
}

async function readOrCreateKey(client: KubeClient, namespace: string): Promise<Buffer> {
  const ref = { kind: 'Secret', namespace, name: PASSWORD_KEY_SECRET };
  const existing = await client.get<V1Secret>(ref);
  if (existing?.data?.key) return Buffer.from(existing.data.key, 'base64');
  try {
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: PASSWORD_KEY_SECRET, namespace },
      data: { key: randomBytes(32).toString('base64') },
    });
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
  }
  const key = (await client.get<V1Secret>(ref))?.data?.key;
  if (key === undefined) throw new Error(`the Secret ${namespace}/${PASSWORD_KEY_SECRET} has no key`);
  return Buffer.from(key, 'base64');
}
