/**
 * A function host compatible with the Kubeless Node.js runtime contract (runtime research §2), so the same bundle
 * runs under Kubeless, under this host in a plain Deployment, and as a local process:
 *
 * - env: `MOD_NAME` (module file `<KUBELESS_INSTALL_VOLUME>/<MOD_NAME>.js`, default volume `/kubeless`),
 *   `FUNC_HANDLER` (the export), `FUNC_PORT` (default 8080), `FUNC_TIMEOUT` (seconds, default 180),
 *   `FUNC_RUNTIME`, `FUNC_MEMORY_LIMIT`, `REQ_MB_LIMIT` (body limit in MB, default 1);
 * - routes: `GET /healthz` → 200 `OK`; `GET /metrics` → Prometheus text; `OPTIONS` → 200 with CORS headers;
 *   any other method and path → the function;
 * - `event`: `{data, 'event-type', 'event-id', 'event-time', 'event-namespace', extensions: {request, response}}`,
 *   where `data` is the parsed JSON body (`{}` when empty) or the body as a string, and `response` offers
 *   Express' `status(code)` and `set(name, value)`;
 * - `context`: `{'function-name', timeout, runtime, 'memory-limit'}`;
 * - result: a string is sent as is, anything else as JSON, `undefined` as an empty 200; a throw is a 500.
 *   With `FUNC_EMPTY_SUCCESS_REPLY=true` a 2xx answer has no body (the result is only logged): a Knative Broker
 *   takes a non-empty answer that is not a CloudEvent for a failed delivery
 *   (https://github.com/knative/eventing/blob/v0.48.2/pkg/broker/filter/filter_handler.go, `writeResponse`).
 *
 * Beyond Kubeless: a handler still running at `FUNC_TIMEOUT` gets a 408 reply (Kubeless can only stop synchronous
 * loops), invalid JSON gets a 400 naming the problem instead of a 500, the module is loaded once at start so a
 * broken bundle fails fast, and logs are JSON lines. Metrics (prom-client): `function_calls_total`,
 * `function_failures_total`, `function_duration_seconds`, labelled like Kubeless' (`method="<MOD_NAME>-<HTTP
 * method>"`) plus `function="<FUNC_HANDLER>"`.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Counter, Histogram, Registry } from 'prom-client';
import { closeIdleSockets, collectProcessMetrics, QUIET_SERVER_OPTIONS } from './idle';
import { createLogger, type Logger } from '../log/logger';

/** The host's settings, from the Kubeless env vars (see the module comment). */
export interface HostOptions {
  moduleName: string;
  handlerName: string;
  /** directory holding `<moduleName>.js` */
  moduleDir: string;
  /** TCP port; 0 picks a free one */
  port: number;
  /** listen address; default all interfaces, like Kubeless */
  host?: string;
  /** seconds a handler may run before the host replies 408 */
  timeoutSeconds: number;
  runtime?: string;
  memoryLimit?: string;
  /** request body limit in bytes */
  bodyLimitBytes: number;
  /** answer a 2xx without a body (env FUNC_EMPTY_SUCCESS_REPLY=true; the knative target sets it) */
  emptySuccessReply?: boolean;
  /**
   * path of the host's own metrics (env FUNC_METRICS_PATH, default `/metrics`): the operator API answers `/metrics`
   * itself (per-cluster metrics), so its host serves the call metrics elsewhere
   */
  metricsPath?: string;
  log?: Logger;
}

/** A handler as Kubeless calls it. */
export type KubelessHandler = (event: unknown, context: unknown) => unknown;

/** A running host. */
export interface RunningHost {
  port: number;
  /** stops accepting requests and waits up to `graceMs` for the ones in flight */
  close(graceMs?: number): Promise<void>;
}

/** @returns host options from the environment, with Kubeless' defaults; throws when MOD_NAME or FUNC_HANDLER is missing */
export function hostOptionsFromEnv(env: NodeJS.ProcessEnv): HostOptions {
  if (!env.MOD_NAME || !env.FUNC_HANDLER)
    throw new Error('MOD_NAME and FUNC_HANDLER must be set (e.g. MOD_NAME=handler FUNC_HANDLER=onCreate)');
  return {
    moduleName: env.MOD_NAME,
    handlerName: env.FUNC_HANDLER,
    moduleDir: env.KUBELESS_INSTALL_VOLUME ?? '/kubeless',
    port: Number(env.FUNC_PORT ?? 8080),
    host: env.FUNC_HOST,
    timeoutSeconds: Number(env.FUNC_TIMEOUT ?? 180),
    runtime: env.FUNC_RUNTIME,
    memoryLimit: env.FUNC_MEMORY_LIMIT,
    bodyLimitBytes: Number(env.REQ_MB_LIMIT ?? 1) * 1024 * 1024,
    emptySuccessReply: env.FUNC_EMPTY_SUCCESS_REPLY === 'true',
    ...(env.FUNC_METRICS_PATH ? { metricsPath: env.FUNC_METRICS_PATH } : {}),
  };
}

/** Loads the handler the way Kubeless does: `require` the module file, take the export (or the module itself). */
export function loadHandler(moduleDir: string, moduleName: string, handlerName: string): KubelessHandler {
  const file = path.resolve(moduleDir, `${moduleName}.js`);
  // An absolute file needs no resolution base; using its own path keeps this working in ESM and in a CJS bundle.
  const mod = createRequire(file)(file) as Record<string, unknown> | KubelessHandler;
  const handler = typeof mod === 'function' ? mod : mod[handlerName];
  if (typeof handler !== 'function') throw new Error(`${file} has no export ${handlerName}`);
  return handler as KubelessHandler;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so the client still gets the 413 reply.
      if (size > limit) reject(new HttpError(413, `request body larger than ${limit} bytes`));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseData(req: http.IncomingMessage, body: Buffer): unknown {
  if (body.length === 0) return {};
  const text = body.toString('utf8');
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `invalid JSON body: ${(error as Error).message}`);
  }
}

/** Express-like methods Kubeless handlers use on `event.extensions.response`. */
function responseShim(res: http.ServerResponse) {
  return Object.assign(res, {
    status(code: number) {
      res.statusCode = code;
      return res;
    },
    set(name: string, value: string) {
      res.setHeader(name, value);
      return res;
    },
  });
}

function send(res: http.ServerResponse, result: unknown): void {
  if (res.writableEnded) return;
  if (result === undefined) {
    res.end();
    return;
  }
  if (typeof result === 'string' || Buffer.isBuffer(result)) {
    res.end(result);
    return;
  }
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(result));
}

/** The call metrics of a host (one set per process, told apart by the `function` label). */
export interface FunctionMetrics {
  registry: Registry;
  calls: Counter<'method' | 'function'>;
  failures: Counter<'method' | 'function'>;
  duration: Histogram<'method' | 'function'>;
}

/** @returns a new registry with prom-client's process metrics and the three call metrics of the module comment */
export function createFunctionMetrics(): FunctionMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const labelNames = ['method', 'function'] as const;
  const registers = [registry];
  return {
    registry,
    calls: new Counter({
      name: 'function_calls_total',
      help: 'Number of calls to the function',
      labelNames,
      registers,
    }),
    failures: new Counter({
      name: 'function_failures_total',
      help: 'Number of failed calls (500 or 408)',
      labelNames,
      registers,
    }),
    duration: new Histogram({
      name: 'function_duration_seconds',
      help: 'Duration of calls in seconds',
      labelNames,
      registers,
    }),
  };
}

/** A request handler answering calls of one function; resolves when the answer is sent. */
export type Invoke = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/**
 * @param options the function's settings (`port` and `host` unused)
 * @returns the call of one function as the module comment describes it: body parsed, handler run against
 *   `FUNC_TIMEOUT`, result or error sent, metrics counted and one log line written
 */
export function functionInvoker(
  options: HostOptions,
  handler: KubelessHandler,
  metrics: FunctionMetrics,
  baseLog: Logger,
): Invoke {
  const log = baseLog.with({ function: options.handlerName });
  const { calls, failures, duration } = metrics;
  const context = {
    'function-name': options.handlerName,
    timeout: options.timeoutSeconds,
    runtime: options.runtime,
    'memory-limit': options.memoryLimit,
  };
  return async function invoke(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const labels = { method: `${options.moduleName}-${req.method}`, function: options.handlerName };
    const stop = duration.startTimer(labels);
    calls.inc(labels);
    const started = process.hrtime.bigint();
    try {
      const data = parseData(req, await readBody(req, options.bodyLimitBytes));
      const header = (name: string) => req.headers[name] as string | undefined;
      const event = {
        data,
        'event-type': header('event-type'),
        'event-id': header('event-id'),
        'event-time': header('event-time'),
        'event-namespace': header('event-namespace'),
        extensions: { request: req, response: responseShim(res) },
      };
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new HttpError(408, `the function did not finish within ${options.timeoutSeconds} s`)),
          options.timeoutSeconds * 1000,
        );
      });
      try {
        const result = await Promise.race([Promise.resolve(handler(event, context)), timeout]);
        if (options.emptySuccessReply && res.statusCode < 300 && !res.writableEnded) {
          log.debug('Function result', { result });
          res.end();
        } else send(res, result);
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      if (status >= 500 || status === 408) failures.inc(labels);
      log.error('Function call failed', { status, error: (error as Error).message });
      if (!res.headersSent) {
        res.statusCode = status;
        if (status === 413) res.setHeader('Connection', 'close');
        send(res, status === 500 ? 'Internal Server Error' : { code: status, message: (error as Error).message });
      } else res.end();
    } finally {
      stop();
      log.info('Handled request', {
        method: req.method,
        path: req.url,
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        eventId: req.headers['ce-id'] ?? req.headers['event-id'],
      });
    }
  };
}

/**
 * Serves `GET /healthz`, `GET /metrics` (of `registry`) and `OPTIONS` as the module comment says, and hands every
 * other request to `route`, keeping the calls in flight for `close()`.
 * @param route answers a call; undefined when nothing serves that path (then a 404)
 * @param timeoutSeconds the calls' timeout (`FUNC_TIMEOUT`): a connection silent 10 s longer is closed
 * @returns once listening on `port` (0: a free one); rejects when the port cannot be bound
 */
export async function serveFunctions(
  port: number,
  host: string | undefined,
  registry: Registry,
  route: (req: http.IncomingMessage) => Invoke | undefined,
  timeoutSeconds = 180,
  metricsPath = '/metrics',
): Promise<RunningHost> {
  const inFlight = new Set<Promise<unknown>>();
  const server = http.createServer(QUIET_SERVER_OPTIONS, (req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'GET' && req.url === '/healthz') {
      res.end('OK');
      return;
    }
    if (req.method === 'GET' && req.url === metricsPath) {
      registry.metrics().then(
        (text) => {
          res.setHeader('Content-Type', registry.contentType);
          res.end(text);
        },
        (error: Error) => {
          res.statusCode = 500;
          res.end(error.message);
        },
      );
      return;
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '*');
      res.setHeader('Access-Control-Allow-Methods', req.headers['access-control-request-method'] ?? '*');
      res.end();
      return;
    }
    const invoke = route(req);
    if (!invoke) {
      res.statusCode = 404;
      res.end(`no function at ${req.url}`);
      return;
    }
    const call = invoke(req, res);
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
  });
  // A call answers within its timeout (408 then): a connection silent for longer is gone.
  closeIdleSockets(server, (timeoutSeconds + 10) * 1000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    async close(graceMs = 10_000) {
      server.close();
      server.closeIdleConnections();
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
      ]);
      server.closeAllConnections();
    },
  };
}

/** Starts the host; the handler module is loaded before it listens. */
export async function startHost(options: HostOptions): Promise<RunningHost> {
  const log = options.log ?? createLogger();
  const handler = loadHandler(options.moduleDir, options.moduleName, options.handlerName);
  const metrics = createFunctionMetrics();
  const invoke = functionInvoker(options, handler, metrics, log);
  const served = await serveFunctions(
    options.port,
    options.host,
    metrics.registry,
    () => invoke,
    options.timeoutSeconds,
    options.metricsPath,
  );
  log.with({ function: options.handlerName }).info('Listening', {
    port: served.port,
    module: path.resolve(options.moduleDir, `${options.moduleName}.js`),
  });
  return served;
}
