/**
 * Password verifiers computed on the client, so the plaintext never reaches the server (not in its logs, not in
 * `pg_stat_activity`): PostgreSQL stores a value that already looks like a verifier as it is. And the comparison
 * that keeps an unchanged password from being sent again: an md5 verifier is recomputed, a SCRAM verifier is
 * recomputed with its own salt and iteration count.
 *
 * Source: PostgreSQL docs, "Password Authentication" (md5 = "md5" + md5(password || username); SCRAM-SHA-256
 * stored as `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`); RFC 5802 §3 and RFC 7677 (SCRAM);
 * RFC 4013 (SASLprep, the mapping and NFKC steps PostgreSQL applies before hashing).
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import type { PasswordEncryption } from './types';

/** PostgreSQL's default `scram_iterations`. */
export const SCRAM_ITERATIONS = 4096;

const MD5_VERIFIER = /^md5[0-9a-f]{32}$/;
const SCRAM_VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;

/** @returns whether the value is already an md5 or SCRAM-SHA-256 verifier (then it is sent as it is) */
export function isVerifier(value: string): boolean {
  return MD5_VERIFIER.test(value) || SCRAM_VERIFIER.test(value);
}

/**
 * The mapping and normalization steps of SASLprep that change a password (non-ASCII spaces to a space, "mapped to
 * nothing" characters removed, NFKC), as PostgreSQL and libpq apply them. ASCII passwords are unchanged.
 */
export function saslPrep(password: string): string {
  return password
    .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, ' ')
    .replace(/[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g, '')
    .normalize('NFKC');
}

/** @returns `md5` + hex md5 of password then user name, as PostgreSQL stores it */
export function md5Verifier(user: string, password: string): string {
  return `md5${createHash('md5')
    .update(password + user)
    .digest('hex')}`;
}

/**
 * @param salt random bytes (16 is PostgreSQL's own choice); passed in because this layer takes no randomness
 * @param iterations PBKDF2 rounds (default 4096)
 * @returns `SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>`
 */
export function scramVerifier(password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(saslPrep(password), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * @param password plaintext, or a verifier (used as it is)
 * @param salt called only when a SCRAM verifier has to be made
 * @returns what to send in `PASSWORD '...'`
 */
export function makeVerifier(
  encryption: PasswordEncryption,
  user: string,
  password: string,
  salt: () => Buffer,
): string {
  if (isVerifier(password)) return password;
  if (encryption === 'md5') return md5Verifier(user, password);
  const verifier = scramVerifier(password, salt());
  remember(memoKey(verifier, password));
  return verifier;
}

/**
 * Whether the stored `rolpassword` already holds this password, so nothing needs sending. A SCRAM verifier is
 * recomputed with the stored salt and iteration count (a fresh salt would never compare equal).
 * @param encryption the wanted encryption: with `strict`, a verifier in the other one counts as different (the
 *   password is then sent again in the wanted one); without, a verifier in either encryption that holds the
 *   password matches (a role another operator made with md5 is left as it is: no DDL on a takeover)
 * @param password plaintext, or a verifier (compared as it is)
 */
export function passwordMatches(
  stored: string | null,
  encryption: PasswordEncryption,
  user: string,
  password: string,
  strict = true,
): boolean {
  if (stored === null || stored === '') return false;
  if (isVerifier(password)) return stored === password;
  if (!strict && MD5_VERIFIER.test(stored)) return stored === md5Verifier(user, password);
  if (strict && encryption === 'md5') return stored === md5Verifier(user, password);
  const parts = SCRAM_VERIFIER.exec(stored);
  if (!parts) return false;
  const iterations = Number(parts[1]);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 10_000_000) return false;
  const key = memoKey(stored, password);
  if (scramMatches.has(key)) return true;
  const matches = stored === scramVerifier(password, Buffer.from(parts[2]!, 'base64'), iterations);
  if (matches) remember(key);
  return matches;
}

/**
 * SCRAM verifiers known to hold a password, so a warm instance does not run PBKDF2 (about 4 ms each) again for
 * every role on every sync. Keys are hashes of verifier and password (no plaintext kept); the answer for a key
 * never changes, so the memo cannot go stale. Bounded: cleared when full.
 */
const scramMatches = new Set<string>();
const MEMO_LIMIT = 50_000;
const memoKey = (stored: string, password: string) =>
  createHash('sha256').update(stored).update('\0').update(password).digest('base64');
const remember = (key: string) => {
  if (scramMatches.size >= MEMO_LIMIT) scramMatches.clear();
  scramMatches.add(key);
};

/** Forgets the SCRAM matches seen so far (benchmarks use it to measure a cold instance). */
export function forgetScramMatches(): void {
  scramMatches.clear();
}
