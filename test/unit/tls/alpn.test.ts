/** NLB ALPN policies (spec 12.6.3): the table, picked by the policy's order, no overlap → no ALPN. */
import { describe, expect, it } from 'vitest';
import { ALPN_POLICY_PROTOCOLS, selectAlpnProtocol, type AlpnPolicy } from '../../../src/tls/alpn.ts';

describe('ALPN policies', () => {
  it("hold AWS's preference lists", () => {
    expect(ALPN_POLICY_PROTOCOLS).toEqual({
      None: [],
      HTTP1Only: ['http/1.1', 'http/1.0'],
      HTTP2Only: ['h2'],
      HTTP2Optional: ['http/1.1', 'http/1.0', 'h2'],
      HTTP2Preferred: ['h2', 'http/1.1', 'http/1.0'],
    });
  });

  const H2_H1 = ['h2', 'http/1.1'];
  const H1_H2 = ['http/1.1', 'h2'];
  it.each<[AlpnPolicy, readonly string[] | undefined, string | undefined]>([
    ['None', H2_H1, undefined],
    ['None', undefined, undefined],
    ['HTTP1Only', H2_H1, 'http/1.1'],
    ['HTTP1Only', ['h2'], undefined],
    ['HTTP1Only', ['http/1.0', 'http/1.1'], 'http/1.1'],
    ['HTTP1Only', ['http/1.0'], 'http/1.0'],
    ['HTTP2Only', H1_H2, 'h2'],
    ['HTTP2Only', ['http/1.1'], undefined],
    ['HTTP2Optional', H2_H1, 'http/1.1'],
    ['HTTP2Optional', ['h2'], 'h2'],
    ['HTTP2Optional', ['spdy/3'], undefined],
    ['HTTP2Preferred', H1_H2, 'h2'],
    ['HTTP2Preferred', ['http/1.1'], 'http/1.1'],
    ['HTTP2Preferred', ['http/1.0', 'grpc-exp'], 'http/1.0'],
    ['HTTP2Preferred', undefined, undefined],
  ])('%s with a client offering %j picks %s (by the policy order, none without overlap)', (policy, client, chosen) => {
    expect(selectAlpnProtocol(policy, client)).toBe(chosen);
  });
});
