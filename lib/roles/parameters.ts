/**
 * Role parameters (`ALTER ROLE ... SET name TO value`): how a configured value is sent and how it compares with
 * what `pg_db_role_setting` stores, so an unchanged parameter is not set again.
 *
 * Values from Zalando-style maps may carry SQL quotes (`search_path:'"$user", public'`). They are never pasted
 * into SQL: one layer of outer single quotes is removed and the rest is sent as literals. List settings such as
 * `search_path` are split into their elements, each sent as its own literal, which PostgreSQL stores as the
 * comma-separated (identifier-quoted where needed) list.
 *
 * Source: PostgreSQL docs, ALTER ROLE ("SET configuration_parameter"), SET, and the GUC_LIST_QUOTE settings.
 */

/** Settings whose value is a list of names (GUC_LIST_INPUT): each element is its own literal. */
export const LIST_PARAMETERS: ReadonlySet<string> = new Set([
  'search_path',
  'temp_tablespaces',
  'local_preload_libraries',
  'session_preload_libraries',
]);

const stripOuterSingleQuotes = (value: string): string =>
  value.length >= 2 && value.startsWith("'") && value.endsWith("'") ? value.slice(1, -1).replaceAll("''", "'") : value;

/** Splits at commas outside double quotes, trims, and removes the double quotes around each element. */
function listElements(value: string): string[] {
  const elements: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      elements.push(current);
      current = '';
    } else current += ch;
  }
  elements.push(current);
  return elements.map((e) => e.trim()).filter((e) => e !== '');
}

/**
 * @param name the setting name (already checked)
 * @param value the configured value, possibly single-quoted
 * @returns the literal(s) to send: one string, or the elements of a list setting
 */
export function parameterValues(name: string, value: string): string[] {
  const bare = stripOuterSingleQuotes(value.trim());
  return LIST_PARAMETERS.has(name.toLowerCase()) ? listElements(bare) : [bare];
}

/**
 * @param stored the value part of a `pg_db_role_setting.setconfig` entry (`name=value`)
 * @returns whether it already holds the configured value
 */
export function parameterMatches(name: string, stored: string | undefined, value: string): boolean {
  if (stored === undefined) return false;
  const wanted = parameterValues(name, value);
  if (!LIST_PARAMETERS.has(name.toLowerCase())) return stored === wanted[0];
  return JSON.stringify(listElements(stored)) === JSON.stringify(wanted);
}
