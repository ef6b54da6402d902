/**
 * The request side of the awsQuery protocol (spec 14.1): a form-encoded body (or query string)
 * decoded into a tree, and readers that take members out of it with the model's constraints,
 * answering `ValidationError` as AWS does for what a client did not check (spec 14.1.4).
 *
 * `Targets.member.2.Port=80` becomes `{ Targets: { member: { '2': { Port: '80' } } } }`;
 * `list()` turns a `member` node into an array ordered by the numeric N (`member.10` after
 * `member.9`), and `Key=` (an empty list, as both SDKs send one) into `[]`.
 */
import { ApiError } from './errors.ts';

/** A decoded member: a string, or a structure of members. */
export type QueryValue = string | QueryNode;
export interface QueryNode {
  readonly [key: string]: QueryValue;
}

/**
 * Decodes `Action=…&Version=…&Names.member.1=web` (either `+` or `%20` for a space, any pair
 * order). A key that is both a value and a structure (`A=1&A.B=2`) is a MalformedQueryString.
 */
export function decodeForm(body: string): QueryNode {
  const root: Record<string, QueryValue> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split('.');
    let node: Record<string, QueryValue> = root;
    for (let i = 0; i < path.length - 1; i++) {
      const segment = path[i]!;
      const child = node[segment];
      if (child === undefined || child === '') node[segment] = {};
      else if (typeof child === 'string') throw new ApiError('MalformedQueryString', `${path.slice(0, i + 1).join('.')} is both a value and a structure`);
      node = node[segment] as Record<string, QueryValue>;
    }
    const last = path.at(-1)!;
    if (typeof node[last] === 'object') {
      if (value !== '') throw new ApiError('MalformedQueryString', `${key} is both a value and a structure`);
      continue;
    }
    node[last] = value;
  }
  return root;
}

/** Reads the members of one structure, naming each by its path (`Targets.member.1.Port`) in errors. */
export class Members {
  readonly node: QueryNode;
  readonly #path: string;

  constructor(node: QueryNode, path = '') {
    this.node = node;
    this.#path = path;
  }

  #at(name: string): string {
    return this.#path === '' ? name : `${this.#path}.${name}`;
  }

  has(name: string): boolean {
    return this.node[name] !== undefined;
  }

  /** A string member; `required` answers ValidationError when it is absent. */
  string(name: string, options: { required: true; min?: number; max?: number; pattern?: RegExp }): string;
  string(name: string, options?: { required?: false; min?: number; max?: number; pattern?: RegExp }): string | undefined;
  string(name: string, options: { required?: boolean; min?: number; max?: number; pattern?: RegExp } = {}): string | undefined {
    const value = this.node[name];
    if (value === undefined) {
      if (options.required) throw missing(this.#at(name));
      return undefined;
    }
    if (typeof value !== 'string') throw invalid(this.#at(name), '[structure]', 'be a string');
    if (options.min !== undefined && value.length < options.min) throw invalid(this.#at(name), value, `have length greater than or equal to ${options.min}`);
    if (options.max !== undefined && value.length > options.max) throw invalid(this.#at(name), value, `have length less than or equal to ${options.max}`);
    if (options.pattern !== undefined && !options.pattern.test(value)) throw invalid(this.#at(name), value, `satisfy regular expression pattern: ${options.pattern.source}`);
    return value;
  }

  /** One of `values` (an enum of the model). */
  choice<T extends string>(name: string, values: readonly T[], options: { required: true }): T;
  choice<T extends string>(name: string, values: readonly T[], options?: { required?: false }): T | undefined;
  choice<T extends string>(name: string, values: readonly T[], options: { required?: boolean } = {}): T | undefined {
    const value = options.required ? this.string(name, { required: true }) : this.string(name);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value)) throw invalid(this.#at(name), value, `satisfy enum value set: [${values.join(', ')}]`);
    return value as T;
  }

  /** An integer member within `min`–`max`. */
  integer(name: string, options: { required: true; min?: number; max?: number }): number;
  integer(name: string, options?: { required?: false; min?: number; max?: number }): number | undefined;
  integer(name: string, options: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const text = options.required ? this.string(name, { required: true }) : this.string(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw invalid(this.#at(name), text, 'be an integer');
    if (options.min !== undefined && n < options.min) throw invalid(this.#at(name), text, `have value greater than or equal to ${options.min}`);
    if (options.max !== undefined && n > options.max) throw invalid(this.#at(name), text, `have value less than or equal to ${options.max}`);
    return n;
  }

  boolean(name: string): boolean | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (text !== 'true' && text !== 'false') throw invalid(this.#at(name), text, 'be a boolean (true or false)');
    return text === 'true';
  }

  /** A nested structure (`Matcher.HttpCode`), or undefined. */
  structure(name: string): Members | undefined {
    const value = this.node[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value === 'string') throw invalid(this.#at(name), value, 'be a structure');
    return new Members(value, this.#at(name));
  }

  /**
   * A list (`Name.member.N…`) as its items in numeric order: undefined when absent, `[]` for
   * the bare `Name=`. `min`/`max` are the model's length constraints.
   */
  list(name: string, options: { required?: boolean; min?: number; max?: number } = {}): QueryValue[] | undefined {
    const value = this.node[name];
    if (value === undefined) {
      if (options.required) throw missing(this.#at(name));
      return undefined;
    }
    let items: QueryValue[];
    if (value === '') items = [];
    else if (typeof value === 'string') throw invalid(this.#at(name), value, 'be a list (Name.member.N)');
    else {
      const members = value['member'];
      if (members === undefined || typeof members === 'string') throw invalid(this.#at(name), '[structure]', 'be a list (Name.member.N)');
      const indices = Object.keys(members);
      for (const index of indices) if (!/^[1-9]\d*$/.test(index)) throw invalid(`${this.#at(name)}.member.${index}`, index, 'be a list index counting from 1');
      items = indices.sort((a, b) => Number(a) - Number(b)).map((i) => members[i]!);
    }
    if (options.required && items.length === 0) throw invalid(this.#at(name), '[]', 'have length greater than or equal to 1');
    if (options.min !== undefined && items.length < options.min) throw invalid(this.#at(name), `${items.length} items`, `have length greater than or equal to ${options.min}`);
    if (options.max !== undefined && items.length > options.max) throw invalid(this.#at(name), `${items.length} items`, `have length less than or equal to ${options.max}`);
    return items;
  }

  /** A list of strings (`Names.member.N=…`). */
  strings(name: string, options: { required?: boolean; min?: number; max?: number } = {}): string[] | undefined {
    const items = this.list(name, options);
    return items?.map((item, i) => {
      if (typeof item !== 'string') throw invalid(`${this.#at(name)}.member.${i + 1}`, '[structure]', 'be a string');
      return item;
    });
  }

  /** A list of structures (`Targets.member.N.Id=…`). */
  structures(name: string, options: { required?: boolean; min?: number; max?: number } = {}): Members[] | undefined {
    const items = this.list(name, options);
    return items?.map((item, i) => {
      const at = `${this.#at(name)}.member.${i + 1}`;
      if (typeof item === 'string') {
        if (item === '') return new Members({}, at);
        throw invalid(at, item, 'be a structure');
      }
      return new Members(item, at);
    });
  }
}

/**
 * AWS's phrasing (spec 14.1.4): "1 validation error detected: Value 'x' at 'm' failed to
 * satisfy constraint: Member must …", `constraint` being what follows "Member must".
 */
export function invalid(member: string, value: string, constraint: string): ApiError {
  const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  return new ApiError('ValidationError', `1 validation error detected: Value '${shown}' at '${lowerFirst(member)}' failed to satisfy constraint: Member must ${constraint}`);
}

export function missing(member: string): ApiError {
  return new ApiError('ValidationError', `1 validation error detected: Value null at '${lowerFirst(member)}' failed to satisfy constraint: Member must not be null`);
}

function lowerFirst(path: string): string {
  return path.charAt(0).toLowerCase() + path.slice(1);
}
