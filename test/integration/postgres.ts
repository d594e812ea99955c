/**
 * A real PostgreSQL for tests: `initdb` in a temp dir, started with `pg_ctl` on a free loopback port, password
 * authentication over TCP (md5 or scram-sha-256, also the `password_encryption` of the server), stopped and
 * removed by `stop()` (and at process exit if a test forgot). As root (containers), the server runs as the
 * `postgres` user through `runuser`, since initdb refuses to run as root.
 *
 * Binaries: `$PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A running test server. */
export interface TestPostgres {
  host: string;
  port: number;
  /** the bootstrap superuser (`postgres`) and its password (set this after changing it: `admin()` uses it) */
  superuser: string;
  password: string;
  auth: 'md5' | 'scram-sha-256';
  /** a connected client as the superuser (closed by `stop`) */
  admin(): Promise<pg.Client>;
  /** @returns true when `user` can log in with `password`, else the server's error message */
  login(user: string, password: string, database?: string): Promise<true | string>;
  /** the server log so far (the server logs every DDL statement: `log_statement = 'ddl'`) */
  log(): string;
  /** stops the server and removes its directory */
  stop(): Promise<void>;
}

/** @returns the directory of initdb/pg_ctl; throws when PostgreSQL is not installed */
export function postgresBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const bin = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  if (!bin) throw new Error('PostgreSQL server binaries not found: install postgresql (initdb, pg_ctl) or set PG_BIN');
  return bin;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Runs a server binary, as `postgres` when we are root. */
function run(bin: string, args: string[]): void {
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const result = spawnSync(command, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
}

const running = new Set<() => void>();
process.on('exit', () => {
  for (const stop of running) stop();
});

/**
 * Starts a server.
 * @param auth pg_hba method for TCP connections and the server's password_encryption
 */
export async function startPostgres(
  auth: 'md5' | 'scram-sha-256' = 'scram-sha-256',
  password = 'bootstrap-superuser-password',
): Promise<TestPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'pg-test-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`);
  chmodSync(pwfile, 0o600);
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  run(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    `--pwfile=${pwfile}`,
    `--auth-host=${auth}`,
    '--auth-local=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const port = await freePort();
  appendFileSync(
    join(data, 'postgresql.conf'),
    [
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      `password_encryption = '${auth}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 40',
      "shared_buffers = '16MB'",
      "log_statement = 'ddl'",
      '',
    ].join('\n'),
  );
  run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const stopNow = () => {
    spawnSync(
      asRoot ? 'runuser' : join(bin, 'pg_ctl'),
      asRoot
        ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']
        : ['-D', data, '-m', 'immediate', '-w', 'stop'],
    );
    rmSync(dir, { recursive: true, force: true });
  };
  running.add(stopNow);
  const admins: pg.Client[] = [];
  const host = '127.0.0.1';
  const handle: TestPostgres = {
    host,
    port,
    superuser: 'postgres',
    password,
    auth,
    async admin() {
      const client = new pg.Client({ host, port, user: 'postgres', password: handle.password, database: 'postgres' });
      await client.connect();
      admins.push(client);
      return client;
    },
    async login(user, userPassword, database = 'postgres') {
      const client = new pg.Client({
        host,
        port,
        user,
        password: userPassword,
        database,
        connectionTimeoutMillis: 5000,
      });
      try {
        await client.connect();
        return true;
      } catch (error) {
        return (error as Error).message;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    log: () => readFileSync(join(dir, 'server.log'), 'utf8'),
    async stop() {
      await Promise.all(admins.map((c) => c.end().catch(() => undefined)));
      running.delete(stopNow);
      stopNow();
    },
  };
  return handle;
}
