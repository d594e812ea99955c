/**
 * Kubernetes resource quantities (`100m`, `1.5`, `500Mi`, `1e3`, `2G`) as numbers, for comparisons: raising a
 * limit to its request, refusing to shrink a volume, telling `0.5` and `500m` apart from a real change.
 *
 * Source: Kubernetes API reference, "Quantity" (k8s.io/apimachinery/pkg/api/resource).
 */

const suffixes: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?)$/;

/** @returns the quantity in base units (cores, bytes), or undefined when the text is not a quantity */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const [, number, exponent, suffix] = match;
  const value = Number(number);
  return exponent !== undefined ? value * 10 ** Number(exponent) : value * (suffixes[suffix ?? ''] ?? 1);
}

/** @returns true when both texts are quantities of the same amount (`0.5` and `500m`, `1Gi` and `1024Mi`) */
export function sameQuantity(a: string, b: string): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x !== undefined && y !== undefined && Math.abs(x - y) <= Math.abs(x) * 1e-12;
}

/** @returns negative, zero or positive as a < b, a = b, a > b; throws when either is not a quantity */
export function compareQuantities(a: string, b: string): number {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === undefined || y === undefined) throw new Error(`not a quantity: ${x === undefined ? a : b}`);
  return x - y;
}
