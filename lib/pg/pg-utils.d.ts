/**
 * Types of node-postgres' `lib/utils.js` (CommonJS), which @types/pg does not describe: the two escaping functions
 * `sql.ts` takes from there, the same functions the package root exports.
 */
declare module 'pg/lib/utils.js' {
  const utils: {
    /** @returns the name as a double-quoted SQL identifier */
    escapeIdentifier(str: string): string;
    /** @returns the value as a single-quoted SQL literal (`E'...'` when it holds a backslash) */
    escapeLiteral(str: string): string;
  };
  export default utils;
}
