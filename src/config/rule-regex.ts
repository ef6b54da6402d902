/**
 * The regular expressions of listener rules (spec 6.1, 6.2): condition `regexValues` and the
 * `regex` of a rule transform. AWS's rule regexes refuse lookaheads, lookbehinds,
 * backreferences, atomic groups, possessive quantifiers, subroutines, recursion and Unicode
 * classes such as `\p{L}` (AWS, "Transforms for listener rules" and "Condition types for
 * listener rules"); the rest is compiled as a JavaScript RegExp. Pure: the config schema and
 * the ELBv2 API call it, the data path compiles only what passed.
 */

/** Why AWS refuses `source`, naming the feature; undefined when it may be compiled. */
export function refusedRegexFeature(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === 'p' || next === 'P') return `Unicode character classes (\\${next}{…}) are not supported`;
      if (!inClass && next !== undefined && next >= '1' && next <= '9') return `backreferences (\\${next}) are not supported`;
      if (!inClass && next === 'k' && source[i + 2] === '<') return 'backreferences (\\k<name>) are not supported';
      if (!inClass && next === 'g') return 'subroutine calls (\\g) are not supported';
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      // `[]…]` and `[^]…]`: a `]` first in the class is a literal in most engines; JavaScript reads `[]` as empty.
      continue;
    }
    if (ch === '(' && source[i + 1] === '?') {
      const rest = source.slice(i + 2);
      if (rest.startsWith('=') || rest.startsWith('!')) return `lookaheads (${source.slice(i, i + 3)}) are not supported`;
      if (rest.startsWith('<=') || rest.startsWith('<!')) return `lookbehinds (${source.slice(i, i + 4)}) are not supported`;
      if (rest.startsWith('>')) return 'atomic groups ((?>…)) are not supported';
      if (/^(?:R|[+-]?\d|&|P>)/.test(rest)) return `recursion and subroutines (${source.slice(i, i + 4)}…) are not supported`;
      continue;
    }
    if ((ch === '*' || ch === '+' || ch === '?' || ch === '}') && source[i + 1] === '+') return `possessive quantifiers (${ch}+) are not supported`;
  }
  return undefined;
}

/**
 * What is wrong with a rule regex: a feature AWS refuses, or a syntax error; undefined when it
 * compiles. `capturesNeeded` is the highest `$N` a replacement refers to (transforms).
 */
export function ruleRegexProblem(source: string, flags = ''): string | undefined {
  const refused = refusedRegexFeature(source);
  if (refused !== undefined) return refused;
  try {
    new RegExp(source, flags);
  } catch (err) {
    return `does not compile: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  return undefined;
}

/** How many capture groups `source` has (it must compile). */
export function captureGroupCount(source: string): number {
  // An alternation with the empty string always matches: its match array has one slot per group.
  return new RegExp(`${source}|`).exec('')!.length - 1;
}

/** The `$N` references of a replacement (`$$` is a literal `$`), in order. */
export function replacementGroups(replace: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < replace.length; i++) {
    if (replace[i] !== '$') continue;
    if (replace[i + 1] === '$') {
      i++;
      continue;
    }
    const m = /^\d+/.exec(replace.slice(i + 1));
    if (m !== null) {
      out.push(Number(m[0]));
      i += m[0].length;
    }
  }
  return out;
}
