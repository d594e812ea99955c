/**
 * Errors of Patroni REST API calls. Every failure is a {@link PatroniError} with a `kind` that says what went
 * wrong, so a caller can decide between "retry later" and "report a permanent problem" without parsing text.
 *
 * Source: Patroni REST API docs (https://patroni.readthedocs.io/en/latest/rest_api.html), "Switchover and
 * failover endpoints" (status codes 200/202/400/412/503); Patroni 3.0.2 `patroni/api.py`.
 *
 * @module
 */

/**
 * - `http`: Patroni answered with a status that is not a success (`status` and Patroni's `patroniMessage`);
 * - `timeout`: no answer within the call's timeout (for a POST the request may still take effect);
 * - `aborted`: the caller's AbortSignal fired;
 * - `network`: no connection (refused, reset, DNS);
 * - `invalid-response`: a 2xx answer whose body is not what the API documents (`issues` say which fields).
 */
export type PatroniErrorKind = 'http' | 'timeout' | 'aborted' | 'network' | 'invalid-response';

/** A failed Patroni REST API call. */
export class PatroniError extends Error {
  /**
   * @param kind see {@link PatroniErrorKind}
   * @param request `METHOD url`, e.g. `POST http://127.1.0.2:8008/switchover`
   * @param status HTTP status, 0 when there was no answer
   * @param patroniMessage Patroni's explanation (the response body as text, HTML stripped), e.g.
   *   `candidate does not exists`; empty when there was no answer
   * @param detail what the client saw: the network error, the timeout in ms, or the zod issues
   */
  constructor(
    readonly kind: PatroniErrorKind,
    readonly request: string,
    readonly status: number,
    readonly patroniMessage: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${request}: ${describe(kind, status, patroniMessage, detail)}`, options);
    this.name = 'PatroniError';
  }

  /**
   * True when trying again later may succeed: no answer, a 5xx (Patroni says `Switchover failed` or
   * `... status unknown` with 503, or is not ready), or 409/429. False for 4xx answers such as 412
   * (`candidate does not exists`, `leader name does not match`) and for invalid responses. An `aborted` call
   * is not retryable: the caller stopped it.
   */
  get retryable(): boolean {
    if (this.kind === 'timeout' || this.kind === 'network') return true;
    if (this.kind !== 'http') return false;
    return this.status >= 500 || this.status === 409 || this.status === 429;
  }
}

function describe(kind: PatroniErrorKind, status: number, message: string, detail: string): string {
  switch (kind) {
    case 'http':
      return `HTTP ${status}${message ? `: ${message}` : ''}`;
    case 'timeout':
      return `no answer within ${detail}`;
    case 'aborted':
      return `aborted${detail ? `: ${detail}` : ''}`;
    case 'network':
      return `no connection: ${detail}`;
    case 'invalid-response':
      return `HTTP ${status} with an unexpected body: ${detail}`;
  }
}

/** @returns whether `error` is a PatroniError of that kind (any kind when omitted) */
export function isPatroniError(error: unknown, kind?: PatroniErrorKind): error is PatroniError {
  return error instanceof PatroniError && (kind === undefined || error.kind === kind);
}
