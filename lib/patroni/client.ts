/**
 * A client for one Patroni member's REST API: read the cluster and the member, ask for a switchover, read and
 * change the dynamic configuration. Every call has its own timeout (an AbortSignal, combined with the caller's),
 * every answer is validated with zod, and every failure is a {@link PatroniError}.
 *
 * Source: Patroni REST API docs (https://patroni.readthedocs.io/en/latest/rest_api.html): "Monitoring
 * endpoint" (`GET /patroni`), "Cluster status endpoints" (`GET /cluster`), "Switchover and failover endpoints"
 * (`POST /switchover`, `POST /failover`), "Config endpoint" (`GET /config`, `PATCH /config`); checked against
 * Patroni 3.0.2 (`patroni/api.py`).
 *
 * @module
 */
import type { z } from 'zod';
import { PatroniError } from './errors';
import {
  patroniClusterSchema,
  patroniDynamicConfigSchema,
  patroniStatusSchema,
  type PatroniCluster,
  type PatroniDynamicConfig,
  type PatroniStatus,
  type SwitchoverResult,
} from './types';

/** Patroni's default REST API port (`restapi.listen`), the one Spilo pods expose. */
export const PATRONI_PORT = 8008;

/** Default timeout of a GET, in ms. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Default timeout of `POST /switchover` and `POST /failover`, in ms. Patroni answers only after it has seen the
 * new leader, polling once a second for up to `2 * max(10, loop_wait)` seconds (20 s with the defaults), so the
 * default leaves room for that.
 */
export const DEFAULT_SWITCHOVER_TIMEOUT_MS = 30_000;

/** Options of a client. */
export interface PatroniClientOptions {
  /** Timeout of each GET in ms; default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Timeout of each switchover or failover request in ms; default {@link DEFAULT_SWITCHOVER_TIMEOUT_MS}. */
  switchoverTimeoutMs?: number;
}

/** Options of one call. */
export interface CallOptions {
  /** Aborts the call (e.g. the invocation's deadline); the call then fails with kind `aborted`. */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call, in ms. */
  timeoutMs?: number;
}

/** `POST /switchover`: move the leader key from `leader` to `candidate` (any healthy member when omitted). */
export interface SwitchoverRequest {
  /** The current leader's member name (Patroni refuses a switchover without it: "from a specific leader"). */
  leader: string;
  /** The member to promote; when omitted Patroni picks a healthy one. */
  candidate?: string;
  /** Run the switchover at this time instead of now (Patroni answers 202 "Switchover scheduled"). */
  scheduledAt?: Date;
}

/** `POST /failover`: promote `candidate`, also when there is no healthy leader. */
export interface FailoverRequest {
  /** The member to promote (Patroni refuses a failover without it: "to a specific candidate"). */
  candidate: string;
  /** The current leader, if known; Patroni checks that it still matches. */
  leader?: string;
}

/**
 * @returns the REST API base URL of the member at `host` (a pod IP or name), e.g. `http://10.2.0.7:8008`;
 *   IPv6 addresses are bracketed
 */
export function patroniUrl(host: string, port: number = PATRONI_PORT): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * One Patroni member's REST API. Any member answers `GET /cluster` and accepts a switchover (it writes the
 * request into the DCS, where the leader picks it up), so the caller may use whichever member it reaches.
 */
export class PatroniClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly switchoverTimeoutMs: number;

  /**
   * @param baseUrl e.g. `http://10.2.0.7:8008` (see {@link patroniUrl}); a trailing slash is ignored
   * @throws TypeError when `baseUrl` is not an http(s) URL
   */
  constructor(baseUrl: string, options: PatroniClientOptions = {}) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`Patroni base URL must be http(s): ${baseUrl}`);
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.switchoverTimeoutMs = options.switchoverTimeoutMs ?? DEFAULT_SWITCHOVER_TIMEOUT_MS;
  }

  /**
   * `GET /cluster`: every member with its role, state, timeline and lag, as the DCS sees them.
   * @throws PatroniError (`http`, `timeout`, `aborted`, `network`, `invalid-response`)
   */
  async getCluster(options: CallOptions = {}): Promise<PatroniCluster> {
    return this.getJson('/cluster', patroniClusterSchema, options);
  }

  /**
   * `GET /patroni`: this member's own state, role, WAL position, timeline and Patroni version.
   * @throws PatroniError (`http`, `timeout`, `aborted`, `network`, `invalid-response`)
   */
  async getStatus(options: CallOptions = {}): Promise<PatroniStatus> {
    return this.getJson('/patroni', patroniStatusSchema, options);
  }

  /**
   * `GET /config`: the cluster's dynamic configuration as kept in the DCS.
   * @throws PatroniError (`http` 502 when the DCS holds none yet, `timeout`, `aborted`, `network`, `invalid-response`)
   */
  async getConfig(options: CallOptions = {}): Promise<PatroniDynamicConfig> {
    return this.getJson('/config', patroniDynamicConfigSchema, options);
  }

  /**
   * `PATCH /config`: merges `patch` into the dynamic configuration (objects merge key by key, `null` removes a key).
   * The members apply it in their next HA loop; a PostgreSQL parameter that needs a restart then shows as
   * `pending_restart` in `GET /patroni`.
   * @returns the dynamic configuration after the change
   * @throws PatroniError `http` 409 when the configuration changed meanwhile (read it again), 503 when the DCS holds
   *   none yet, 400 for a body that is not a JSON object; `timeout`, `aborted`, `network`, `invalid-response`
   */
  async patchConfig(patch: Record<string, unknown>, options: CallOptions = {}): Promise<PatroniDynamicConfig> {
    const { status, text } = await this.send(
      'PATCH',
      '/config',
      patch,
      options.timeoutMs ?? this.timeoutMs,
      options.signal,
    );
    const request = this.label('PATCH', '/config');
    if (status !== 200) throw new PatroniError('http', request, status, messageOf(text), '');
    return parseJson(request, status, text, patroniDynamicConfigSchema);
  }

  /**
   * `POST /switchover` with `leader`, `candidate` and `scheduled_at` (ISO 8601 with time zone). Without
   * `scheduledAt` Patroni answers once the new leader holds the lock. A Patroni that has no `/switchover`
   * endpoint (HTTP 404 or 501; releases before it was added) gets the same body on `POST /failover`, which
   * switched over from the named leader there.
   * @returns the outcome, the new leader Patroni reported and its message
   * @throws PatroniError `http` 412 for a wrong leader or unknown candidate (`leader name does not match`,
   *   `candidate does not exists`, `switchover is not possible: ...`), 400 for a bad request, 422 for a
   *   `scheduledAt` in the past, 503 when the switchover failed or its outcome is unknown; `timeout` when no
   *   answer came in time (the switchover may still happen: read `GET /cluster` before trying again)
   */
  async switchover(request: SwitchoverRequest, options: CallOptions = {}): Promise<SwitchoverResult> {
    const body: Record<string, string> = { leader: request.leader };
    if (request.candidate !== undefined) body.candidate = request.candidate;
    if (request.scheduledAt !== undefined) body.scheduled_at = request.scheduledAt.toISOString();
    try {
      return await this.postAction('/switchover', body, options);
    } catch (error) {
      if (error instanceof PatroniError && error.kind === 'http' && (error.status === 404 || error.status === 501)) {
        return this.postAction('/failover', body, options);
      }
      throw error;
    }
  }

  /**
   * `POST /failover` with `candidate` (and `leader` when given): promotes the candidate even when the leader is
   * gone. Prefer {@link switchover} while there is a healthy leader.
   * @throws PatroniError as for {@link switchover}; 400 `Failover could be performed only to a specific
   *   candidate` without a candidate
   */
  async failover(request: FailoverRequest, options: CallOptions = {}): Promise<SwitchoverResult> {
    const body: Record<string, string> = { candidate: request.candidate };
    if (request.leader !== undefined) body.leader = request.leader;
    return this.postAction('/failover', body, options);
  }

  /**
   * `DELETE /switchover`: cancels a switchover scheduled with `scheduledAt`.
   * @returns true when one was scheduled and is now cancelled, false when none was scheduled (HTTP 404)
   * @throws PatroniError `http` 409 when the DCS changed meanwhile; `timeout`, `aborted`, `network`
   */
  async cancelScheduledSwitchover(options: CallOptions = {}): Promise<boolean> {
    const { status, text } = await this.send(
      'DELETE',
      '/switchover',
      undefined,
      options.timeoutMs ?? this.timeoutMs,
      options.signal,
    );
    if (status === 200) return true;
    if (status === 404) return false;
    throw new PatroniError('http', this.label('DELETE', '/switchover'), status, messageOf(text), '');
  }

  private async postAction(
    path: '/switchover' | '/failover',
    body: Record<string, string>,
    options: CallOptions,
  ): Promise<SwitchoverResult> {
    const { status, text } = await this.send(
      'POST',
      path,
      body,
      options.timeoutMs ?? this.switchoverTimeoutMs,
      options.signal,
    );
    const message = messageOf(text);
    if (status !== 200 && status !== 202) throw new PatroniError('http', this.label('POST', path), status, message, '');
    // 200: `Successfully switched over to "x"` or `Switched over to "y" instead of "x"` (also "failed over").
    const newLeader = /over to "([^"]+)"/.exec(message)?.[1];
    return { outcome: status === 202 ? 'scheduled' : 'switched', newLeader, message, endpoint: path };
  }

  private async getJson<S extends z.ZodType>(path: string, schema: S, options: CallOptions): Promise<z.infer<S>> {
    const { status, text } = await this.send(
      'GET',
      path,
      undefined,
      options.timeoutMs ?? this.timeoutMs,
      options.signal,
    );
    const request = this.label('GET', path);
    if (status !== 200) throw new PatroniError('http', request, status, messageOf(text), '');
    return parseJson(request, status, text, schema);
  }

  /** Sends one request; the timeout covers the whole exchange including the body. */
  private async send(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body: unknown,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; text: string }> {
    const request = this.label(method, path);
    if (signal?.aborted) throw new PatroniError('aborted', request, 0, '', reasonOf(signal));
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        signal: combined,
        headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      if (timeout.aborted) throw new PatroniError('timeout', request, 0, '', `${timeoutMs}ms`, { cause: error });
      if (signal?.aborted) throw new PatroniError('aborted', request, 0, '', reasonOf(signal), { cause: error });
      throw new PatroniError('network', request, 0, '', causeText(error), { cause: error });
    }
  }

  private label(method: string, path: string): string {
    return `${method} ${this.baseUrl}${path}`;
  }
}

/** @returns the answer parsed and validated; throws PatroniError `invalid-response` */
function parseJson<S extends z.ZodType>(request: string, status: number, text: string, schema: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PatroniError('invalid-response', request, status, '', `not JSON: ${text.slice(0, 80)}`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new PatroniError('invalid-response', request, status, '', issues);
  }
  return parsed.data;
}

/**
 * Patroni answers errors as plain text (`candidate does not exists`), except the ones Python's HTTP server
 * writes itself (400, 411, 501), which are an HTML page whose "Message:" line says what happened.
 */
function messageOf(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('<')) return trimmed.slice(0, 500);
  const html = /Message:\s*([^<]*)/.exec(trimmed)?.[1] ?? trimmed.replace(/<[^>]*>/g, ' ');
  return html.replace(/\s+/g, ' ').trim().replace(/\.$/, '').slice(0, 500);
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
}

/** undici reports "fetch failed" with the useful part (ECONNREFUSED, ...) in `cause`. */
function causeText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code} (${cause.message})` : cause.message;
  }
  return error.message;
}
