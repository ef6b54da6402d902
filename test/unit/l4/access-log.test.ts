/**
 * NLB access-log lines (spec 8.2): fields in AWS's order, AWS's placeholders, and AWS's own
 * example lines reproduced from the same values.
 */
import { describe, expect, it } from 'vitest';
import { nlbAccessLogLine, type TlsConnectionRecord } from '../../../src/l4/access-log.ts';

const ARN = 'arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99';
const DOMAIN = 'my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com';

/** The values of the AWS guide's examples: 5 ms, 2 ms handshake, 98 bytes in, 246 out. */
function established(overrides: Partial<TlsConnectionRecord> = {}): TlsConnectionRecord {
  const end = Date.parse('2020-04-01T08:51:42Z');
  return {
    loadBalancer: 'my-network-loadbalancer',
    listener: 'g3d4b5e8bb8464cd',
    client: { ip: '72.21.218.154', port: 51341 },
    destination: { ip: '172.100.100.185', port: 443 },
    target: { id: '10.0.0.5', port: 8443 },
    startedAtMs: end - 5,
    endedAtMs: end,
    tlsHandshakeMs: 2,
    receivedBytes: 98,
    sentBytes: 246,
    incomingTlsAlert: undefined,
    chosenCertArn: ARN,
    tlsCipher: 'ECDHE-RSA-AES128-SHA',
    tlsProtocol: 'TLSv1.2',
    domainName: DOMAIN,
    alpnFrontEnd: 'h2',
    alpnBackEnd: 'h2',
    alpnClientPreferenceList: ['h2', 'http/1.1'],
    ...overrides,
  };
}

const fields = (line: string) => line.split(' ');

describe('nlbAccessLogLine', () => {
  it("writes the AWS guide's example with an ALPN policy, field for field (the connection-creation time from the start)", () => {
    const line = nlbAccessLogLine(established({ startedAtMs: Date.parse('2020-04-01T08:51:20Z'), endedAtMs: Date.parse('2020-04-01T08:51:20Z') + 5 }), 'my-network-loadbalancer/c6e77e28c25b2234');
    expect(line.replace(/^(\S+ \S+) \S+/, '$1 T')).toBe(
      `tls 2.0 T net/my-network-loadbalancer/c6e77e28c25b2234/local g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - ${ARN} - ECDHE-RSA-AES128-SHA tlsv12 - ${DOMAIN} h2 h2 "h2","http/1.1" 2020-04-01T08:51:20`,
    );
  });

  it('has 22 fields: time and creation time as AWS writes them (UTC, whole seconds, no zone letter)', () => {
    const f = fields(nlbAccessLogLine(established()));
    expect(f).toHaveLength(22);
    expect(f[2]).toBe('2020-04-01T08:51:42');
    expect(f[3]).toBe('net/my-network-loadbalancer/local');
    expect(f[7]).toBe('5');
    expect(f[21]).toBe('2020-04-01T08:51:41');
  });

  it.each([
    ['TLSv1', 'tlsv10'],
    ['TLSv1.1', 'tlsv11'],
    ['TLSv1.2', 'tlsv12'],
    ['TLSv1.3', 'tlsv13'],
  ])('writes protocol %s as %s', (protocol, logged) => {
    expect(fields(nlbAccessLogLine(established({ tlsProtocol: protocol })))[15]).toBe(logged);
  });

  it('writes "-" where the listener has no ALPN policy and the client sent no SNI', () => {
    const f = fields(nlbAccessLogLine(established({ alpnFrontEnd: undefined, alpnBackEnd: undefined, alpnClientPreferenceList: undefined, domainName: undefined })));
    expect(f.slice(17, 21)).toEqual(['-', '-', '-', '-']);
  });

  it('writes a failed handshake with a valid ClientHello: no handshake time, cipher or protocol; the certificate SNI chose; the alert the client sent', () => {
    const line = nlbAccessLogLine(
      established({
        tlsHandshakeMs: undefined,
        receivedBytes: 0,
        sentBytes: 0,
        incomingTlsAlert: 48,
        tlsCipher: undefined,
        tlsProtocol: undefined,
        alpnFrontEnd: undefined,
        alpnBackEnd: undefined,
        target: undefined,
        failure: 'client_tls_error',
      }),
    );
    const f = fields(line);
    expect(f.slice(8, 21)).toEqual(['-', '0', '0', '48', ARN, '-', '-', '-', '-', DOMAIN, '-', '-', '"h2","http/1.1"']);
  });

  it('writes a connection that sent no valid ClientHello with "-" for the certificate, SNI and the client list', () => {
    const f = fields(
      nlbAccessLogLine(
        established({
          tlsHandshakeMs: undefined,
          receivedBytes: 0,
          sentBytes: 0,
          chosenCertArn: undefined,
          tlsCipher: undefined,
          tlsProtocol: undefined,
          domainName: undefined,
          alpnFrontEnd: undefined,
          alpnBackEnd: undefined,
          alpnClientPreferenceList: undefined,
        }),
      ),
    );
    expect(f.slice(8, 21)).toEqual(['-', '0', '0', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-']);
  });

  it('URL-encodes the SNI name and each ALPN protocol, quotes each, and truncates the list at 256 bytes', () => {
    const f = fields(nlbAccessLogLine(established({ domainName: 'a b.example', alpnClientPreferenceList: ['h2', 'x"y,z', 'caf\u00e9'] })));
    expect(f[17]).toBe('a%20b.example');
    expect(f[20]).toBe('"h2","x%22y%2Cz","caf%E9"');
    const long = fields(nlbAccessLogLine(established({ alpnClientPreferenceList: Array.from({ length: 40 }, (_, i) => `proto-${i}`) })))[20]!;
    expect(long).toHaveLength(256);
    expect(long.startsWith('"proto-0","proto-1",')).toBe(true);
  });
});
