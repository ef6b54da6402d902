/**
 * The record stage (spec 8.1, 8.3): counters and the request record once per request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { refuse } from '../../../../src/l7/pipeline/answer.ts';
import { finish } from '../../../../src/l7/pipeline/record.ts';
import { pipelineFixture, type Fixture } from '../../../support/pipeline.ts';

let fixture: Fixture;
afterEach(() => fixture.close());

describe('record', () => {
  it('counts ELB statuses by code and processed bytes, and builds one record per request', () => {
    fixture = pipelineFixture();
    const { ctx } = fixture.request({ method: 'TRACE', url: '/t?x=1', headers: ['Host', 'example.com', 'User-Agent', 'curl/8'] });
    ctx.path = '/t?x=1';
    ctx.host = 'example.com';
    refuse(ctx, 'TraceMethod');
    finish(ctx);
    const counters = fixture.runtime.counters;
    expect([counters.elbStatus[405], counters.processedBytes]).toEqual([1, 300]);
    expect(fixture.records).toEqual([
      {
        loadBalancer: 'app',
        listenerPort: 8080,
        client: { ip: '203.0.113.9', port: 40000 },
        requestProcessingMs: -1,
        targetProcessingMs: -1,
        responseProcessingMs: -1,
        elbStatusCode: 405,
        producedBy: 'elb',
        receivedBytes: 100,
        sentBytes: 200,
        method: 'TRACE',
        url: 'http://example.com:8080/t?x=1',
        httpVersion: '1.1',
        userAgent: 'curl/8',
        actionsExecuted: [],
        errorCode: 'TraceMethod',
        requestCreationTimeMs: fixture.clock.now(),
        timeMs: fixture.clock.now(),
      },
    ]);
  });

  it('builds no record when nobody listens, and still counts', () => {
    fixture = pipelineFixture();
    fixture.runtime.observer = undefined;
    const { ctx } = fixture.request();
    refuse(ctx, 'BadUri');
    expect(fixture.records).toEqual([]);
    expect(fixture.runtime.counters.elbStatus[400]).toBe(1);
  });

  it('uses the listener address in the URL when the client sent no Host', () => {
    fixture = pipelineFixture();
    const { ctx } = fixture.request({ headers: [] });
    refuse(ctx, 'TraceMethod');
    expect(fixture.records[0]!.url).toBe('http://127.0.0.1:8080/');
  });
});
