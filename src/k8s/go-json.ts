/**
 * JSON decoded into typed values the way Go's `encoding/json` decodes into structs, for the AWS
 * Load Balancer Controller's JSON annotations (spec 15.5.3): object keys match a field's tag
 * exactly first, then case-insensitively (Go's simple case folding); unknown keys are skipped;
 * a key given twice is decoded twice, into the value already there (the last scalar wins,
 * objects merge); `null` clears pointers and slices and leaves other values as they are; enum
 * strings are not checked here (values compare exactly in the caller). Errors are Go's own text:
 * the scanner's syntax errors (`invalid character 'x' looking for beginning of value`,
 * `unexpected end of JSON input`) and `json: cannot unmarshal string into Go struct field
 * Action.forwardConfig of type ingress.ForwardActionConfig`. Pure; ingress-annotations.ts calls it.
 */

/** A Go type as the decoder needs it; `ptr` marks pointer fields (`null` → undefined). */
export type GoType =
  | { readonly kind: 'string'; readonly name: string }
  | { readonly kind: 'bool' }
  | { readonly kind: 'int32' }
  /** k8s.io/apimachinery's intstr.IntOrString: a JSON string, or a number decoded as int32. */
  | { readonly kind: 'intOrString' }
  | { readonly kind: 'slice'; readonly elem: GoType }
  | { readonly kind: 'struct'; readonly pkg: string; readonly name: string; readonly fields: Readonly<Record<string, GoType>> }
  | { readonly kind: 'ptr'; readonly elem: GoType };

export const goString = (name = 'string'): GoType => ({ kind: 'string', name });
export const goPtr = (elem: GoType): GoType => ({ kind: 'ptr', elem });
export const goSlice = (elem: GoType): GoType => ({ kind: 'slice', elem });
export const goStruct = (pkg: string, name: string, fields: Record<string, GoType>): GoType => ({ kind: 'struct', pkg, name, fields });

/** A decoding failure with Go's message (the caller adds the annotation, as the controller does). */
export class GoJsonError extends Error {
  override readonly name = 'GoJsonError';
}

type JsonNode =
  | { readonly t: 'object'; readonly entries: ReadonlyArray<readonly [string, JsonNode]> }
  | { readonly t: 'array'; readonly items: readonly JsonNode[] }
  | { readonly t: 'string'; readonly value: string }
  | { readonly t: 'number'; readonly raw: string }
  | { readonly t: 'bool'; readonly value: boolean }
  | { readonly t: 'null' };

/** Go's quoteChar: `'x'`, `'\''`, `'"'`, `'\n'`. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  return `'${JSON.stringify(c).slice(1, -1)}'`;
}

/** A JSON parser keeping every object entry in order (duplicates included), with Go's scanner messages. */
function parse(text: string): JsonNode {
  let i = 0;
  const fail = (context: string): never => {
    if (i >= text.length) throw new GoJsonError('unexpected end of JSON input');
    const cp = text.codePointAt(i)!;
    throw new GoJsonError(`invalid character ${quoteChar(String.fromCodePoint(cp))} ${context}`);
  };
  const space = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const literal = (word: string, node: JsonNode): JsonNode => {
    for (let k = 0; k < word.length; k++, i++) {
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
    }
    return node;
  };
  const string = (): string => {
    i++; // the opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('');
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c < ' ') fail('in string literal');
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      i++;
      if (i >= text.length) fail('');
      const e = text[i]!;
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e in simple) {
        out += simple[e];
        i++;
      } else if (e === 'u') {
        i++;
        for (let k = 0; k < 4; k++, i++) if (!/[0-9A-Fa-f]/.test(text[i] ?? '')) fail('in \\u hexadecimal character escape');
        out += String.fromCharCode(parseInt(text.slice(i - 4, i), 16));
      } else fail('in string escape code');
    }
  };
  const number = (): JsonNode => {
    const start = i;
    if (text[i] === '-') {
      i++;
      if (!/[0-9]/.test(text[i] ?? '')) fail('in numeric literal');
    }
    if (text[i] === '0') i++;
    else while (/[0-9]/.test(text[i] ?? '')) i++;
    if (text[i] === '.') {
      i++;
      if (!/[0-9]/.test(text[i] ?? '')) fail('after decimal point in numeric literal');
      while (/[0-9]/.test(text[i] ?? '')) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!/[0-9]/.test(text[i] ?? '')) fail('in exponent of numeric literal');
      while (/[0-9]/.test(text[i] ?? '')) i++;
    }
    return { t: 'number', raw: text.slice(start, i) };
  };
  const value = (): JsonNode => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: Array<readonly [string, JsonNode]> = [];
      space();
      if (text[i] === '}') {
        i++;
        return { t: 'object', entries };
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail('looking for beginning of object key string');
        const key = string();
        space();
        if (text[i] !== ':') fail('after object key');
        i++;
        entries.push([key, value()]);
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { t: 'object', entries };
        }
        fail('after object key:value pair');
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      space();
      if (text[i] === ']') {
        i++;
        return { t: 'array', items };
      }
      for (;;) {
        items.push(value());
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { t: 'array', items };
        }
        fail('after array element');
      }
    }
    if (c === '"') return { t: 'string', value: string() };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    if (c === 't') return literal('true', { t: 'bool', value: true });
    if (c === 'f') return literal('false', { t: 'bool', value: false });
    if (c === 'n') return literal('null', { t: 'null' });
    return fail('looking for beginning of value');
  };
  const root = value();
  space();
  if (i < text.length) fail('after top-level value');
  return root;
}

/** Go's foldName: each rune upper-cased then lower-cased (so `ſ` folds to `s` and `K` to `k`). */
function fold(s: string): string {
  let out = '';
  for (const ch of s) {
    const upper = ch.toUpperCase();
    out += [...upper].length === 1 ? upper.toLowerCase() : ch.toLowerCase();
  }
  return out;
}

function typeName(type: GoType): string {
  switch (type.kind) {
    case 'string':
      return type.name;
    case 'bool':
      return 'bool';
    case 'int32':
      return 'int32';
    case 'intOrString':
      return 'intstr.IntOrString';
    case 'slice':
      return `[]${typeName(type.elem)}`;
    case 'struct':
      return `${type.pkg}.${type.name}`;
    case 'ptr':
      return `*${typeName(type.elem)}`;
  }
}

interface ErrorContext {
  readonly struct?: string;
  readonly fields: readonly string[];
}

function typeError(value: string, type: GoType, at: ErrorContext): never {
  const into = at.struct !== undefined ? `Go struct field ${at.struct}.${at.fields.join('.')}` : 'Go value';
  throw new GoJsonError(`json: cannot unmarshal ${value} into ${into} of type ${typeName(type)}`);
}

const kindOf = (node: JsonNode): string => (node.t === 'bool' ? 'bool' : node.t);

function int32(node: JsonNode, at: ErrorContext): number {
  if (node.t !== 'number') return typeError(kindOf(node), { kind: 'int32' }, at);
  if (!/^-?\d+$/.test(node.raw)) return typeError(`number ${node.raw}`, { kind: 'int32' }, at);
  const n = Number(node.raw);
  if (n < -2147483648 || n > 2147483647) return typeError(`number ${node.raw}`, { kind: 'int32' }, at);
  return n;
}

function decodeNode(node: JsonNode, type: GoType, existing: unknown, at: ErrorContext): unknown {
  if (node.t === 'null') return type.kind === 'ptr' || type.kind === 'slice' ? undefined : existing;
  switch (type.kind) {
    case 'ptr':
      return decodeNode(node, type.elem, existing, at);
    case 'string':
      return node.t === 'string' ? node.value : typeError(kindOf(node), type, at);
    case 'bool':
      return node.t === 'bool' ? node.value : typeError(kindOf(node), type, at);
    case 'int32':
      return int32(node, at);
    case 'intOrString':
      return node.t === 'string' ? node.value : int32(node, at);
    case 'slice': {
      if (node.t !== 'array') return typeError(kindOf(node), type, at);
      const before = Array.isArray(existing) ? (existing as unknown[]) : [];
      return node.items.map((item, k) => decodeNode(item, type.elem, before[k], at));
    }
    case 'struct': {
      if (node.t !== 'object') return typeError(kindOf(node), type, at);
      const out: Record<string, unknown> = existing !== null && typeof existing === 'object' ? { ...(existing as Record<string, unknown>) } : {};
      const names = Object.keys(type.fields);
      for (const [key, value] of node.entries) {
        const field = names.find((n) => n === key) ?? names.find((n) => fold(n) === fold(key));
        if (field === undefined) continue;
        const decoded = decodeNode(value, type.fields[field]!, out[field], { struct: type.name, fields: [...at.fields, field] });
        if (decoded === undefined) delete out[field];
        else out[field] = decoded;
      }
      return out;
    }
  }
}

/** `json.Unmarshal(raw, &v)` for a `v` of `type`: the decoded value (field names as the tags), or a GoJsonError. */
export function decodeGoJson(raw: string, type: GoType): unknown {
  return decodeNode(parse(raw), type, undefined, { fields: [] });
}
