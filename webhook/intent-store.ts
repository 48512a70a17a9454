/**
 * The intents (and inventory namespaces) the webhook serves, reloaded when their files
 * change. A set that fails to compile is refused: the last good one keeps serving and
 * the store says it is stale.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DiagnosticError, hasErrors, sortDiagnostics, type Diagnostic } from '../src/diagnostics/diagnostic.js';
import { formatSpan } from '../src/diagnostics/span.js';
import { diag } from '../src/diagnostics/diagnostic.js';
import { loadInventory } from '../src/inventory/index.js';
import type { AdmissionContext, CniFlavour } from '../src/admission/index.js';
import type { Ir } from '../src/ir/types.js';
import type { IntentCompiler } from './compiler.js';
import { watchDebounced, type DebouncedWatch } from './watch.js';

export interface AdmissionState {
  ir: Ir;
  /** Namespace name → labels, from the inventory file (empty without one). */
  namespaces: Map<string, Record<string, string>>;
}

/** Compiles PATHS and reads the inventory; diagnostics with errors mean no state. */
export async function loadAdmissionState(
  compiler: IntentCompiler,
  paths: string[],
  inventoryPath: string | undefined,
): Promise<{ state?: AdmissionState; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const namespaces = new Map<string, Record<string, string>>();
  if (inventoryPath !== undefined) {
    let text: string;
    try {
      text = await readFile(inventoryPath, 'utf8');
    } catch (e) {
      return { diagnostics: [diag('NI9001', undefined, [inventoryPath, (e as Error).message])] };
    }
    const loaded = loadInventory(inventoryPath, text);
    diagnostics.push(...loaded.diagnostics);
    for (const ns of loaded.inventory.namespaces) namespaces.set(ns.name, ns.labels);
  }
  const compiled = await compiler.compileFiles(paths);
  diagnostics.push(...compiled.diagnostics);
  const sorted = sortDiagnostics(diagnostics);
  if (hasErrors(sorted) || !compiled.ir) return { diagnostics: sorted };
  return { state: { ir: compiled.ir, namespaces }, diagnostics: sorted };
}

/**
 * What the engine needs beside the IR; the server and `netintent admit` build it alike.
 * Namespace labels come from the inventory unless a live source (the API server) is given.
 */
export function admissionContextOf(
  state: AdmissionState,
  compiler: IntentCompiler,
  cni: CniFlavour | undefined,
  liveNamespaces?: ReadonlyMap<string, Readonly<Record<string, string>>>,
): AdmissionContext {
  return { namespaces: liveNamespaces ?? state.namespaces, compileTexts: (files) => compiler.compileTexts(files), ...(cni ? { cni } : {}) };
}

/** One line naming the first error, for /readyz and logs. */
function describeFailure(diagnostics: Diagnostic[]): string {
  const first = diagnostics.find((d) => d.severity === 'error');
  if (!first) return 'the compiler returned no IR';
  const where = first.span ? `${formatSpan(first.span)}: ` : '';
  const more = diagnostics.filter((d) => d.severity === 'error').length - 1;
  return `${where}${first.code} ${first.message}${more > 0 ? ` (and ${more} more errors)` : ''}`;
}

export interface IntentStoreEvents {
  onReloaded(state: AdmissionState): void;
  onRefused(reason: string): void;
}

export class IntentStore {
  private watcher: DebouncedWatch | undefined;
  private reloading: Promise<boolean> | undefined;
  private again = false;
  stale = false;
  lastError: string | undefined;
  loadedAt = new Date();

  private constructor(
    public state: AdmissionState,
    private readonly compiler: IntentCompiler,
    private readonly paths: string[],
    private readonly inventoryPath: string | undefined,
    private readonly events: IntentStoreEvents,
  ) {}

  /** Loads the first set; throws a DiagnosticError when it does not compile (nothing to serve). */
  static async open(compiler: IntentCompiler, paths: string[], inventoryPath: string | undefined, events: IntentStoreEvents): Promise<IntentStore> {
    const { state, diagnostics } = await loadAdmissionState(compiler, paths, inventoryPath);
    if (!state) throw new DiagnosticError(diagnostics);
    return new IntentStore(state, compiler, paths, inventoryPath, events);
  }

  /** Recompiles now; true when a new set is serving. Concurrent calls coalesce. */
  reload(): Promise<boolean> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      let ok: boolean;
      do {
        this.again = false;
        ok = await this.reloadOnce();
      } while (this.again);
      this.reloading = undefined;
      return ok;
    })();
    return this.reloading;
  }

  private async reloadOnce(): Promise<boolean> {
    let result: Awaited<ReturnType<typeof loadAdmissionState>>;
    try {
      result = await loadAdmissionState(this.compiler, this.paths, this.inventoryPath);
    } catch (e) {
      result = { diagnostics: [diag('NI9004', undefined, [(e as Error).message])] };
    }
    if (!result.state) {
      this.stale = true;
      this.lastError = describeFailure(result.diagnostics);
      this.events.onRefused(this.lastError);
      return false;
    }
    this.state = result.state;
    this.stale = false;
    this.lastError = undefined;
    this.loadedAt = new Date();
    this.events.onReloaded(result.state);
    return true;
  }

  /** Reloads after the files settle (editors and ConfigMap updates write in several steps). */
  async watch(debounceMs: number): Promise<void> {
    const targets = [...this.paths, ...(this.inventoryPath !== undefined ? [this.inventoryPath] : [])];
    const dirs = await Promise.all(
      targets.map(async (target) => {
        const isDir = (await stat(target).catch(() => undefined))?.isDirectory() === true;
        return { path: isDir ? target : dirname(target), recursive: isDir };
      }),
    );
    this.watcher = watchDebounced(dirs, debounceMs, () => void this.reload());
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
