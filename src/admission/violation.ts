import { diag } from '../diagnostics/diagnostic.js';
import type { Code } from '../diagnostics/messages.js';

/** One broken rule: a catalogue code and its arguments (object, field path, intent…). */
export interface Violation {
  code: Code;
  args: (string | number)[];
}

/** `NI7001 message help`: one line of a deny message or a warning. */
export function renderViolation(v: Violation): string {
  const d = diag(v.code, undefined, v.args);
  return d.help ? `${d.code} ${d.message} ${d.help}` : `${d.code} ${d.message}`;
}
