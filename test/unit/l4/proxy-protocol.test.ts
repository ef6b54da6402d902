/**
 * Proxy Protocol v2 headers (spec 5.2), byte for byte against the spec's examples and AWS's own
 * PrivateLink fixture, and read back by an independent parser (proxy-protocol-js).
 */
import {
  Command,
  IPv4Address,
  IPv4ProxyAddress,
  IPv6ProxyAddress,
  TransportProtocol,
  UnspecProxyAddress,
  V2ProxyProtocol,
} from 'proxy-protocol-js';
import { describe, expect, it } from 'vitest';
import {
  awsVpceTlv,
  localProxyHeader,
  PP2_SIGNATURE,
  PP2_TYPE_CRC32C,
  PP2_TYPE_NOOP,
  proxyHeader,
  type ProxyAddresses,
} from '../../../src/l4/proxy-protocol.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SIGNATURE = '0D0A0D0A000D0A515549540A';

/** CRC-32C (Castagnoli), reflected, as PP2_TYPE_CRC32C uses it. */
function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const direct: ProxyAddresses = { sourceAddress: '198.51.100.7', sourcePort: 40000, destinationAddress: '10.0.0.10', destinationPort: 443 };

describe('proxyHeader', () => {
  it("encodes the spec's minimal example byte for byte: 198.51.100.7:40000 -> 10.0.0.10:443, no TLVs", () => {
    expect(proxyHeader(direct).toString('hex').toUpperCase()).toBe(`${SIGNATURE}21 11 000C C6336407 0A00000A 9C40 01BB`.replace(/ /g, ''));
  });

  it('starts with the 12-byte signature \\r\\n\\r\\n\\0\\r\\nQUIT\\n', () => {
    expect(PP2_SIGNATURE).toEqual(Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1'));
  });

  it('encodes IPv6 clients with family 0x21 (INET6, STREAM) and length 36', () => {
    const h = proxyHeader({ sourceAddress: '2001:db8::7', sourcePort: 40000, destinationAddress: 'fd00::a', destinationPort: 443 });
    expect(h).toEqual(
      Buffer.concat([
        hex(SIGNATURE),
        hex('21 21 0024'),
        hex('20010DB8 00000000 00000000 00000007'),
        hex('FD000000 00000000 00000000 0000000A'),
        hex('9C40 01BB'),
      ]),
    );
    expect(h).toHaveLength(16 + 36);
  });

  it('maps an IPv4 address to ::ffff:a.b.c.d when the other side is IPv6', () => {
    const h = proxyHeader({ sourceAddress: '198.51.100.7', sourcePort: 1, destinationAddress: '::1', destinationPort: 2 });
    expect(h.subarray(12, 16)).toEqual(hex('21 21 0024'));
    expect(h.subarray(16, 32)).toEqual(hex('00000000 00000000 0000FFFF C6336407'));
    expect(h.subarray(32, 48)).toEqual(hex('00000000 00000000 00000000 00000001'));
  });

  it('reads IPv4-mapped IPv6 text (::ffff:198.51.100.7) the same way', () => {
    const h = proxyHeader({ sourceAddress: '::ffff:198.51.100.7', sourcePort: 1, destinationAddress: '2001:db8::1', destinationPort: 2 });
    expect(h.subarray(16, 32)).toEqual(hex('00000000 00000000 0000FFFF C6336407'));
  });

  it('marks UDP as DGRAM (0x12)', () => {
    expect(proxyHeader({ ...direct, transport: 'dgram' })[13]).toBe(0x12);
  });

  it('rejects something that is not an IP address', () => {
    expect(() => proxyHeader({ ...direct, sourceAddress: 'localhost' })).toThrow(/not an IP address: localhost/);
  });

  it("reproduces AWS's PrivateLink fixture with CRC32C, AWS VPCE and NOOP TLVs (len 84), and its checksum verifies", () => {
    const vpce = 'vpce-08d2bf15fac5001c9';
    const fixture = Buffer.concat([
      hex(SIGNATURE),
      hex('21 11 0054'),
      hex('AC1F0771 AC1F0A1F C8F2 0050'),
      hex('03 0004 E8D6892D'),
      hex('EA 0017 01'),
      Buffer.from(vpce, 'ascii'),
      hex('04 0024'),
      Buffer.alloc(36),
    ]);
    const h = proxyHeader({ sourceAddress: '172.31.7.113', sourcePort: 51442, destinationAddress: '172.31.10.31', destinationPort: 80 }, [
      { type: PP2_TYPE_CRC32C, value: hex('E8D6892D') },
      awsVpceTlv(vpce),
      { type: PP2_TYPE_NOOP, value: Buffer.alloc(36) },
    ]);
    expect(h).toEqual(fixture);
    expect(h).toHaveLength(16 + 84);
    expect(awsVpceTlv(vpce).value).toHaveLength(23);
    // The CRC is over the whole header with its own field zeroed: matching AWS's value shows
    // the rebuilt bytes are AWS's bytes.
    const zeroed = Buffer.from(h);
    zeroed.fill(0, 31, 35);
    expect(crc32c(zeroed)).toBe(0xe8d6892d);
  });
});

describe('localProxyHeader', () => {
  it('is LOCAL (0x20) with AF_UNSPEC (0x00) and no address block (len 0), as on health-check connections', () => {
    expect(localProxyHeader()).toEqual(hex(`${SIGNATURE} 20 00 0000`));
  });
});

describe('read back by an independent parser (proxy-protocol-js)', () => {
  it('parses the IPv4 header as PROXY, STREAM with the client and listener addresses, and builds the same bytes', () => {
    const parsed = V2ProxyProtocol.parse(new Uint8Array(proxyHeader(direct)));
    expect(parsed.command).toBe(Command.PROXY);
    expect(parsed.transportProtocol).toBe(TransportProtocol.STREAM);
    expect(parsed.proxyAddress).toBeInstanceOf(IPv4ProxyAddress);
    const a = parsed.proxyAddress as IPv4ProxyAddress;
    expect({ src: a.sourceAddress.address, srcPort: a.sourcePort, dst: a.destinationAddress.address, dstPort: a.destinationPort }).toEqual({
      src: [198, 51, 100, 7],
      srcPort: 40000,
      dst: [10, 0, 0, 10],
      dstPort: 443,
    });
    expect(parsed.data).toHaveLength(0);
    const built = new V2ProxyProtocol(
      Command.PROXY,
      TransportProtocol.STREAM,
      new IPv4ProxyAddress(IPv4Address.createFrom([198, 51, 100, 7]), 40000, IPv4Address.createFrom([10, 0, 0, 10]), 443),
    ).build();
    expect(Buffer.from(built)).toEqual(proxyHeader(direct));
  });

  it('parses the IPv6 header with both 16-byte addresses and ports', () => {
    const parsed = V2ProxyProtocol.parse(new Uint8Array(proxyHeader({ sourceAddress: '2001:db8::7', sourcePort: 40000, destinationAddress: 'fd00::a', destinationPort: 443 })));
    expect(parsed.proxyAddress).toBeInstanceOf(IPv6ProxyAddress);
    const a = parsed.proxyAddress as IPv6ProxyAddress;
    expect(a.sourceAddress.address).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
    expect(a.destinationAddress.address).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a]);
    expect([a.sourcePort, a.destinationPort]).toEqual([40000, 443]);
  });

  it('parses the health-check header as LOCAL with an unspecified address', () => {
    const parsed = V2ProxyProtocol.parse(new Uint8Array(localProxyHeader()));
    expect(parsed.command).toBe(Command.LOCAL);
    expect(parsed.transportProtocol).toBe(TransportProtocol.UNSPEC);
    expect(parsed.proxyAddress).toBeInstanceOf(UnspecProxyAddress);
  });

  it('leaves the TLVs right after the address block', () => {
    const parsed = V2ProxyProtocol.parse(new Uint8Array(proxyHeader(direct, [awsVpceTlv('vpce-0123456789abcdef0')])));
    expect(Buffer.from(parsed.data!)).toEqual(Buffer.concat([hex('EA 0017 01'), Buffer.from('vpce-0123456789abcdef0')]));
  });
});
