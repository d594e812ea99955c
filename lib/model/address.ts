/**
 * Address checks done with `node:net` rather than a pattern: a CIDR is an address `net.isIP` accepts (IPv4 in
 * dotted-quad form, IPv6 in any RFC 4291 text form) and a decimal prefix length within the family's bits. The
 * same rule as Go's `net.ParseCIDR`, which the API server applies to the `cidr` format of the CRD schema.
 *
 * Source: Node.js docs, `net.isIP`; Kubernetes core/v1 ServiceSpec `loadBalancerSourceRanges`.
 */
// isIP only parses text: no socket, no I/O, so the pure layer may use it.
// eslint-disable-next-line no-restricted-imports
import { isIP } from 'node:net';

/**
 * @param value text such as `10.0.0.0/8` or `2001:db8::/32`
 * @returns why it is not a CIDR, or undefined when it is one
 */
export function cidrProblem(value: string): string | undefined {
  const slash = value.indexOf('/');
  if (slash < 0) return 'must be a CIDR such as 10.0.0.0/8 (the /prefix is missing)';
  const address = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  const family = isIP(address);
  // isIP accepts an IPv6 zone (`fe80::1%eth0`); a CIDR has none.
  if (family === 0 || address.includes('%'))
    return `not a CIDR: ${JSON.stringify(address)} is not an IPv4 or IPv6 address`;
  const bits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits)
    return `not a CIDR: the prefix length ${JSON.stringify(prefix)} must be a number from 0 to ${bits}`;
  return undefined;
}

/** @returns whether `value` is a CIDR (see `cidrProblem`) */
export const isCidr = (value: string): boolean => cidrProblem(value) === undefined;
