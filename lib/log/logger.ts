/**
 * JSON-lines logging, Kubernetes style: a message ("Created StatefulSet") plus key=value fields (cluster,
 * namespace, reason). Never pass a password, token or Secret data as a field.
 */

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds these fields to every line. */
  with(fields: Fields): Logger;
}

const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * @param write where lines go (default: stderr)
 * @param minimum lowest level written (default info; LOG_LEVEL=debug in the runtime lowers it)
 */
export function createLogger(
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  minimum: Level = 'info',
  base: Fields = {},
): Logger {
  const log = (level: Level) => (msg: string, fields?: Fields) => {
    if (order[level] < order[minimum]) return;
    write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...base, ...fields }));
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    with: (fields) => createLogger(write, minimum, { ...base, ...fields }),
  };
}

/** A logger that drops everything (tests and benchmarks). */
export const silentLogger: Logger = createLogger(() => undefined, 'error');
