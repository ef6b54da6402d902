/**
 * The forward stage (spec 2.6, 3.1, 4.1, 7.1, 7.2) on a virtual clock with a scripted upstream:
 * how a request ends in each of its ways, what the client and the record get, the counters,
 * back-pressure both ways, and the outcome each way reports to the lease (what anomaly
 * detection counts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ElbError, ErrorCodes } from '../../../../src/core/errors.ts';
import { accept } from '../../../../src/l7/pipeline/accept.ts';
import { act } from '../../../../src/l7/pipeline/act.ts';
import { match } from '../../../../src/l7/pipeline/match.ts';
import type { Outcome } from '../../../../src/algorithms/index.ts';
import { pipelineFixture, type Fixture, type RequestInit } from '../../../support/pipeline.ts';

let fixture: Fixture;
afterEach(() => fixture.close());

/**
 * A web group with one target whose leases record the outcome each is released with: what
 * the group's outcome statistics (anomaly detection, spec 3.1) receive.
 */
function setup(attributes: Record<string, string> = {}) {
  const outcomes: Array<[string, Outcome]> = [];
  fixture = pipelineFixture({
    targetGroups: [{ name: 'web', protocol: 'HTTP', port: 80, attributes: { 'load_balancing.algorithm.type': 'weighted_random', ...attributes }, targets: [{ id: '10.0.0.1' }] }],
  });
  const group = fixture.group('web');
  const acquire = group.acquire.bind(group);
  group.acquire = (ctx) => {
    const lease = acquire(ctx);
    let released = false;
    return {
      target: lease.target,
      release: (outcome) => {
        // As a lease counts only its first release.
        if (!released && outcome !== undefined) outcomes.push([lease.target.key, outcome]);
        released = true;
        lease.release(outcome);
      },
      onCut: (fn) => lease.onCut(fn),
    };
  };
  expect(group.healthyHostCount).toBe(1);
  const counters = fixture.metrics.targetGroupCounters('app', 'web');
  return { group, counters, outcomes };
}

function send(init: RequestInit = {}) {
  const r = fixture.request(init);
  expect(accept(r.ctx)).toBeUndefined();
  match(r.ctx);
  act(r.ctx);
  return { ...r, exchange: fixture.upstream.exchanges.at(-1) };
}

const failed = (code: ElbError['code'], cause?: string) => new ElbError(code, 'x', cause === undefined ? undefined : { cause: Object.assign(new Error(cause), { code: cause }) });

describe('forward: the target answers', () => {
  it('streams the response through, times it on the one clock, counts it and releases the lease as ok', () => {
    const { group, counters, outcomes } = setup();
    const { response, exchange } = send({ url: '/a' });
    expect(group.targets()[0]!.outstanding).toBe(1);
    fixture.clock.advanceSync(25);
    exchange!.head(200, ['Content-Length', '5', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'X-App', '1'], 'OK');
    expect(response.head).toEqual({ status: 200, reason: 'OK', headers: ['Content-Length', '5', 'X-App', '1'], options: { contentLength: 5, hasDate: false } });
    exchange!.data('hello');
    exchange!.handler.onEnd();
    expect([response.body, response.ended]).toEqual(['hello', true]);
    expect(group.targets()[0]!.outstanding).toBe(0);
    expect(outcomes).toEqual([['10.0.0.1:80', 'ok']]);
    expect([counters.requests, counters.targetStatus[200], counters.responseTimeCount, counters.responseTimeSum]).toEqual([1, 1, 1, 0.025]);
    expect(fixture.records).toMatchObject([
      { elbStatusCode: 200, targetStatusCode: 200, producedBy: 'target', target: { id: '10.0.0.1', port: 80 }, targetGroup: 'web', requestProcessingMs: 0, targetProcessingMs: 25, responseProcessingMs: 0, actionsExecuted: ['forward'] },
    ]);
  });

  it.each([
    [500, 'error'],
    [503, 'error'],
    [404, 'ok'],
    [302, 'ok'],
  ])('reports a %i from the target to the lease as %s', (status, outcome) => {
    const { outcomes } = setup();
    const { exchange } = send();
    exchange!.head(status, ['Content-Length', '0']);
    exchange!.handler.onEnd();
    expect(outcomes).toEqual([['10.0.0.1:80', outcome]]);
  });

  it('pauses the target while the client is slow and resumes it on drain', () => {
    setup();
    const { response, exchange } = send();
    exchange!.head(200, []);
    response.writable = false;
    expect(exchange!.data('a')).toBe(false);
    expect(exchange!.paused).toBe(true);
    response.drain();
    expect(exchange!.paused).toBe(false);
  });
});

describe('forward: the request body', () => {
  it('sends 100 Continue, streams a chunked body with back-pressure and ends it', () => {
    setup();
    const { response, body, exchange } = send({ method: 'POST', body: 'chunked', headers: ['Host', 'x', 'Transfer-Encoding', 'chunked'] });
    expect(exchange!.request.body).toBe('chunked');
    expect(response.continued).toBe(true);
    expect(body!.send('first')).toBe(true);
    exchange!.writable = false;
    expect(body!.send('second')).toBe(false);
    exchange!.drainBody();
    expect(body!.resumes).toBe(1);
    body!.finish();
    expect([exchange!.body, exchange!.bodyEnded]).toEqual([['first', 'second'], true]);
  });

  it('keeps the framing of a body with Content-Length', () => {
    setup();
    const { exchange } = send({ method: 'PUT', body: 3, headers: ['Host', 'x', 'Content-Length', '3'] });
    expect(exchange!.request.body).toBe('length');
    expect(exchange!.request.headers).toContain('Content-Length');
  });

  it('answers 400 and stops the target when the client body ends early or is malformed, without blaming the target', () => {
    const { group, outcomes } = setup();
    const { response, body, exchange } = send({ method: 'POST', body: 10 });
    body!.send('abc');
    body!.fail();
    expect(exchange!.aborted).toBe(true);
    expect(response.head?.status).toBe(400);
    expect(response.header('connection') ?? response.head?.options.close).toBe(true);
    expect(group.targets()[0]!.outstanding).toBe(0);
    expect(outcomes).toEqual([]);
    expect(fixture.records).toMatchObject([{ elbStatusCode: 400, producedBy: 'elb', errorCode: 'IncompleteBody' }]);
  });
});

describe('forward: failures (spec 7.1)', () => {
  it.each([
    ['the target refuses the connection', failed(ErrorCodes.TARGET_CONNECTION_FAILED, 'ECONNREFUSED'), 502, 'ECONNREFUSED', 1],
    ['the target resets the connection', failed(ErrorCodes.TARGET_CONNECTION_FAILED, 'ECONNRESET'), 502, 'ECONNRESET', 0],
    ['the target sends an invalid response', failed(ErrorCodes.TARGET_INVALID_RESPONSE, 'HPE_INVALID_CONSTANT'), 502, 'HPE_INVALID_CONSTANT', 0],
    ['no connection within 10 s', failed(ErrorCodes.TARGET_CONNECT_TIMEOUT), 504, ErrorCodes.TARGET_CONNECT_TIMEOUT, 1],
    ['no answer within the idle timeout', failed(ErrorCodes.TARGET_TIMEOUT), 504, ErrorCodes.TARGET_TIMEOUT, 0],
  ])('when %s before answering: %i page, error code %s, TargetConnectionErrorCount +%i, lease outcome error', (_name, error, status, code, connectionErrors) => {
    const { counters, outcomes } = setup();
    const { response, exchange } = send();
    exchange!.handler.onError(error, false);
    expect(response.head?.status).toBe(status);
    expect(response.header('server')).toBe('awselb/2.0');
    expect(response.body).toContain(`<title>${status} `);
    expect(counters.connectionErrors).toBe(connectionErrors);
    expect(outcomes).toEqual([['10.0.0.1:80', 'error']]);
    expect(fixture.records).toMatchObject([{ elbStatusCode: status, producedBy: 'elb', errorCode: code }]);
    expect(fixture.metrics.loadBalancerCounters('app').elbStatus[status]).toBe(1);
  });

  it('cuts the client connection when the target fails after its head, keeping the target status in the record', () => {
    const { outcomes } = setup();
    const { response, exchange } = send();
    exchange!.head(200, ['Content-Length', '100']);
    exchange!.handler.onError(failed(ErrorCodes.TARGET_CONNECTION_FAILED, 'ECONNRESET'), true);
    expect(response.aborted).toBe(true);
    expect(outcomes).toEqual([['10.0.0.1:80', 'error']]);
    expect(fixture.records).toMatchObject([{ elbStatusCode: 200, targetStatusCode: 200, producedBy: 'target', errorCode: 'ECONNRESET' }]);
  });

  it('answers 503 without a lease or RequestCount when the group has no registered targets', () => {
    fixture = pipelineFixture();
    const { response } = send();
    expect(response.head?.status).toBe(503);
    expect(fixture.upstream.exchanges).toHaveLength(0);
    expect(fixture.metrics.targetGroupCounters('app', 'web').requests).toBe(0);
    expect(fixture.records).toMatchObject([{ elbStatusCode: 503, errorCode: ErrorCodes.NO_REGISTERED_TARGETS, targetGroup: 'web', actionsExecuted: ['forward'] }]);
  });
});

describe('forward: the client goes away', () => {
  it.each([
    ['closes', 'closed' as const, 460],
    ['stops sending or reading for the idle timeout', 'timeout' as const, 408],
  ])('when the client %s: the target request is aborted, %i is recorded, and the target is not blamed', (_name, why, status) => {
    const { group, outcomes } = setup();
    const { response, exchange } = send();
    response.gone(why);
    expect(exchange!.aborted).toBe(true);
    expect(group.targets()[0]!.outstanding).toBe(0);
    expect(outcomes).toEqual([]);
    expect(fixture.records).toMatchObject([{ elbStatusCode: status, producedBy: 'elb', errorCode: ErrorCodes.CLIENT_CLOSED }]);
  });
});

describe('forward: the deregistration delay ends with the request in flight (spec 4.1)', () => {
  it('answers 502 and counts the cut request as an error for anomaly detection', async () => {
    const { group, outcomes } = setup({ 'deregistration_delay.timeout_seconds': '5' });
    const { response, exchange } = send();
    const drained = group.deregister([{ id: '10.0.0.1' }]);
    await fixture.clock.advance(5000);
    expect(await drained).toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'cut', cutRequests: 1 }]);
    expect(exchange!.aborted).toBe(true);
    expect(response.head?.status).toBe(502);
    expect(outcomes).toEqual([['10.0.0.1:80', 'error']]);
    expect(fixture.records).toMatchObject([{ elbStatusCode: 502, errorCode: ErrorCodes.DEREGISTRATION_DELAY_ELAPSED }]);
  });

  it('cuts the client connection when the response had started', async () => {
    const { group, outcomes } = setup({ 'deregistration_delay.timeout_seconds': '5' });
    const { response, exchange } = send();
    exchange!.head(200, []);
    void group.deregister([{ id: '10.0.0.1' }]);
    await fixture.clock.advance(5000);
    expect([response.aborted, exchange!.aborted]).toEqual([true, true]);
    expect(outcomes).toEqual([['10.0.0.1:80', 'error']]);
    expect(fixture.records).toMatchObject([{ elbStatusCode: 200, producedBy: 'target', errorCode: ErrorCodes.DEREGISTRATION_DELAY_ELAPSED }]);
  });
});
