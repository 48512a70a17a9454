/**
 * The intent compiler the webhook serves from: `compileFiles`/`compileTexts` of
 * src/sources. Loaded by path at run time so that this stage builds on its own;
 * callers (tests, embedders) may pass their own.
 */
import type { Diagnostic } from '../src/diagnostics/diagnostic.js';
import type { Ir } from '../src/ir/types.js';

export interface CompileResult {
  ir: Ir | undefined;
  diagnostics: Diagnostic[];
}

export interface IntentCompiler {
  compileFiles(paths: string[]): CompileResult | Promise<CompileResult>;
  compileTexts(files: { path: string; text: string }[]): CompileResult;
}

const SOURCES_MODULE = '../src/sources/index.js';

export async function loadIntentCompiler(): Promise<IntentCompiler> {
  let mod: Partial<IntentCompiler>;
  try {
    mod = (await import(SOURCES_MODULE)) as Partial<IntentCompiler>;
  } catch (e) {
    throw new Error(`the intent compiler (src/sources) cannot be loaded: ${(e as Error).message}`);
  }
  if (typeof mod.compileFiles !== 'function' || typeof mod.compileTexts !== 'function') {
    throw new Error('src/sources does not export compileFiles and compileTexts');
  }
  return { compileFiles: mod.compileFiles, compileTexts: mod.compileTexts };
}
