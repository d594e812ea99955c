/**
 * Errors of Kubernetes API calls, with what the caller needs to decide: retry later (503 to the event source) or
 * report a permanent problem.
 *
 * Source: Kubernetes API concepts, "Status" responses and HTTP status codes.
 */

/** A failed API request: HTTP status (0 for network errors and timeouts), the Status reason, and its message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly request: string,
  ) {
    super(`${request}: ${status || 'no response'} ${reason}: ${message}`);
    this.name = 'KubeApiError';
  }

  /** True for failures that may pass: no response, 409 Conflict, 429 Too Many Requests, 5xx. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 409 || this.status === 429 || this.status >= 500;
  }
}

/** @returns whether the error is a KubeApiError with that status */
export function isStatus(error: unknown, status: number): boolean {
  return error instanceof KubeApiError && error.status === status;
}

/** @returns whether the error is worth retrying later (API errors by status; any non-API error is not) */
export function isRetryable(error: unknown): boolean {
  return error instanceof KubeApiError && error.retryable;
}
