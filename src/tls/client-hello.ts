/**
 * Reads a TLS ClientHello from the first bytes a client sends, before any TLS stack sees them
 * (spec 12.6.3, 8.2): the ALPN list (extension 16) and the SNI name (extension 0). An NLB TLS
 * listener needs the client's ALPN list before its own handshake starts, because Node's
 * `ALPNProtocols`/`ALPNCallback` end a handshake without a shared protocol with a fatal
 * `no_application_protocol` alert, where the NLB goes on without ALPN; the list also goes to
 * the access log.
 *
 * `peekClientHello` is pure and takes every byte received so far, so a ClientHello cut into any
 * number of reads (or TLS records) gives the same answer; it never reads past `MAX_CLIENT_HELLO_BYTES`.
 * Bytes that are not a ClientHello are `invalid`: the caller hands them to the TLS stack, which
 * refuses them as it would anyway.
 */

/** The largest ClientHello read (record headers included); a larger one is `invalid`. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

const RECORD_HEADER_BYTES = 5;
const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
/** TLSPlaintext.length is at most 2^14 (RFC 8446 5.1). */
const MAX_RECORD_BYTES = 16_384;
const EXTENSION_SERVER_NAME = 0;
const EXTENSION_ALPN = 16;

export interface ClientHello {
  /** The first `host_name` of the server_name extension, as sent; undefined without one. */
  readonly serverName: string | undefined;
  /** The ALPN protocols in the client's order (bytes as latin1); undefined without the extension. */
  readonly alpnProtocols: readonly string[] | undefined;
}

export type ClientHelloPeek =
  | { readonly status: 'incomplete' }
  | { readonly status: 'complete'; readonly hello: ClientHello }
  | { readonly status: 'invalid'; readonly reason: string };

const INCOMPLETE: ClientHelloPeek = Object.freeze({ status: 'incomplete' });
const invalid = (reason: string): ClientHelloPeek => ({ status: 'invalid', reason });

/**
 * What the bytes received so far hold: a whole ClientHello, not yet one (read more), or
 * something else (`invalid`, with the reason).
 */
export function peekClientHello(data: Uint8Array): ClientHelloPeek {
  // Reassemble the handshake message from as many records as it spans.
  const fragments: Uint8Array[] = [];
  let handshakeBytes = 0;
  let needed = -1;
  let offset = 0;
  while (needed < 0 || handshakeBytes < needed) {
    if (data.length - offset < 1) return INCOMPLETE;
    if (data[offset] !== CONTENT_TYPE_HANDSHAKE) {
      return invalid(offset === 0 ? `not a TLS handshake record (first byte 0x${hex(data[0]!)})` : 'a non-handshake record inside the ClientHello');
    }
    if (data.length - offset < 2) return INCOMPLETE;
    if (data[offset + 1] !== 3) return invalid(`record version major ${data[offset + 1]} is not 3`);
    if (data.length - offset < RECORD_HEADER_BYTES) return INCOMPLETE;
    const length = (data[offset + 3]! << 8) | data[offset + 4]!;
    if (length === 0 || length > MAX_RECORD_BYTES) return invalid(`record length ${length} is outside 1–${MAX_RECORD_BYTES}`);
    if (offset + RECORD_HEADER_BYTES + length > MAX_CLIENT_HELLO_BYTES) return invalid(`a ClientHello over ${MAX_CLIENT_HELLO_BYTES} bytes`);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (data.length < end) {
      // Check what can be checked already, so garbage is refused without waiting for it.
      if (needed < 0 && handshakeBytes === 0 && data.length > offset + RECORD_HEADER_BYTES && data[offset + RECORD_HEADER_BYTES] !== HANDSHAKE_CLIENT_HELLO) {
        return invalid(`handshake type ${data[offset + RECORD_HEADER_BYTES]} is not ClientHello`);
      }
      return INCOMPLETE;
    }
    const fragment = data.subarray(offset + RECORD_HEADER_BYTES, end);
    fragments.push(fragment);
    handshakeBytes += fragment.length;
    offset = end;
    if (needed < 0 && handshakeBytes >= 4) {
      const head = concat(fragments, 4);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return invalid(`handshake type ${head[0]} is not ClientHello`);
      needed = 4 + ((head[1]! << 16) | (head[2]! << 8) | head[3]!);
      if (needed > MAX_CLIENT_HELLO_BYTES) return invalid(`a ClientHello of ${needed - 4} bytes is over ${MAX_CLIENT_HELLO_BYTES}`);
    }
  }
  const message = concat(fragments, needed);
  return parseClientHelloBody(message.subarray(4));
}

/** A byte reader that fails (returns undefined) instead of reading past its end. */
class Reader {
  readonly #bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get remaining(): number {
    return this.#bytes.length - this.#at;
  }

  u8(): number | undefined {
    return this.remaining >= 1 ? this.#bytes[this.#at++] : undefined;
  }

  u16(): number | undefined {
    if (this.remaining < 2) return undefined;
    const value = (this.#bytes[this.#at]! << 8) | this.#bytes[this.#at + 1]!;
    this.#at += 2;
    return value;
  }

  bytes(n: number | undefined): Uint8Array | undefined {
    if (n === undefined || this.remaining < n) return undefined;
    const out = this.#bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
}

/** ClientHello after its handshake header (RFC 8446 4.1.2; TLS 1.0–1.2 share the layout). */
function parseClientHelloBody(body: Uint8Array): ClientHelloPeek {
  const r = new Reader(body);
  if (r.bytes(2) === undefined || r.bytes(32) === undefined) return invalid('ClientHello too short for version and random');
  const sessionIdLength = r.u8();
  if (sessionIdLength === undefined || sessionIdLength > 32 || r.bytes(sessionIdLength) === undefined) return invalid('bad legacy_session_id');
  const suitesLength = r.u16();
  if (suitesLength === undefined || suitesLength < 2 || suitesLength % 2 !== 0 || r.bytes(suitesLength) === undefined) return invalid('bad cipher_suites');
  const compressionLength = r.u8();
  if (compressionLength === undefined || compressionLength < 1 || r.bytes(compressionLength) === undefined) return invalid('bad legacy_compression_methods');
  // A ClientHello without extensions ends here (TLS 1.0–1.2 allow it).
  if (r.remaining === 0) return { status: 'complete', hello: { serverName: undefined, alpnProtocols: undefined } };
  const extensions = r.bytes(r.u16());
  if (extensions === undefined || r.remaining !== 0) return invalid('extensions do not match the ClientHello length');
  let serverName: string | undefined;
  let alpnProtocols: string[] | undefined;
  const seen = new Set<number>();
  const e = new Reader(extensions);
  while (e.remaining > 0) {
    const type = e.u16();
    const value = e.bytes(e.u16());
    if (type === undefined || value === undefined) return invalid('an extension runs past the end of the list');
    if (seen.has(type)) return invalid(`extension ${type} appears twice`);
    seen.add(type);
    if (type === EXTENSION_ALPN) {
      const list = parseAlpn(value);
      if (list === undefined) return invalid('malformed application_layer_protocol_negotiation extension');
      alpnProtocols = list;
    } else if (type === EXTENSION_SERVER_NAME) {
      const name = parseServerName(value);
      if (name === null) return invalid('malformed server_name extension');
      serverName = name;
    }
  }
  return { status: 'complete', hello: { serverName, alpnProtocols } };
}

/** ProtocolNameList (RFC 7301 3.1): a non-empty list of non-empty names. */
function parseAlpn(value: Uint8Array): string[] | undefined {
  const r = new Reader(value);
  const list = r.bytes(r.u16());
  if (list === undefined || r.remaining !== 0 || list.length === 0) return undefined;
  const names: string[] = [];
  const l = new Reader(list);
  while (l.remaining > 0) {
    const name = l.bytes(l.u8());
    if (name === undefined || name.length === 0) return undefined;
    names.push(Buffer.from(name).toString('latin1'));
  }
  return names;
}

/** ServerNameList (RFC 6066 3): the first host_name; null when malformed. An empty extension (a server's echo) has no name. */
function parseServerName(value: Uint8Array): string | undefined | null {
  if (value.length === 0) return undefined;
  const r = new Reader(value);
  const list = r.bytes(r.u16());
  if (list === undefined || r.remaining !== 0) return null;
  const l = new Reader(list);
  let first: string | undefined;
  while (l.remaining > 0) {
    const type = l.u8();
    const name = l.bytes(l.u16());
    if (type === undefined || name === undefined) return null;
    if (type === 0 && first === undefined) first = Buffer.from(name).toString('latin1');
  }
  return first;
}

function concat(fragments: readonly Uint8Array[], bytes: number): Uint8Array {
  if (fragments[0]!.length >= bytes) return fragments[0]!.subarray(0, bytes);
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const f of fragments) {
    const n = Math.min(f.length, bytes - at);
    out.set(f.subarray(0, n), at);
    at += n;
    if (at === bytes) break;
  }
  return out;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
