/**
 * The Teams API client: `GET {teams_api_url}/teams/{teamId}` with `Authorization: Bearer <token>`; only the
 * `member` list of the answer is used. Every failure comes back as a value saying why (never thrown), so the
 * caller can leave team roles untouched and report it: unreachable, timed out, an HTTP error (with the `error`
 * field of a JSON body), or an answer that is not a team (not JSON, no `member` list of strings).
 *
 * The token is a secret: it is sent in the header only, never logged and never put in a message.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (teams_api_url,
 * oauth_token_secret_name) and its Teams API client (members in `member`; "team API query failed with status
 * code ..." message); RFC 6750 (Bearer tokens).
 */

/** The answer of one team query. */
export type TeamResult =
  | { ok: true; members: string[] }
  /** `notFound`: HTTP 404 (an unknown team has no members); `retryable`: may work later (network, 429, 5xx) */
  | { ok: false; error: string; notFound: boolean; retryable: boolean };

/** Options of one query. */
export interface TeamQuery {
  /** `teams_api_url` (a trailing `/` is ignored) */
  url: string;
  teamId: string;
  /** the OAuth bearer token */
  token: string;
  /** ms; default 10000 */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** for tests: the fetch implementation */
  fetchImpl?: typeof fetch;
}

/** Largest answer read, in bytes: a team is a few kB; anything bigger is not a team. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const failure = (error: string, retryable: boolean, notFound = false): TeamResult => ({
  ok: false,
  error,
  notFound,
  retryable,
});

/** @returns the members of the team, or why they could not be read */
export async function fetchTeamMembers(query: TeamQuery): Promise<TeamResult> {
  if (!query.teamId) return failure('no teamId specified', false);
  const url = `${query.url.replace(/\/+$/, '')}/teams/${encodeURIComponent(query.teamId)}`;
  const timeoutMs = query.timeoutMs ?? 10_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = query.signal ? AbortSignal.any([query.signal, timeout]) : timeout;
  let status: number;
  let text: string;
  try {
    const response = await (query.fetchImpl ?? fetch)(url, {
      headers: { Authorization: `Bearer ${query.token}`, Accept: 'application/json' },
      signal,
      redirect: 'error',
    });
    status = response.status;
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_BODY_BYTES)
      return failure(`Teams API answer for team ${JSON.stringify(query.teamId)} is too large (${length} bytes)`, false);
    text = await response.text();
  } catch (error) {
    const reason = timeout.aborted
      ? `no answer within ${timeoutMs} ms`
      : (error as Error).cause instanceof Error
        ? ((error as Error).cause as Error).message
        : (error as Error).message;
    return failure(`Teams API ${url} unreachable: ${reason}`, true);
  }
  if (status !== 200) {
    let message = text.slice(0, 200);
    try {
      const body = JSON.parse(text) as { error?: unknown };
      if (typeof body.error === 'string') message = body.error;
    } catch {
      /* not JSON: keep the text */
    }
    return failure(
      `team API query failed with status code ${status} and message: '${message.replace(/\s+/g, ' ').trim()}'`,
      status === 429 || status >= 500,
      status === 404,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return failure(`Teams API answer for team ${JSON.stringify(query.teamId)} is not JSON`, false);
  }
  const member = (body as { member?: unknown } | null)?.member;
  if (
    typeof body !== 'object' ||
    body === null ||
    Array.isArray(body) ||
    !Array.isArray(member) ||
    !member.every((m) => typeof m === 'string')
  ) {
    return failure(`Teams API answer for team ${JSON.stringify(query.teamId)} has no "member" list of names`, false);
  }
  return { ok: true, members: [...new Set(member as string[])].sort() };
}
