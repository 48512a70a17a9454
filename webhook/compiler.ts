/**
 * The intent compiler the webhook serves from: `compileFiles`/`compileTexts` of
 * src/sources by default; embedders and tests may pass their own.
 */
import type { Diagnostic } from '../src/diagnostics/diagnostic.js';
import type { Ir } from '../src/ir/types.js';
import { compileFiles, compileTexts } from '../src/sources/index.js';

export interface CompileResult {
  /** Absent when any error was found. */
  ir?: Ir;
  diagnostics: Diagnostic[];
}

export interface IntentCompiler {
  compileFiles(paths: string[]): CompileResult | Promise<CompileResult>;
  compileTexts(files: { path: string; text: string }[]): CompileResult;
}

export const sourcesCompiler: IntentCompiler = {
  compileFiles: (paths) => compileFiles(paths),
  compileTexts: (files) => compileTexts(files),
};
