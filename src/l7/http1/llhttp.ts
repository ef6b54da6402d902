/**
 * The one adapter over Node's own HTTP/1.1 parser (llhttp, the C parser `node:http` uses),
 * for the ALB's client-facing connections and its connections to targets. local-elb frames
 * HTTP/1.1 with it instead of `node:http`'s server and undici's client because those two
 * layers cost more than the whole ALB budget (README, "Why its own HTTP/1.1 engine"); the
 * parsing itself stays llhttp's, strict by default.
 *
 * Node exposes the parser through the legacy module `_http_common` (what `node:http` itself
 * uses). It is not a documented API, so everything that touches it is here, checked once at
 * load time; the rest of src/l7 sees only `Http1Parser`.
 */
import { createRequire } from 'node:module';

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | NativeParseError;
  finish(): undefined | NativeParseError;
  close(): void;
  [callback: number]: unknown;
}

interface NativeParserClass {
  new (): NativeParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}

interface NativeParseError extends Error {
  readonly code: string;
  readonly reason?: string;
  readonly bytesParsed?: number;
}

const native = (() => {
  const common = createRequire(import.meta.url)('_http_common') as { HTTPParser?: NativeParserClass; methods?: readonly string[] };
  const P = common.HTTPParser;
  const ok =
    typeof P === 'function' &&
    Array.isArray(common.methods) &&
    [P.REQUEST, P.RESPONSE, P.kOnMessageBegin, P.kOnHeaders, P.kOnHeadersComplete, P.kOnBody, P.kOnMessageComplete].every((n) => typeof n === 'number');
  if (!ok) {
    throw new Error(`local-elb needs Node's HTTP parser binding (_http_common.HTTPParser), which this Node.js ${process.version} does not provide as expected; use Node.js 22.12 or later`);
  }
  return { Parser: P!, methods: common.methods! };
})();

/** A parse failure: llhttp's code (`HPE_INVALID_METHOD`, …) and reason. */
export interface ParseError {
  readonly code: string;
  readonly reason: string;
}

/** The start of one message, as llhttp saw it. `headers` is `[name, value, …]` as received. */
export interface MessageHead {
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly headers: string[];
  /** Requests only. */
  readonly method: string;
  /** Requests only: the request-target as received. */
  readonly url: string;
  /** Responses only. */
  readonly statusCode: number;
  readonly statusMessage: string;
  /** `Upgrade`/`CONNECT` request, or a 101 response. */
  readonly upgrade: boolean;
  /** HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`. */
  readonly keepAlive: boolean;
  /** HTTP/2 responses: the headers ended the stream (a gRPC trailers-only response). */
  readonly endStream?: boolean;
  /** Requests only: a head llhttp refused that the head reader read instead (request-head.ts, spec 13.1). */
  readonly reread?: RereadHead;
}

/** What a head read by the head reader carries beside the usual fields. */
export interface RereadHead {
  /** The version as received (`''` for none), for the desync classifier. */
  readonly version: string;
  /** How its body is framed: `'none'`, `'chunked'` or a length. */
  readonly framing: 'none' | 'chunked' | number;
  /** Why it cannot be forwarded as received (then it has no body to read, and the connection closes after its answer). */
  readonly unforwardable?: string;
}

/** What a parser calls, in order, per message. Must not throw. */
export interface MessageHandler {
  /** The first byte of a message (after any empty lines between messages). */
  onBegin?(): void;
  /** Return true to skip the body (a response to HEAD: its headers announce one that never comes). */
  onHead(head: MessageHead): boolean | void;
  onBody(chunk: Buffer): void;
  /** `trailers` is `[name, value, …]` (chunked messages only; usually empty). */
  onComplete(trailers: string[]): void;
}

/**
 * One llhttp parser for one connection. `execute` feeds it bytes and returns how many it
 * consumed (fewer than given after an upgrade: the rest belongs to the new protocol), or the
 * parse error. Callbacks run synchronously inside `execute`.
 */
export class Http1Parser {
  readonly #parser: NativeParser;
  #headers: string[] = [];
  #url = '';

  constructor(kind: 'request' | 'response', handler: MessageHandler, options: { maxHeaderBytes: number }) {
    const { Parser, methods } = native;
    const parser = new Parser();
    parser.initialize(kind === 'request' ? Parser.REQUEST : Parser.RESPONSE, {}, options.maxHeaderBytes, 0);
    if (handler.onBegin !== undefined) parser[Parser.kOnMessageBegin] = () => handler.onBegin!();
    // Long header blocks arrive in pieces (llhttp flushes every 32 fields); trailers too.
    parser[Parser.kOnHeaders] = (headers: string[], url: string) => {
      for (const h of headers) this.#headers.push(h);
      this.#url += url;
    };
    parser[Parser.kOnHeadersComplete] = (
      versionMajor: number,
      versionMinor: number,
      headers: string[] | undefined,
      method: number | null,
      url: string | undefined,
      statusCode: number | null,
      statusMessage: string | null,
      upgrade: boolean,
      keepAlive: boolean,
    ): number => {
      let all = headers;
      if (all === undefined) {
        all = this.#headers;
        this.#headers = [];
      }
      const target = url === undefined || url === '' ? this.#url : url;
      this.#url = '';
      const skip = handler.onHead({
        versionMajor,
        versionMinor,
        headers: all,
        method: typeof method === 'number' ? (methods[method] ?? '') : '',
        url: target,
        statusCode: statusCode ?? 0,
        statusMessage: statusMessage ?? '',
        upgrade,
        keepAlive,
      });
      return skip === true ? 1 : 0;
    };
    parser[Parser.kOnBody] = (chunk: Buffer) => handler.onBody(chunk);
    parser[Parser.kOnMessageComplete] = () => {
      const trailers = this.#headers;
      this.#headers = [];
      this.#url = '';
      handler.onComplete(trailers);
    };
    this.#parser = parser;
  }

  /** Parses `data`; returns the bytes consumed, or the parse error. */
  execute(data: Buffer): number | ParseError {
    const result = this.#parser.execute(data);
    if (typeof result === 'number') return result;
    return { code: result.code, reason: result.reason ?? result.message };
  }

  /** The peer closed: completes a close-delimited message, or reports a truncated one. */
  finish(): ParseError | undefined {
    const result = this.#parser.finish();
    return result === undefined ? undefined : { code: result.code, reason: result.reason ?? result.message };
  }

  close(): void {
    this.#parser.close();
  }
}
