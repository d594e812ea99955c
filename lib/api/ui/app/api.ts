/// <reference lib="dom" />
/**
 * The page's calls to the operator-api function, with the user's bearer token: pasted into the page (kept in
 * sessionStorage, so it goes with the tab), or none when a proxy in front of the function adds the header. Paths
 * are relative to the page (`<mount>/ui/`), so the function can be served under any prefix.
 */

const TOKEN_KEY = 'postgres-operator-token';

/** The token the page sends, empty when the user gave none. */
export function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** Keeps the token for this tab (empty removes it). */
export function setToken(value: string): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value.trim());
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer other than 2xx, with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/**
 * @param method HTTP method
 * @param path relative to the page, e.g. `api/fleet`, or `../plan` for the API beside the UI
 * @param body sent as JSON when given
 * @returns the parsed JSON answer; throws ApiError (401: no or a refused token; 403: RBAC said no)
 */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  if (!response.ok) {
    const message =
      (parsed as { error?: string; message?: string } | undefined)?.error ??
      (parsed as { message?: string } | undefined)?.message ??
      `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message, parsed);
  }
  return parsed as T;
}
