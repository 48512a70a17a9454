/**
 * The inventory from the API server: one @kubernetes/client-node informer (list, then
 * watch) per kind the node backend reads. Nothing is reported ready before every kind has
 * been listed once, so the agent never enforces a partial view of the cluster (which could
 * open or close traffic wrongly). An informer that fails is restarted with backoff; until
 * it is back, the last complete view stays in force.
 */
import { CoreV1Api, KubeConfig, makeInformer, type Informer, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { inventoryFromObjects, type Inventory } from '../inventory/index.js';

export interface ClusterInventoryOptions {
  /** A kubeconfig file; default: in-cluster service account, else $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  log: (line: string) => void;
  /** Called after any object of any kind changed (not during the initial lists). */
  onChange: () => void;
  /** First retry delay after an informer error; doubles up to 30 s. */
  retryMs?: number;
}

type Watched = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

const MAX_RETRY_MS = 30_000;

export function kubeConfigFrom(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file !== undefined) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

export class ClusterInventory {
  /** Grows with every change seen, so a caller can tell whether its last snapshot is stale. */
  version = 0;
  private readonly informers: { kind: string; informer: Watched }[];
  private stopped = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  private constructor(
    kc: KubeConfig,
    private readonly opts: ClusterInventoryOptions,
  ) {
    const api = kc.makeApiClient(CoreV1Api);
    this.informers = [
      { kind: 'Namespace', informer: makeInformer(kc, '/api/v1/namespaces', () => api.listNamespace()) as Watched },
      { kind: 'Node', informer: makeInformer(kc, '/api/v1/nodes', () => api.listNode()) as Watched },
      { kind: 'Pod', informer: makeInformer(kc, '/api/v1/pods', () => api.listPodForAllNamespaces()) as Watched },
      { kind: 'Service', informer: makeInformer(kc, '/api/v1/services', () => api.listServiceForAllNamespaces()) as Watched },
    ];
  }

  /** Starts the informers; resolves once every kind has been listed (retrying failed lists). */
  static async start(opts: ClusterInventoryOptions): Promise<ClusterInventory> {
    const source = new ClusterInventory(kubeConfigFrom(opts.kubeconfig), opts);
    await Promise.all(source.informers.map((w) => source.startOne(w)));
    return source;
  }

  private async startOne({ kind, informer }: { kind: string; informer: Watched }): Promise<void> {
    let listed = false;
    let retryMs = this.opts.retryMs ?? 500;
    const changed = (): void => {
      if (!listed) return; // the initial list is part of the first snapshot, not a change
      this.version++;
      this.opts.onChange();
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    // The informer stops on an error (other than an expired resource version); restart it.
    let restart: (() => void) | undefined;
    let failed = false;
    informer.on('error', (err: unknown) => {
      failed = true;
      if (this.stopped) return;
      this.opts.log(`${kind} informer: ${describe(err)}; retrying in ${retryMs} ms`);
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        restart?.();
      }, retryMs);
      this.retryTimers.add(timer);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    });
    await new Promise<void>((resolveListed) => {
      restart = (): void => {
        failed = false;
        informer.start().then(
          () => {
            // A failed list also resolves start(); the 'error' callback has scheduled a retry.
            if (this.stopped || failed) return;
            retryMs = this.opts.retryMs ?? 500;
            if (!listed) {
              listed = true;
              resolveListed();
            } else {
              // A relist after an error may have changed anything.
              this.version++;
              this.opts.onChange();
            }
          },
          () => undefined, // reported through the 'error' callback
        );
      };
      restart();
    });
  }

  /** The current view as an inventory (the same loader as inventory files). */
  snapshot(): { inventory: Inventory; diagnostics: Diagnostic[] } {
    const objects = this.informers.flatMap(({ kind, informer }) => informer.list().map((obj) => ({ obj: { ...obj, kind } })));
    return inventoryFromObjects(objects);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.retryTimers) clearTimeout(t);
    await Promise.all(this.informers.map(({ informer }) => informer.stop()));
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  const status = (err as { statusCode?: number; code?: number } | undefined)?.statusCode ?? (err as { code?: number } | undefined)?.code;
  return status !== undefined ? `HTTP ${status}` : String(err);
}
