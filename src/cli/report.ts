import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { DIAGNOSTIC_FORMATS, renderDiagnostics, type DiagnosticFormat } from '../diagnostics/render.js';
import type { CliIo } from './program.js';

export function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

export const formatOption = (): Option =>
  new Option('--format <format>', 'diagnostics format').choices(DIAGNOSTIC_FORMATS as string[]).default('human');

/** Prints diagnostics to stderr (human) or stdout (machine formats, for piping into tools). */
export function reportDiagnostics(io: CliIo, diags: readonly Diagnostic[], format: DiagnosticFormat = 'human'): void {
  const lookup = (file: string): string | undefined => {
    try {
      return readFileSync(resolve(io.cwd, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  const text = renderDiagnostics(format, diags, lookup, { colour: io.isTty && format === 'human', toolVersion: toolVersion() });
  if (format === 'human') io.stderr(text);
  else io.stdout(text);
}
