import { describe, expect, it } from 'vitest';
import { describeCondition, describeTransform } from '../../../src/admin/dashboard/entities.ts';

describe('the dashboard prints conditions and transforms', () => {
  it.each([
    [{ field: 'path-pattern', pathPatternConfig: { values: ['/api/*'] } }, 'path-pattern /api/*'],
    [{ field: 'path-pattern', pathPatternConfig: { regexValues: ['^/v[0-9]+/'] } }, 'path-pattern regex ^/v[0-9]+/'],
    [{ field: 'host-header', hostHeaderConfig: { regexValues: ['^a\\.', '^b\\.'] } }, 'host-header regex ^a\\. | ^b\\.'],
    [{ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'User-Agent', regexValues: ['^curl/'] } }, 'http-header User-Agent regex ^curl/'],
    [{ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X-Env', values: ['qa', 'dev'] } }, 'http-header X-Env qa | dev'],
  ] as const)('%j as %s', (condition, text) => {
    expect(describeCondition(condition as never)).toBe(text);
  });

  it('prints a transform as regex → replacement', () => {
    expect(describeTransform({ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '^/api/(.*)$', replace: '/$1' }] } })).toBe('url-rewrite ^/api/(.*)$ → /$1');
    expect(describeTransform({ type: 'host-header-rewrite', hostHeaderRewriteConfig: { rewrites: [{ regex: '.*', replace: 'backend.internal' }] } })).toBe('host-header-rewrite .* → backend.internal');
  });
});
