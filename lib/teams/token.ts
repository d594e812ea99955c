/**
 * The Teams API token, from the Secret named by `oauth_token_secret_name`: key `read-only-token-type` must be
 * `Bearer`, key `read-only-token-secret` holds the token. The token is returned for the request header only.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (oauth_token_secret_name) and its
 * "wrong token type" check.
 */

/** The token, or why the Secret does not give one (the message never contains Secret data). */
export type TokenResult = { ok: true; token: string } | { ok: false; error: string };

/**
 * @param data the Secret's `data` (base64 values), or undefined when the Secret does not exist
 * @param where `namespace/name` of the Secret, for messages
 */
export function teamsApiToken(data: Readonly<Record<string, string>> | undefined, where: string): TokenResult {
  if (!data) return { ok: false, error: `the Teams API token Secret ${where} does not exist` };
  const decode = (key: string) =>
    data[key] === undefined ? undefined : Buffer.from(data[key], 'base64').toString('utf8').trim();
  const type = decode('read-only-token-type');
  if (type !== 'Bearer') {
    return {
      ok: false,
      error: `wrong token type in ${where}: read-only-token-type must be "Bearer"${type === undefined ? ' (the key is missing)' : ''}`,
    };
  }
  const token = decode('read-only-token-secret');
  if (!token) return { ok: false, error: `the Teams API token Secret ${where} has no read-only-token-secret` };
  if (/[\r\n]/.test(token)) return { ok: false, error: `the token in ${where} contains a line break` };
  return { ok: true, token };
}
