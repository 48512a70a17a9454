/**
 * Input files: PATH arguments (files or directories, searched recursively and sorted)
 * dispatched to the front ends by extension, then checked into one IR.
 * `compileTexts` is the pure core; `compileFiles` is its file-system edge.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, isAbsolute } from 'node:path';
import type { SourceFile } from '../ast/index.js';
import { checkSources, type CheckResult } from '../check/index.js';
import { diag, sortDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import { loadDslFiles } from '../frontend/dsl/index.js';
import { parseYamlDocuments } from '../frontend/yaml/index.js';

export interface InputText {
  path: string;
  text: string;
}

const DSL_EXT = /\.intent$/;
const YAML_EXT = /\.ya?ml$/;

export function isIntentFile(path: string): boolean {
  return DSL_EXT.test(path) || YAML_EXT.test(path);
}

/** Parses texts with the front end their extension names; DSL includes are read through `readFile`. */
export function parseTexts(files: readonly InputText[], readFile?: (path: string) => string): { sources: SourceFile[]; diagnostics: Diagnostic[] } {
  const byPath = new Map(files.map((f) => [f.path, f.text]));
  const read = (p: string): string => {
    const text = byPath.get(p);
    if (text !== undefined) return text;
    if (readFile) return readFile(p);
    throw new Error('no such file');
  };
  const sources: SourceFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const dslPaths = files.filter((f) => DSL_EXT.test(f.path)).map((f) => f.path);
  if (dslPaths.length) {
    const dsl = loadDslFiles(dslPaths, read);
    sources.push(...dsl.sources);
    diagnostics.push(...dsl.diagnostics);
  }
  for (const f of files) {
    if (!YAML_EXT.test(f.path)) continue;
    const yaml = parseYamlDocuments(f.path, f.text);
    sources.push(...yaml.sources);
    diagnostics.push(...yaml.diagnostics);
  }
  return { sources, diagnostics };
}

export function compileTexts(files: readonly InputText[], readFile?: (path: string) => string): CheckResult {
  const parsed = parseTexts(files, readFile);
  const checked = checkSources(parsed.sources);
  const diagnostics = sortDiagnostics([...parsed.diagnostics, ...checked.diagnostics]);
  return diagnostics.some((d) => d.severity === 'error') ? { diagnostics } : { ...checked, diagnostics };
}

/** Expands PATH arguments to intent files, sorted; paths stay as the user wrote them (relative to cwd). */
export function findIntentFiles(paths: readonly string[], cwd: string = process.cwd()): { files: string[]; diagnostics: Diagnostic[] } {
  const files = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const display = (abs: string): string => {
    const rel = relative(cwd, abs);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
  };
  const walk = (abs: string): void => {
    for (const entry of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const child = join(abs, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (isIntentFile(entry.name)) files.add(display(child));
    }
  };
  for (const p of paths) {
    const abs = resolve(cwd, p);
    try {
      if (statSync(abs).isDirectory()) walk(abs);
      else files.add(display(abs));
    } catch (e) {
      diagnostics.push(diag('NI9001', undefined, [p, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message]));
    }
  }
  if (!files.size && !diagnostics.length) diagnostics.push(diag('NI9002', undefined, [paths.join(', ') || '(no paths)']));
  return { files: [...files].sort(), diagnostics };
}

export function readInputs(paths: readonly string[], cwd: string = process.cwd()): { inputs: InputText[]; diagnostics: Diagnostic[] } {
  const found = findIntentFiles(paths, cwd);
  const inputs: InputText[] = [];
  for (const file of found.files) {
    try {
      inputs.push({ path: file, text: readFileSync(resolve(cwd, file), 'utf8') });
    } catch (e) {
      found.diagnostics.push(diag('NI9001', undefined, [file, (e as Error).message]));
    }
  }
  return { inputs, diagnostics: found.diagnostics };
}

export function compileFiles(paths: readonly string[], cwd: string = process.cwd()): CheckResult {
  const read = readInputs(paths, cwd);
  if (read.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: read.diagnostics };
  const result = compileTexts(read.inputs, (p) => readFileSync(resolve(cwd, p), 'utf8'));
  return { ...result, diagnostics: sortDiagnostics([...read.diagnostics, ...result.diagnostics]) };
}
