/**
 * Proxy Protocol v2 headers as an NLB sends them (spec 5.2): the 12-byte signature, `0x21`
 * (version 2, PROXY) with the client's addresses for client connections, `0x20` (LOCAL,
 * AF_UNSPEC) with no addresses for health-check connections. TLVs are optional: NLB adds
 * CRC32C/NOOP/AWS-VPCE TLVs on PrivateLink paths; on direct paths that is UNCONFIRMED, so the
 * default is none and `tlvs` lets a test or user add them.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const PP2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export const PP2_TYPE_CRC32C = 0x03;
export const PP2_TYPE_NOOP = 0x04;
export const PP2_TYPE_AWS = 0xea;
export const PP2_SUBTYPE_AWS_VPCE_ID = 0x01;

export interface ProxyAddresses {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
  /** `stream` for TCP (default), `dgram` for UDP. */
  readonly transport?: 'stream' | 'dgram';
}

export interface Tlv {
  readonly type: number;
  readonly value: Buffer;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  let s = address.split('%')[0]!;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    s = s.slice(0, -v4[1]!.length);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const words = (x: string) => (x === '' ? [] : x.split(':').map((h) => parseInt(h, 16)));
  let all: number[];
  if (s.includes('::')) {
    const [head, rest] = s.split('::') as [string, string];
    const h = words(head);
    const t = [...words(rest), ...tail];
    all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  } else all = [...words(s), ...tail];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** The header NLB puts before the first payload byte of a client connection. */
export function proxyHeader(addresses: ProxyAddresses, tlvs: readonly Tlv[] = []): Buffer {
  const { sourceAddress: src, destinationAddress: dst } = addresses;
  const v6 = !(isIPv4(src) && isIPv4(dst));
  for (const a of [src, dst]) if (!isIPv4(a) && !isIPv6(a)) throw new RangeError(`not an IP address: ${a}`);
  const transport = addresses.transport === 'dgram' ? 0x2 : 0x1;
  const addressBlock = v6
    ? Buffer.concat([ipv6Bytes(isIPv4(src) ? `::ffff:${src}` : src), ipv6Bytes(isIPv4(dst) ? `::ffff:${dst}` : dst), Buffer.alloc(4)])
    : Buffer.concat([ipv4Bytes(src), ipv4Bytes(dst), Buffer.alloc(4)]);
  addressBlock.writeUInt16BE(addresses.sourcePort, addressBlock.length - 4);
  addressBlock.writeUInt16BE(addresses.destinationPort, addressBlock.length - 2);
  const tlvBytes = encodeTlvs(tlvs);
  const head = Buffer.alloc(16);
  PP2_SIGNATURE.copy(head, 0);
  head[12] = 0x21;
  head[13] = ((v6 ? 0x2 : 0x1) << 4) | transport;
  head.writeUInt16BE(addressBlock.length + tlvBytes.length, 14);
  return Buffer.concat([head, addressBlock, tlvBytes]);
}

/** The header on health-check connections: LOCAL, AF_UNSPEC, no client information. */
export function localProxyHeader(): Buffer {
  const head = Buffer.alloc(16);
  PP2_SIGNATURE.copy(head, 0);
  head[12] = 0x20;
  head[13] = 0x00;
  head.writeUInt16BE(0, 14);
  return head;
}

function encodeTlvs(tlvs: readonly Tlv[]): Buffer {
  return Buffer.concat(
    tlvs.map((t) => {
      const b = Buffer.alloc(3 + t.value.length);
      b[0] = t.type;
      b.writeUInt16BE(t.value.length, 1);
      t.value.copy(b, 3);
      return b;
    }),
  );
}

/** The AWS TLV naming a VPC endpoint (`0xEA`, subtype `0x01`, ASCII id). */
export function awsVpceTlv(vpceId: string): Tlv {
  return { type: PP2_TYPE_AWS, value: Buffer.concat([Buffer.from([PP2_SUBTYPE_AWS_VPCE_ID]), Buffer.from(vpceId, 'ascii')]) };
}
