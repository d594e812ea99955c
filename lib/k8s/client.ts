/**
 * The operator's only Kubernetes client. Every request goes through `request()`, which applies the kubeconfig's
 * credentials (through @kubernetes/client-node), a per-request timeout, and counts the request by verb, so tests
 * and benchmarks can assert "no write requests" and report requests per sync.
 *
 * Source: Kubernetes API concepts ("API verbs", "Server-Side Apply", status subresource); client-node KubeConfig.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';
// The config module alone: the package root also loads watch, exec, cp and their dependencies (ws, tar, ~200 KiB
// per function bundle) that this client never uses.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { KubeApiError } from './errors';
import { nameOf } from './meta';
import { resourceFor, resourcePath } from './resources';

/** Kubernetes verbs as counted: reads (get, list) and writes (create, apply, patch, update, delete). */
export type Verb = 'get' | 'list' | 'create' | 'apply' | 'patch' | 'update' | 'delete';
export const WRITE_VERBS: readonly Verb[] = ['create', 'apply', 'patch', 'update', 'delete'];

/** A reference to one object. */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

/**
 * Any Kubernetes object as read from the API: typed metadata (`V1ObjectMeta`), the rest read field by field. Code
 * that reads a kind's fields types it with that kind's model instead (`client.get<V1Pod>(...)`).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- spec and status differ by kind; see above
export type KubeObject = { apiVersion?: string; kind?: string; metadata?: V1ObjectMeta; [key: string]: any };

/** An object to create or apply: its kind, name and namespace are what the request needs. */
export type ObjectToWrite = {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: unknown[];
    finalizers?: string[];
    resourceVersion?: string;
  };
  [key: string]: unknown;
};

/** A resourceVersion no stored object has: 2^64-1, above every etcd revision (signed 64-bit). See `applyNew`. */
const NO_STORED_VERSION = '18446744073709551615';

/**
 * Items per page of a LIST (`limit`); the rest follows with `continue`. Source: Kubernetes API concepts,
 * "Retrieving large results sets in chunks" (https://kubernetes.io/docs/reference/using-api/api-concepts/).
 */
export const LIST_PAGE_SIZE = 500;

export interface KubeClientOptions {
  /** server-side apply field manager; default `postgres-operator-functions` */
  fieldManager?: string;
  /** per-request timeout in ms; default 10000 */
  timeoutMs?: number;
}

interface RequestOptions {
  verb: Verb;
  kind: string;
  method: string;
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** Requests by verb, and by `verb kind` (e.g. `apply StatefulSet`). */
export class RequestCounter {
  readonly byVerb = new Map<Verb, number>();
  readonly byResource = new Map<string, number>();
  count(verb: Verb, kind: string): void {
    this.byVerb.set(verb, (this.byVerb.get(verb) ?? 0) + 1);
    const key = `${verb} ${kind}`;
    this.byResource.set(key, (this.byResource.get(key) ?? 0) + 1);
  }
  /** @returns the number of write requests (create, apply, patch, update, delete) */
  writes(): number {
    return WRITE_VERBS.reduce((sum, verb) => sum + (this.byVerb.get(verb) ?? 0), 0);
  }
  total(): number {
    return [...this.byVerb.values()].reduce((a, b) => a + b, 0);
  }
  reset(): void {
    this.byVerb.clear();
    this.byResource.clear();
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.byVerb.entries()].sort());
  }
}

/** A small typed layer over the Kubernetes REST API. */
export class KubeClient {
  readonly counter = new RequestCounter();
  readonly fieldManager: string;
  private readonly timeoutMs: number;
  private readonly server: URL;
  private readonly agent: http.Agent;

  constructor(
    readonly kubeConfig: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.fieldManager = options.fieldManager ?? 'postgres-operator-functions';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.agent =
      this.server.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** A client from $KUBECONFIG, ~/.kube/config or the in-cluster service account, in that order. */
  static fromDefault(options?: KubeClientOptions): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubeClient(kc, options);
  }

  /** Closes idle keep-alive connections (lets a process exit promptly). */
  close(): void {
    this.agent.destroy();
  }

  /** @returns the object, or undefined when it does not exist */
  async get<T = KubeObject>(ref: ObjectRef, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return await this.request<T>({
        verb: 'get',
        kind: ref.kind,
        method: 'GET',
        path: resourcePath(ref.kind, ref.namespace, ref.name),
        signal,
      });
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** @returns the items of a kind in a namespace (all namespaces when omitted), optionally by label selector */
  async list<T = KubeObject>(
    kind: string,
    namespace?: string,
    labelSelector?: string,
    signal?: AbortSignal,
  ): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.listPages<T>(kind, namespace, { labelSelector }, signal)) items.push(...page);
    return items;
  }

  /**
   * Lists in pages of LIST_PAGE_SIZE (`limit` / `continue`), so a fleet of thousands is never one huge answer held
   * in memory twice (the text and the parsed list), and a caller that keeps only part of each item never holds
   * more than a page of whole ones.
   * @param selectors `labelSelector` and `fieldSelector`, as the API takes them
   * @returns the pages' items, with `apiVersion`/`kind` filled in (items of a list carry none) so that they compare
   *   like objects read one by one; throws KubeApiError when a page fails
   */
  async *listPages<T = KubeObject>(
    kind: string,
    namespace?: string,
    selectors: { labelSelector?: string; fieldSelector?: string } = {},
    signal?: AbortSignal,
  ): AsyncGenerator<T[]> {
    const { apiVersion } = resourceFor(kind);
    let next: string | undefined;
    do {
      const page: { items?: T[]; metadata?: { continue?: string } } = await this.request({
        verb: 'list',
        kind,
        method: 'GET',
        path: resourcePath(kind, namespace),
        query: { ...selectors, limit: String(LIST_PAGE_SIZE), continue: next },
        signal,
      });
      next = page.metadata?.continue || undefined;
      yield (page.items ?? []).map((item) => ({ apiVersion, kind, ...item }));
    } while (next);
  }

  /** Server-side apply with the operator's field manager and `force` (the operator owns the fields it sets). */
  async apply<T = KubeObject>(object: ObjectToWrite, signal?: AbortSignal): Promise<T> {
    const name = nameOf(object);
    return this.request<T>({
      verb: 'apply',
      kind: object.kind!,
      method: 'PATCH',
      path: resourcePath(object.kind!, object.metadata?.namespace, name),
      query: { fieldManager: this.fieldManager, force: 'true' },
      body: object,
      contentType: 'application/apply-patch+yaml',
      signal,
    });
  }

  /**
   * Server-side apply that only creates: the object is sent with `metadata.resourceVersion` set to 2^64-1, which
   * no stored object has (etcd revisions are signed 64-bit numbers). The API server ignores the resourceVersion
   * when the apply creates the object, and checks it as a precondition when the object exists, answering 409
   * Conflict without changing it ("Server-Side Apply", https://kubernetes.io/docs/reference/using-api/server-side-apply/;
   * resourceVersion as an optimistic-concurrency precondition, "API Concepts"). Unlike a POST, the fields are owned
   * as an apply's (operation `Apply`), so a later apply removes what the operator stops setting.
   * @returns the created object; throws KubeApiError 409 when it exists, or as `apply` does
   */
  async applyNew<T = KubeObject>(object: ObjectToWrite, signal?: AbortSignal): Promise<T> {
    return this.apply<T>({ ...object, metadata: { ...object.metadata, resourceVersion: NO_STORED_VERSION } }, signal);
  }

  /** Creates an object. */
  async create<T = KubeObject>(object: ObjectToWrite, signal?: AbortSignal): Promise<T> {
    if (!object.metadata) throw new Error(`a ${object.kind} to create needs metadata`);
    return this.request<T>({
      verb: 'create',
      kind: object.kind!,
      method: 'POST',
      path: resourcePath(object.kind!, object.metadata.namespace),
      body: object,
      query: { fieldManager: this.fieldManager },
      signal,
    });
  }

  /** JSON merge patch of an object, or of its status subresource. */
  async mergePatch<T = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    subresource?: 'status',
    signal?: AbortSignal,
  ): Promise<T> {
    return this.request<T>({
      verb: 'patch',
      kind: ref.kind,
      method: 'PATCH',
      path: resourcePath(ref.kind, ref.namespace, ref.name) + (subresource ? `/${subresource}` : ''),
      body: patch,
      contentType: 'application/merge-patch+json',
      query: { fieldManager: this.fieldManager },
      signal,
    });
  }

  /** JSON patch (RFC 6902), e.g. with a `test` of the resourceVersion for optimistic concurrency. */
  async jsonPatch<T = KubeObject>(ref: ObjectRef, operations: unknown[], signal?: AbortSignal): Promise<T> {
    return this.request<T>({
      verb: 'patch',
      kind: ref.kind,
      method: 'PATCH',
      path: resourcePath(ref.kind, ref.namespace, ref.name),
      body: operations,
      contentType: 'application/json-patch+json',
      query: { fieldManager: this.fieldManager },
      signal,
    });
  }

  /**
   * Deletes an object; a missing object is not an error.
   * @param preconditions delete only this incarnation (`uid`) or version (`resourceVersion`); a mismatch throws
   *   KubeApiError 409 (meta/v1 DeleteOptions.preconditions)
   * @returns whether a delete request found the object
   */
  async delete(
    ref: ObjectRef,
    propagationPolicy?: 'Orphan' | 'Background' | 'Foreground',
    signal?: AbortSignal,
    preconditions?: { uid?: string; resourceVersion?: string },
  ): Promise<boolean> {
    const options = {
      ...(propagationPolicy ? { propagationPolicy } : {}),
      ...(preconditions ? { preconditions } : {}),
    };
    try {
      await this.request({
        verb: 'delete',
        kind: ref.kind,
        method: 'DELETE',
        path: resourcePath(ref.kind, ref.namespace, ref.name),
        body: Object.keys(options).length ? { kind: 'DeleteOptions', apiVersion: 'v1', ...options } : undefined,
        signal,
      });
      return true;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return false;
      throw error;
    }
  }

  /** Sends one request; throws KubeApiError for non-2xx answers, network errors and timeouts. */
  async request<T>(options: RequestOptions): Promise<T> {
    const url = new URL(options.path, this.server);
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    const described = `${options.verb} ${url.pathname}`;
    const requestOptions: https.RequestOptions = { method: options.method, headers: { Accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(requestOptions);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) {
      requestOptions.headers = {
        ...requestOptions.headers,
        'Content-Type': options.contentType ?? 'application/json',
        'Content-Length': Buffer.byteLength(body),
      };
    }
    requestOptions.agent = this.agent;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    requestOptions.signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    this.counter.count(options.verb, options.kind);
    const transport = url.protocol === 'https:' ? https : http;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = transport.request(url, requestOptions, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (error) =>
        reject(new KubeApiError(0, error.name === 'AbortError' ? 'Timeout' : 'NetworkError', error.message, described)),
      );
      req.end(body);
    });
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    let reason = 'Unknown';
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { reason?: string; message?: string };
      reason = parsed.reason ?? reason;
      message = parsed.message ?? message;
    } catch {
      /* not a Status object: keep the text */
    }
    throw new KubeApiError(status, reason, message, described);
  }
}
