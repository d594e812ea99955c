/**
 * A login check for tests against the real PostgreSQL behind the Patroni harness's pods: connect (TLS without
 * verification: the harness's certificate is self-signed), run `SELECT 1`, disconnect.
 */
import pg from 'pg';

/** @returns true when `user` logs in to `database` at `host`:5432 and runs a query, else the server's error message */
export async function login(
  host: string,
  user: string,
  password: string,
  database = 'postgres',
): Promise<true | string> {
  const client = new pg.Client({
    host,
    port: 5432,
    user,
    password,
    database,
    ssl: { rejectUnauthorized: false },
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}
