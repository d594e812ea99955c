/**
 * Value syntax of the operator ConfigMap.
 *
 * Every value in a Kubernetes ConfigMap is a string; the Zalando operator decodes lists, maps, durations,
 * booleans and integers out of that string. This module implements that decoding as pure functions.
 * Source: Zalando operator docs, `docs/reference/operator_parameters.md` (ConfigMap-based configuration)
 * and the ConfigMap decoder of `pkg/util/config` (facts only, the code here is our own).
 *
 * The parsers never throw: each returns a {@link ParseResult} whose failure branch says what was expected,
 * phrased to complete the sentence "expected …" (e.g. `an integer`).
 *
 * @module
 */

/**
 * Outcome of parsing one ConfigMap value.
 *
 * `ok: true` carries the decoded `value`. `ok: false` carries `expected`: a short phrase naming what a valid
 * value looks like, possibly with the exact problem in parentheses, e.g.
 * `a map like "key1:value1,key2:value2" (unmatched ' quote at position 3)`.
 */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; expected: string };

const success = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const failure = <T>(expected: string): ParseResult<T> => ({ ok: false, expected });

/** Phrase used when a boolean does not parse. */
export const EXPECTED_BOOL = 'a boolean ("true" or "false")';
/** Phrase used when an integer does not parse. */
export const EXPECTED_INT = 'an integer';
/** Phrase used when a duration does not parse. */
export const EXPECTED_DURATION = 'a duration such as "300ms", "5s", "5m" or "1h30m"';
/** Phrase used when a number of days does not parse. */
export const EXPECTED_DAYS = 'a whole number of days such as "90"';
/** Phrase used when a map does not parse (a detail in parentheses is appended). */
export const EXPECTED_MAP = 'a map like "key1:value1,key2:value2"';

const TRUE_WORDS = new Set(['true', 't', '1']);
const FALSE_WORDS = new Set(['false', 'f', '0']);

/**
 * Parses a boolean.
 *
 * Accepts `true`/`false` in any letter case, and the short forms Go's `strconv.ParseBool` also takes
 * (`t`, `f`, `1`, `0`), so every value Zalando accepts is accepted. Surrounding whitespace is ignored.
 *
 * @param text - the raw ConfigMap value
 * @returns the boolean, or a failure expecting {@link EXPECTED_BOOL}
 */
export function parseBool(text: string): ParseResult<boolean> {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return success(true);
  if (FALSE_WORDS.has(word)) return success(false);
  return failure(EXPECTED_BOOL);
}

/**
 * Parses a decimal integer with an optional sign (`8`, `-1`, `+3`). Surrounding whitespace is ignored.
 * Hexadecimal, octal, fractions and exponents are rejected, as are values beyond ±(2^53 − 1).
 *
 * @param text - the raw ConfigMap value
 * @returns the integer, or a failure expecting {@link EXPECTED_INT}
 */
export function parseInteger(text: string): ParseResult<number> {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return failure(EXPECTED_INT);
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value))
    return failure(`${EXPECTED_INT} between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`);
  return success(value === 0 ? 0 : value); // normalise -0
}

/**
 * Parses a whole, non-negative number of days, written as a bare integer (`90`), as Zalando's
 * `password_rotation_interval` and `password_rotation_user_retention` take it.
 *
 * @param text - the raw ConfigMap value
 * @returns the number of days, or a failure expecting {@link EXPECTED_DAYS}
 */
export function parseDays(text: string): ParseResult<number> {
  const trimmed = text.trim();
  if (!/^\+?\d+$/.test(trimmed)) return failure(EXPECTED_DAYS);
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value)) return failure(EXPECTED_DAYS);
  return success(value);
}

/**
 * Parses a comma-separated list: items are trimmed, empty items are dropped. Never fails; `""` gives `[]`.
 * Quotes have no meaning in lists (as in Zalando).
 *
 * @param text - the raw ConfigMap value, e.g. `"admin, cron_admin"`
 * @returns the items in their written order, e.g. `["admin", "cron_admin"]`
 */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * Splits `text` at every `separator` character that is outside single or double quotes.
 * Inside a quoted part the other quote character is an ordinary character. There is no escape character.
 * Returns the error text for an unmatched quote (1-based position, like Zalando's message) instead of parts.
 */
function splitOutsideQuotes(
  text: string,
  separator: string,
  limit = Infinity,
): { parts: string[] } | { error: string } {
  const parts: string[] = [];
  let open: string | null = null;
  let openedAt = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      if (open === null) {
        open = ch;
        openedAt = i;
      } else if (open === ch) {
        open = null;
      }
    } else if (ch === separator && open === null && parts.length + 1 < limit) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (open !== null) return { error: `unmatched ${open} quote at position ${openedAt + 1}` };
  parts.push(text.slice(start));
  return { parts };
}

/**
 * Parses a map written as `key1:value1,key2:value2`.
 *
 * - Items are separated by commas; key and value by the first colon. Further colons belong to the value
 *   (`annotation:arn:aws:acm:…` maps `annotation` to `arn:aws:acm:…`).
 * - Single or double quotes protect commas and colons: `search_path:'"$user", public'` is one item.
 *   The quotes stay part of the key or value, as in Zalando (they matter, for example, in the SQL values
 *   of `team_api_role_configuration`).
 * - Keys and values are trimmed; empty items are skipped; a later duplicate key wins.
 *
 * Errors: an unmatched quote, an item without a colon, or an empty key.
 *
 * @param text - the raw ConfigMap value; `""` gives `{}`
 * @returns the map as a plain object (a key such as `__proto__` becomes an ordinary own property), or a
 *   failure expecting {@link EXPECTED_MAP} followed by the problem in parentheses
 */
export function parseMap(text: string): ParseResult<Record<string, string>> {
  const split = splitOutsideQuotes(text, ',');
  if ('error' in split) return failure(`${EXPECTED_MAP} (${split.error})`);
  const result: Record<string, string> = {};
  for (const rawItem of split.parts) {
    const item = rawItem.trim();
    if (item === '') continue;
    const pair = splitOutsideQuotes(item, ':', 2);
    if ('error' in pair) return failure(`${EXPECTED_MAP} (${pair.error})`);
    const [rawKey, rawValue] = pair.parts;
    if (rawValue === undefined) return failure(`${EXPECTED_MAP} (item ${JSON.stringify(item)} has no ":")`);
    const key = (rawKey ?? '').trim();
    if (key === '') return failure(`${EXPECTED_MAP} (item ${JSON.stringify(item)} has an empty key)`);
    Object.defineProperty(result, key, {
      value: rawValue.trim(),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return success(result);
}

/** Nanoseconds per unit, as in Go's `time.ParseDuration`. */
const NANOS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // micro sign
  ['\u03bcs', 1_000n], // Greek mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);
const MAX_NANOS = 2n ** 63n - 1n;
const COMPONENT = /^(\d*)(?:\.(\d*))?([a-z\u00b5\u03bc]+)/;

/**
 * Parses a Go duration (`time.ParseDuration` syntax): one or more `<number><unit>` parts with units
 * `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`; numbers may have a fraction (`1.5h`); parts add up (`1h30m`);
 * an optional leading sign; a bare `0` is zero. Anything else, including a number without a unit, fails.
 * Surrounding whitespace is ignored. Values beyond Go's range (about 292 years) fail.
 *
 * @param text - the raw ConfigMap value, e.g. `5m`
 * @returns the duration in milliseconds (fractional below 1 ms, e.g. `1500us` gives 1.5), or a failure
 *   expecting {@link EXPECTED_DURATION}
 */
export function parseDuration(text: string): ParseResult<number> {
  let rest = text.trim();
  let sign = 1n;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === '0') return success(0);
  if (rest === '') return failure(EXPECTED_DURATION);
  let nanos = 0n;
  while (rest !== '') {
    const match = COMPONENT.exec(rest);
    if (!match) return failure(EXPECTED_DURATION);
    const [whole, intDigits = '', fracDigits = '', unit = ''] = match;
    if (intDigits === '' && fracDigits === '') return failure(EXPECTED_DURATION);
    const perUnit = NANOS_PER_UNIT.get(unit);
    if (perUnit === undefined) return failure(EXPECTED_DURATION);
    const scale = 10n ** BigInt(fracDigits.length);
    const numerator = BigInt(intDigits === '' ? '0' : intDigits) * scale + BigInt(fracDigits === '' ? '0' : fracDigits);
    nanos += (numerator * perUnit) / scale; // Go truncates the fraction to whole nanoseconds as well
    if (nanos > MAX_NANOS) return failure(EXPECTED_DURATION);
    rest = rest.slice(whole.length);
  }
  return success(Number(sign * nanos) / 1_000_000 || 0);
}

const FORMAT_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['h', 3_600_000_000_000n],
  ['m', 60_000_000_000n],
  ['s', 1_000_000_000n],
  ['ms', 1_000_000n],
  ['us', 1_000n],
  ['ns', 1n],
];

/**
 * Formats milliseconds as a compact Go duration that {@link parseDuration} reads back to the same value:
 * 1800000 gives `30m`, 5400000 gives `1h30m`, 1500 gives `1s500ms`, 0 gives `0s`.
 * Sub-millisecond parts are rounded to whole nanoseconds.
 *
 * @param ms - a finite number of milliseconds
 * @returns the duration text
 * @throws RangeError if `ms` is not finite
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format ${ms} as a duration`);
  let nanos = BigInt(Math.round(ms * 1_000_000));
  if (nanos === 0n) return '0s';
  let text = '';
  if (nanos < 0n) {
    text = '-';
    nanos = -nanos;
  }
  for (const [unit, size] of FORMAT_UNITS) {
    const count = nanos / size;
    if (count > 0n) {
      text += `${count}${unit}`;
      nanos -= count * size;
    }
  }
  return text;
}

/**
 * Formats a map in the ConfigMap syntax read by {@link parseMap}: `key1:value1,key2:value2`, keys in the
 * object's order. Keys and values are written as they are (no quotes are added).
 *
 * @param map - the map to format
 * @returns the text, `""` for an empty map
 */
export function formatMap(map: Readonly<Record<string, string>>): string {
  return Object.entries(map)
    .map(([key, value]) => `${key}:${value}`)
    .join(',');
}
