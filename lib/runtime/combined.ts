/**
 * Every function in one host: one HTTP server answers each function under its registry name (`POST /on-create`,
 * `/on-update`, ...; a path below the name too), with the contract, timeout, metrics and `/healthz` of a
 * one-function host (host.ts; the Kubeless Node.js runtime,
 * https://github.com/vmware-archive/kubeless/blob/master/docs/runtimes.md). `/metrics` has one series per
 * function, told apart by the `function` label.
 *
 * Why: a one-function host idles at about 65 MiB, most of it the runtime and the libraries every bundle carries
 * (client-node, zod, the project's sync code); one process carries them once (issue 14). Knative and Kubeless keep
 * one function per pod: their platforms route to a function's Service.
 */
import type http from 'node:http';
import path from 'node:path';
import { FUNCTIONS, type FunctionSpec } from '../registry/functions';
import { createLogger } from '../log/logger';
import {
  createFunctionMetrics,
  functionInvoker,
  loadHandler,
  serveFunctions,
  type HostOptions,
  type Invoke,
  type KubelessHandler,
  type RunningHost,
} from './host';

/** Settings of the combined host: those of a one-function host, minus the function, plus every function's handler. */
export interface CombinedOptions extends Omit<HostOptions, 'handlerName' | 'moduleDir'> {
  /** a function's handler (e.g. {@link handlersFromDir}); may throw naming what is missing */
  handler: (spec: FunctionSpec) => KubelessHandler;
  /** the functions to serve; default all of the registry */
  functions?: readonly FunctionSpec[];
}

/**
 * @param functionsDir directory holding one directory per function, named like the function, with
 *   `<moduleName>.js` (the layout of `dist/functions`)
 * @returns a loader of each function's bundle, as the one-function host loads it (`loadHandler`)
 */
export function handlersFromDir(functionsDir: string, moduleName: string): (spec: FunctionSpec) => KubelessHandler {
  return (spec) => loadHandler(path.join(functionsDir, spec.name), moduleName, spec.export);
}

/** A running combined host. */
export interface CombinedHost extends RunningHost {
  /** function name → the path it answers on (`/<name>`) */
  paths: Record<string, string>;
}

/** @returns the function name a request path starts with (`/on-create`, `/on-create/x?y` → `on-create`) */
export function functionOfPath(url: string | undefined): string {
  return (url ?? '/').split(/[?#]/, 1)[0]!.split('/')[1] ?? '';
}

/**
 * Takes every function's handler (throws what `options.handler` throws), then listens. A request under no
 * function's name gets a 404.
 */
export async function startCombined(options: CombinedOptions): Promise<CombinedHost> {
  const log = options.log ?? createLogger();
  const metrics = createFunctionMetrics();
  const specs = options.functions ?? FUNCTIONS;
  const invokers = new Map<string, Invoke>();
  for (const spec of specs) {
    invokers.set(
      spec.name,
      functionInvoker({ ...options, moduleDir: '', handlerName: spec.export }, options.handler(spec), metrics, log),
    );
  }
  const route = (req: http.IncomingMessage) => invokers.get(functionOfPath(req.url));
  const served = await serveFunctions(options.port, options.host, metrics.registry, route, options.timeoutSeconds);
  const paths = Object.fromEntries(specs.map((s) => [s.name, `/${s.name}`]));
  log.info('Listening', { port: served.port, functions: Object.keys(paths) });
  return { ...served, paths };
}
