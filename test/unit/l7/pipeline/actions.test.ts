/**
 * The act stage and its actions (spec 6.3, 3.4): fixed-response and redirect answers as the
 * load balancer makes them, and the forward action's choice among weighted target groups.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chooseGroup, type ForwardChoice } from '../../../../src/l7/actions/forward.ts';
import { accept } from '../../../../src/l7/pipeline/accept.ts';
import { act } from '../../../../src/l7/pipeline/act.ts';
import type { ForwardGroup } from '../../../../src/l7/pipeline/context.ts';
import { match } from '../../../../src/l7/pipeline/match.ts';
import { seededRandom } from '../../../../src/core/random.ts';
import { pipelineFixture, type Fixture } from '../../../support/pipeline.ts';

let fixture: Fixture;
afterEach(() => fixture?.close());

function answer(defaultActions: object[], init: Parameters<Fixture['request']>[0] = {}) {
  fixture = pipelineFixture({ listener: { defaultActions: defaultActions as never } });
  const r = fixture.request(init);
  expect(accept(r.ctx)).toBeUndefined();
  match(r.ctx);
  act(r.ctx);
  return r;
}

describe('fixed-response', () => {
  it('answers the configured status, type and body with Server: awselb/2.0, counts it and records it', () => {
    const { ctx, response } = answer([{ type: 'fixed-response', fixedResponseConfig: { statusCode: '503', contentType: 'application/json', messageBody: '{"down":true}' } }]);
    expect(response.head).toMatchObject({ status: 503, reason: 'Service Unavailable', options: { contentLength: 13 } });
    expect([response.header('server'), response.header('content-type'), response.body, response.ended]).toEqual(['awselb/2.0', 'application/json', '{"down":true}', true]);
    expect(fixture.runtime.counters.fixedResponses).toBe(1);
    expect(fixture.records).toMatchObject([{ elbStatusCode: 503, producedBy: 'elb', actionsExecuted: ['fixed-response'], matchedRulePriority: 0 }]);
    expect(ctx.lease).toBeUndefined();
  });

  it('defaults to text/plain and an empty body', () => {
    const { response } = answer([{ type: 'fixed-response', fixedResponseConfig: { statusCode: '204' } }]);
    expect([response.head?.status, response.header('content-type'), response.body]).toEqual([204, 'text/plain; charset=utf-8', '']);
  });
});

describe('redirect', () => {
  it.each([
    ['HTTP_301', 301],
    ['HTTP_302', 302],
  ])('%s answers %i with the Location, counts it and records redirect_url', (statusCode, status) => {
    const { response } = answer([{ type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: '443', statusCode } }], { url: '/a/b?x=1', headers: ['Host', 'old.example.com:8080'] });
    expect(response.head?.status).toBe(status);
    expect(response.header('location')).toBe('https://old.example.com/a/b?x=1');
    expect(fixture.runtime.counters.redirects).toBe(1);
    expect(fixture.records).toMatchObject([{ elbStatusCode: status, actionsExecuted: ['redirect'], redirectUrl: 'https://old.example.com/a/b?x=1' }]);
  });
});

describe('forward: weighted target groups (spec 3.4)', () => {
  const group = (name: string) => ({ group: { name }, counters: {} }) as unknown as ForwardGroup;
  const choice = (weights: number[]): ForwardChoice => ({ groups: weights.map((_, i) => group(`g${i}`)), weights, totalWeight: weights.reduce((a, b) => a + b, 0), groupStickinessMs: undefined });
  const shares = (c: ForwardChoice, n = 20_000) => {
    const random = seededRandom(7);
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const name = chooseGroup(c, random).group.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return c.groups.map((g) => (counts.get(g.group.name) ?? 0) / n);
  };

  it.each([
    [[80, 20]],
    [[1, 1, 2]],
    [[0, 5]],
  ])('sends each group its weight over the total: %j', (weights) => {
    const total = weights.reduce((a, b) => a + b, 0);
    shares(choice(weights)).forEach((share, i) => expect(Math.abs(share - weights[i]! / total)).toBeLessThan(0.015));
  });

  it('sends everything to the first group when every weight is 0', () => {
    expect(shares(choice([0, 0]))).toEqual([1, 0]);
  });

  it('forwards through the weighted action to the chosen group with the trace id and X-Forwarded-*', () => {
    fixture = pipelineFixture({
      targetGroups: [
        { name: 'blue', protocol: 'HTTP', port: 80, targets: [{ id: '10.0.0.1' }] },
        { name: 'green', protocol: 'HTTP', port: 80, targets: [{ id: '10.0.0.2' }] },
      ],
      listener: { defaultActions: [{ type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: 'blue', weight: 0 }, { targetGroupName: 'green', weight: 1 }] } }] },
    });
    const { ctx } = fixture.request({ url: '/x', headers: ['Host', 'example.com'] });
    accept(ctx);
    match(ctx);
    act(ctx);
    const sent = fixture.upstream.last;
    expect(sent.target).toMatchObject({ id: '10.0.0.2', port: 80 });
    expect(sent.request).toMatchObject({ method: 'GET', path: '/x', body: 'none' });
    const headers = Object.fromEntries(Array.from({ length: sent.request.headers.length / 2 }, (_, i) => [sent.request.headers[2 * i]!.toLowerCase(), sent.request.headers[2 * i + 1]]));
    expect(headers).toMatchObject({ host: 'example.com:8080', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'http', 'x-forwarded-port': '8080' });
    expect(headers['x-amzn-trace-id']).toBe(ctx.traceId);
    expect(ctx.traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });
});
