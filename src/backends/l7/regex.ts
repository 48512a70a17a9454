/**
 * HTTP path regexes are checked as JavaScript regexes (NI4007) but run in HAProxy, which
 * uses PCRE2. Most syntax means the same in both; this finds the constructs that do not,
 * so that a rule never matches something other than what its author tested.
 */

/** Escapes with the same meaning in JavaScript (non-unicode mode) and PCRE2. */
const PORTABLE_LETTER_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 'b', 'B', 'n', 'r', 't', 'f', 'v', 'x']);

/** Why PCRE2 would read `source` differently from JavaScript, or undefined when it would not. */
export function pcreDifference(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) return 'a trailing backslash';
      // \k<name>: a named back-reference in both (JavaScript reads it so once the pattern names a group).
      const namedBackref = next === 'k' && source[i + 2] === '<' && /\(\?<[A-Za-z_]/.test(source);
      if (/[A-Za-z]/.test(next) && !PORTABLE_LETTER_ESCAPES.has(next) && !namedBackref) {
        // JavaScript reads an unknown letter escape as the letter; PCRE2 gives many of them
        // a meaning (\h, \R, \A, \z, \Q…\E, \p{…}) or rejects them (\u, \c in classes).
        return `the escape \\${next} (JavaScript reads it as "${next}", PCRE2 does not)`;
      }
      if (/[0-9]/.test(next) && next !== '0' && !inClass) {
        const digits = /^[0-9]+/.exec(source.slice(i + 1))![0];
        if (digits.length > 1) return `the escape \\${digits} (a back-reference or octal escape, depending on the engine)`;
      }
      if (next === '0' && /[0-7]/.test(source[i + 2] ?? '')) return 'an octal escape \\0NN';
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '[' && source[i + 1] === ':') return 'a POSIX class [: … :] (JavaScript reads it literally)';
      continue;
    }
    if (c === '[') {
      // `[]` never matches and `[^]` matches anything in JavaScript; PCRE2 reads `]` as a literal.
      if (source[i + 1] === ']' || (source[i + 1] === '^' && source[i + 2] === ']')) return `the class ${source[i + 1] === ']' ? '[]' : '[^]'}`;
      inClass = true;
      if (source[i + 1] === '^') i++;
      continue;
    }
    if (c === '(' && source[i + 1] === '?' && source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
      // Named groups: same meaning, but PCRE2 limits names to 32 word characters.
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i + 3))?.[0] ?? '';
      if (name.length > 32) return `the group name "${name}" (PCRE2 allows 32 characters)`;
    }
    if (c === '(' && source.startsWith('(?<', i) && (source[i + 3] === '=' || source[i + 3] === '!')) {
      // PCRE2 (10.42) needs fixed-length lookbehind; JavaScript allows any.
      const body = lookbehindBody(source, i);
      if (body !== undefined && /[*+?{]/.test(body.replace(/\\./g, 'x'))) return 'a variable-length lookbehind';
    }
  }
  return undefined;
}

function lookbehindBody(source: string, open: number): string | undefined {
  let depth = 0;
  for (let j = open; j < source.length; j++) {
    if (source[j] === '\\') {
      j++;
      continue;
    }
    if (source[j] === '(') depth++;
    if (source[j] === ')' && --depth === 0) return source.slice(open + 4, j);
  }
  return undefined;
}
