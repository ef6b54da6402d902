/**
 * The match stage (spec 6.1, 6.2, 8.3): the rule chosen, and RuleEvaluations counted only for
 * listeners with rules.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { accept } from '../../../../src/l7/pipeline/accept.ts';
import { match } from '../../../../src/l7/pipeline/match.ts';
import { pipelineFixture, type Fixture } from '../../../support/pipeline.ts';

let fixture: Fixture;
afterEach(() => fixture.close());

const rules = [
  { priority: 20, conditions: [{ field: 'host-header' as const, values: ['*.example.com'] }], actions: [{ type: 'fixed-response' as const, fixedResponseConfig: { statusCode: '200' } }] },
  { priority: 10, conditions: [{ field: 'path-pattern' as const, values: ['/api/*'] }], actions: [{ type: 'fixed-response' as const, fixedResponseConfig: { statusCode: '201' } }] },
  { priority: 30, conditions: [{ field: 'query-string' as const, queryStringConfig: { values: [{ key: 'v', value: '2' }] } }], actions: [{ type: 'fixed-response' as const, fixedResponseConfig: { statusCode: '202' } }] },
];

describe('match', () => {
  it('takes the default action without evaluating anything on a listener without rules', () => {
    fixture = pipelineFixture();
    const { ctx } = fixture.request();
    accept(ctx);
    match(ctx);
    expect(ctx.match).toMatchObject({ priority: 0, evaluations: 0, action: { type: 'forward' } });
    expect(fixture.runtime.counters.ruleEvaluations).toBe(0);
  });

  it.each([
    ['/api/users', 'www.example.com', '', 10, 1],
    ['/', 'www.example.com:8080', '', 20, 2],
    ['/', 'other.test', '?v=2', 30, 3],
    ['/', 'other.test', '?v=3', 0, 3],
  ])('path %s host %s query %j → priority %i after %i evaluations', (path, host, query, priority, evaluations) => {
    fixture = pipelineFixture({ listener: { defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rules } });
    const { ctx } = fixture.request({ url: `${path}${query}`, headers: ['Host', host] });
    accept(ctx);
    match(ctx);
    expect(ctx.match).toMatchObject({ priority, evaluations });
    expect(fixture.runtime.counters.ruleEvaluations).toBe(evaluations);
  });
});
