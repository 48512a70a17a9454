/** Loads DSL files and everything they include, relative to the including file. */
import path from 'node:path';
import type { SourceFile } from '../../ast/index.js';
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { parseDsl } from './parse.js';

function reason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\.$/, '');
}

/**
 * Parses the entry files and, depth first, the files they include. Each file is read
 * once however often it is included; an include that leads back to a file still being
 * loaded is a cycle (NI1009). `let` values stay local to the file that defines them.
 */
export function loadDslFiles(
  entryPaths: readonly string[],
  readFile: (path: string) => string,
): { sources: SourceFile[]; diagnostics: Diagnostic[] } {
  const sources: SourceFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();

  const visit = (file: string, text: string, stack: string[]): void => {
    const parsed = parseDsl(file, text);
    sources.push(parsed.source);
    diagnostics.push(...parsed.diagnostics);
    for (const inc of parsed.includes) {
      const target = path.normalize(path.isAbsolute(inc.path) ? inc.path : path.join(path.dirname(file), inc.path));
      const onStack = stack.indexOf(target);
      if (onStack >= 0) {
        diagnostics.push(diag('NI1009', inc.span, [[...stack.slice(onStack), target].join(' -> ')]));
        continue;
      }
      if (seen.has(target)) continue;
      seen.add(target);
      let included: string;
      try {
        included = readFile(target);
      } catch (e) {
        diagnostics.push(diag('NI1008', inc.span, [inc.path, reason(e)]));
        continue;
      }
      visit(target, included, [...stack, target]);
    }
  };

  for (const entry of entryPaths) {
    const key = path.normalize(entry);
    if (seen.has(key)) continue;
    seen.add(key);
    let text: string;
    try {
      text = readFile(entry);
    } catch (e) {
      diagnostics.push(diag('NI9001', undefined, [entry, reason(e)]));
      continue;
    }
    visit(entry, text, [key]);
  }
  return { sources, diagnostics };
}
