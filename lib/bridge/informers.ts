/**
 * Informers that keep running: client-node's ListWatch lists, calls `add` for every object, then watches from the
 * list's resourceVersion; after a 410 Gone it lists again by itself. Any other error stops it for good, so this
 * wrapper starts it again with exponential backoff (a restart resumes the watch from the last resourceVersion,
 * or lists again when the list itself failed).
 *
 * Source: @kubernetes/client-node 1.4.0 `cache.ts` (ListWatch) and `watch.ts`
 * (https://github.com/kubernetes-client/javascript/tree/1.4.0/src):
 * selectors are not passed to the list function, so it applies them itself; `stop()` fires a spurious
 * "aborted" error in 1.4.0, ignored here; there is no periodic resync.
 */
import { ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { LIST_PAGE_SIZE, type KubeClient, type KubeObject } from '../k8s/client';
import { resourceFor, resourcePath } from '../k8s/resources';
import { eventBody } from './cloudevent';
import type { Logger } from '../log/logger';
import type { BridgeMetrics } from './metrics';

/** What the informer reports. `delete` gets the last state the informer knew. */
export interface InformerHandlers {
  add(object: KubeObject): void;
  update(object: KubeObject): void;
  delete(object: KubeObject): void;
}

/** One watched collection. */
export interface InformerSpec {
  /** name for logs and metrics, e.g. `postgresql/ns1` */
  name: string;
  /** a kind of `lib/k8s/resources.ts`, e.g. `postgresql`, `ConfigMap`, `Node` */
  kind: string;
  /** the namespace; omitted for all namespaces or a cluster-scoped kind */
  namespace?: string;
  /** e.g. `metadata.name=postgres-operator` */
  fieldSelector?: string;
  /**
   * What the informer keeps of each object it lists or is sent, the rest is dropped at once: the cache holds every
   * object of the collection for as long as the bridge runs, so with ten thousand clusters a whole StatefulSet or
   * `managedFields` each is hundreds of MiB. Default `eventBody` (no `managedFields`, no Node `status.images`).
   * The result must keep `metadata.name`, `namespace` and `resourceVersion` (the cache's keys and versions).
   */
  keep?: Projection;
}

/** Keeps the part of an object the bridge uses (see `InformerSpec.keep`). */
export type Projection = (object: KubeObject) => KubeObject;

/** Restart backoff after an informer error. */
export interface InformerBackoff {
  /** first wait, ms; default 1000 */
  minMs: number;
  /** longest wait, ms; default 30000 */
  maxMs: number;
}

/**
 * @returns a list function for ListWatch: GETs of the collection with the field selector in pages of
 *   `LIST_PAGE_SIZE` (`limit` / `continue`), each page's items projected (`InformerSpec.keep`) before the next is
 *   read, returning the list object with the resourceVersion of the snapshot the pages come from (where the watch
 *   starts), with `apiVersion`/`kind` filled into each item as the watch events carry them.
 *   Source: Kubernetes API concepts, "Retrieving large results sets in chunks": every page of one list is served
 *   from the same snapshot, and its resourceVersion is the snapshot's.
 */
export function listFunction(
  client: KubeClient,
  spec: InformerSpec,
): () => Promise<KubernetesListObject<KubernetesObject>> {
  const { apiVersion } = resourceFor(spec.kind);
  const keep = spec.keep ?? eventBody;
  return async () => {
    const items: KubernetesObject[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const page: { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } } =
        await client.request({
          verb: 'list',
          kind: spec.kind,
          method: 'GET',
          path: resourcePath(spec.kind, spec.namespace),
          query: { fieldSelector: spec.fieldSelector, limit: String(LIST_PAGE_SIZE), continue: next },
        });
      resourceVersion ??= page.metadata?.resourceVersion;
      for (const item of page.items ?? []) items.push(keep({ apiVersion, kind: spec.kind, ...item }));
      next = page.metadata?.continue || undefined;
    } while (next);
    return { metadata: { resourceVersion }, items };
  };
}

/** A Watch whose added, modified and deleted objects are projected (`InformerSpec.keep`) before the cache sees them. */
class ProjectingWatch extends Watch {
  constructor(
    config: KubeClient['kubeConfig'],
    private readonly keep: Projection,
  ) {
    super(config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const project = (phase: string, object: unknown) =>
      phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? this.keep(object as KubeObject) : object;
    return super.watch(path, queryParams, (phase, object, raw) => callback(phase, project(phase, object), raw), done);
  }
}

/** An informer restarted on errors. */
export class ResilientInformer {
  private readonly listWatch: ListWatch<KubernetesObject>;
  private readonly log: Logger;
  private stopping = false;
  private current: Promise<void> = Promise.resolve();
  private failures = 0;
  private erroredDuringStart = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private resolveReady!: () => void;
  /** resolves once the first list has been delivered to the handlers */
  readonly ready: Promise<void>;

  constructor(
    client: KubeClient,
    readonly spec: InformerSpec,
    handlers: InformerHandlers,
    log: Logger,
    private readonly metrics: BridgeMetrics,
    private readonly backoff: InformerBackoff = { minMs: 1_000, maxMs: 30_000 },
  ) {
    this.log = log.with({ informer: spec.name });
    this.ready = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    this.listWatch = new ListWatch(
      resourcePath(spec.kind, spec.namespace),
      new ProjectingWatch(client.kubeConfig, spec.keep ?? eventBody),
      listFunction(client, spec),
      false,
      undefined,
      spec.fieldSelector,
    );
    // ListWatch 1.4.0 still calls back for a list that was in flight when stop() came: ignore those.
    this.listWatch.on('add', (object) => {
      if (!this.stopping) handlers.add(object);
    });
    this.listWatch.on('update', (object) => {
      if (!this.stopping) handlers.update(object);
    });
    this.listWatch.on('delete', (object) => {
      if (!this.stopping) handlers.delete(object);
    });
    this.listWatch.on('error', (error) => this.onError(error));
  }

  /** Starts listing and watching; returns at once (await `ready` for the first list). */
  start(): void {
    this.stopping = false;
    this.current = this.run();
  }

  /** Stops watching; no handler is called afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    await this.listWatch.stop();
    await this.current;
  }

  private async run(): Promise<void> {
    if (this.stopping) return;
    this.erroredDuringStart = false;
    try {
      await this.listWatch.start();
    } catch (error) {
      this.onError(error);
      return;
    }
    // A stop() during the list: ListWatch 1.4.0 opens the watch anyway, so close it again.
    if (this.stopping) {
      await this.listWatch.stop();
      return;
    }
    if (this.erroredDuringStart) return;
    if (this.failures > 0) this.log.info('informer running again', { failures: this.failures });
    this.failures = 0;
    this.resolveReady();
  }

  private onError(error: unknown): void {
    this.erroredDuringStart = true;
    if (this.stopping) return; // client-node 1.4.0 reports its own abort on stop()
    this.failures++;
    const delayMs = Math.min(this.backoff.minMs * 2 ** (this.failures - 1), this.backoff.maxMs);
    this.metrics.informerRestarts.inc({ informer: this.spec.name });
    this.log.warn('informer stopped on an error; restarting', {
      error: error instanceof Error ? error.message : String(error),
      failures: this.failures,
      restartInMs: delayMs,
    });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.current = this.run();
    }, delayMs);
  }
}
