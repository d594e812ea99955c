/**
 * Connections to a cluster's master as its superuser: where to connect (a host template, default the master
 * Service's DNS name), TLS, and three timeouts: connect, per statement (sent to the server as `statement_timeout`
 * and enforced on the client too) and overall (the session is closed when it runs out). One plain client per
 * sync, no pool, no transaction (CREATE DATABASE cannot run in one). `synchronous_commit` is `local` for the
 * session, so role changes never wait for a synchronous standby that may be down.
 *
 * Settings come from the environment (the operator config has no keys for them):
 * - `POSTGRES_HOST_TEMPLATE`: `host[:port]` with `{cluster}`, `{namespace}`, `{cluster_domain}`; default
 *   `{cluster}.{namespace}.svc.{cluster_domain}` and port 5432 (runs outside the cluster point it elsewhere);
 * - `POSTGRES_SSLMODE`: `disable`, `require` (default: encrypted, certificate not checked, as libpq's require and
 *   Zalando's operator) or `verify-full`;
 * - `POSTGRES_CONNECT_TIMEOUT` (default 5s), `POSTGRES_STATEMENT_TIMEOUT` (30s), `POSTGRES_OVERALL_TIMEOUT` (2m):
 *   Go durations such as `10s`.
 *
 * Source: node-postgres Client options (connectionTimeoutMillis, query_timeout, statement_timeout,
 * application_name, options, ssl); PostgreSQL docs, libpq sslmode, "Error Codes" (class 08, 28, 57P03);
 * Zalando postgres-operator (superuser connection to `<cluster>.<namespace>.svc.<cluster_domain>`, db postgres).
 */
import type pg from 'pg';
import { parseDuration } from '../model/config/syntax';

/** Where and how to connect. `password` is a secret: never log the settings object. */
export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  ssl: 'disable' | 'require' | 'verify-full';
  /** ms */
  connectTimeoutMs: number;
  /** ms, per statement */
  statementTimeoutMs: number;
  /** ms, for the whole session */
  overallTimeoutMs: number;
  applicationName: string;
}

/** The settings that do not depend on the cluster, read from the environment. */
export interface ConnectionDefaults {
  hostTemplate: string;
  ssl: ConnectionSettings['ssl'];
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  overallTimeoutMs: number;
}

/** Default host: the master Service of the cluster. */
export const DEFAULT_HOST_TEMPLATE = '{cluster}.{namespace}.svc.{cluster_domain}';
/** Shown in `pg_stat_activity`. */
export const APPLICATION_NAME = 'postgres-operator-functions';

const duration = (env: Record<string, string | undefined>, key: string, fallback: number): number => {
  const text = env[key];
  if (!text) return fallback;
  const parsed = parseDuration(text);
  if (!parsed.ok || parsed.value <= 0)
    throw new Error(
      `invalid ${key} ${JSON.stringify(text)}: expected ${parsed.ok ? 'a positive duration' : parsed.expected}`,
    );
  return parsed.value;
};

/**
 * @param env the process environment
 * @returns the defaults; throws Error naming the variable when a value is invalid
 */
export function connectionDefaults(env: Record<string, string | undefined>): ConnectionDefaults {
  const ssl = env.POSTGRES_SSLMODE || 'require';
  if (ssl !== 'disable' && ssl !== 'require' && ssl !== 'verify-full') {
    throw new Error(`invalid POSTGRES_SSLMODE ${JSON.stringify(ssl)}: expected disable, require or verify-full`);
  }
  return {
    hostTemplate: env.POSTGRES_HOST_TEMPLATE || DEFAULT_HOST_TEMPLATE,
    ssl,
    connectTimeoutMs: duration(env, 'POSTGRES_CONNECT_TIMEOUT', 5_000),
    statementTimeoutMs: duration(env, 'POSTGRES_STATEMENT_TIMEOUT', 30_000),
    overallTimeoutMs: duration(env, 'POSTGRES_OVERALL_TIMEOUT', 120_000),
  };
}

/**
 * @returns host and port from the template (`host`, `host:port`, `[v6]:port`) with the placeholders filled in;
 *   throws Error for a port that is not a number between 1 and 65535
 */
export function masterAddress(
  template: string,
  cluster: string,
  namespace: string,
  clusterDomain: string,
): { host: string; port: number } {
  const text = template
    .replaceAll('{cluster}', cluster)
    .replaceAll('{namespace}', namespace)
    .replaceAll('{cluster_domain}', clusterDomain);
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text);
  if (!match)
    throw new Error(`invalid POSTGRES_HOST_TEMPLATE result ${JSON.stringify(text)}: expected host or host:port`);
  const port = match[2] === undefined ? 5432 : Number(match[2]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`invalid port in ${JSON.stringify(text)}`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** A failed connection or statement, with the SQLSTATE when the server sent one. */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'PostgresError';
  }
}

/** SQLSTATEs worth retrying later: connection problems, server starting or shutting down, timeouts, locks. */
const RETRYABLE_STATES = /^(08|53|57P0[1-4]|55P03|40001|40P01|57014)/;

/** @returns the error as a PostgresError (message without any statement text) */
export function toPostgresError(error: unknown, what: string): PostgresError {
  if (error instanceof PostgresError) return error;
  const e = error as { code?: string; message?: string };
  const code = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const network = typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code);
  const retryable =
    network ||
    (code !== undefined && RETRYABLE_STATES.test(code)) ||
    /timeout|terminated|ECONNREFUSED|ENOTFOUND|EAI_AGAIN/i.test(e.message ?? '');
  return new PostgresError(
    `${what}: ${e.message ?? String(error)}${code ? ` (SQLSTATE ${code})` : ''}`,
    code,
    retryable,
  );
}

/** One connection with an overall deadline. */
export class PgSession {
  private timedOut = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort: () => void;

  private constructor(
    private readonly client: pg.Client,
    private readonly settings: ConnectionSettings,
    private readonly signal?: AbortSignal,
  ) {
    const stop = () => {
      void this.client.end().catch(() => undefined);
    };
    this.timer = setTimeout(() => {
      this.timedOut = true;
      stop();
    }, settings.overallTimeoutMs);
    this.timer.unref();
    this.onAbort = stop;
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /**
   * Connects; throws PostgresError (retryable for network errors, timeouts and a server not accepting
   * connections yet; not for a wrong password).
   */
  static async open(settings: ConnectionSettings, signal?: AbortSignal): Promise<PgSession> {
    if (signal?.aborted)
      throw new PostgresError(`connect to ${settings.host}:${settings.port}: aborted`, undefined, true);
    // Loaded here, not at start: only syncs that reach a database need pg, and on Node 20 its load probes `Response`,
    // which loads Node's fetch implementation: ~30 ms CPU of a cold host (bench/README.md, "cold-start").
    const { Client } = (await import('pg')).default;
    const client = new Client({
      host: settings.host,
      port: settings.port,
      user: settings.user,
      password: settings.password,
      database: settings.database,
      ssl: settings.ssl === 'disable' ? false : { rejectUnauthorized: settings.ssl === 'verify-full' },
      connectionTimeoutMillis: settings.connectTimeoutMs,
      statement_timeout: settings.statementTimeoutMs,
      lock_timeout: settings.statementTimeoutMs,
      query_timeout: settings.statementTimeoutMs + 1_000,
      application_name: APPLICATION_NAME,
      options: '-c synchronous_commit=local',
      keepAlive: true,
    });
    client.on('error', () => undefined); // a dropped connection surfaces as the failure of the running query
    const session = new PgSession(client, settings, signal);
    try {
      await client.connect();
    } catch (error) {
      await session.close();
      throw session.describe(error, `connect to ${settings.host}:${settings.port} as ${settings.user}`);
    }
    return session;
  }

  private describe(error: unknown, what: string): PostgresError {
    if (this.timedOut)
      return new PostgresError(
        `${what}: the overall timeout of ${this.settings.overallTimeoutMs} ms ran out`,
        undefined,
        true,
      );
    if (this.signal?.aborted) return new PostgresError(`${what}: aborted`, undefined, true);
    return toPostgresError(error, what);
  }

  /**
   * Runs one statement (with `$n` values for queries; DDL takes none).
   * @param what how to name the statement in an error (never the SQL text: it may hold a password verifier)
   * @returns the rows; throws PostgresError
   */
  async query<T extends Record<string, unknown>>(
    text: string,
    values: unknown[] | undefined,
    what: string,
  ): Promise<T[]> {
    try {
      const result = await this.client.query<T>(text, values);
      return result.rows;
    } catch (error) {
      throw this.describe(error, what);
    }
  }

  /** Closes the connection (safe to call twice). */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    await this.client.end().catch(() => undefined);
  }
}
