import { randomInt } from 'node:crypto';

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * @returns a new password of `length` random alphanumerics (64 by default, as Zalando's operator makes), from a
 *   cryptographically secure source; ASCII only, so SASLprep cannot change it
 */
export function randomPassword(length = 64): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}
