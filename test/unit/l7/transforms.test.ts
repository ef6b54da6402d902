import { describe, expect, it } from 'vitest';
import { applyTransforms, compileTransforms, rewrite, type CompiledTransforms } from '../../../src/l7/transforms.ts';

const url = (regex: string, replace: string) => ({ type: 'url-rewrite' as const, urlRewriteConfig: { rewrites: [{ regex, replace }] } });
const host = (regex: string, replace: string) => ({ type: 'host-header-rewrite' as const, hostHeaderRewriteConfig: { rewrites: [{ regex, replace }] } });

function compiled(...transforms: Parameters<typeof compileTransforms>[0] & unknown[]): CompiledTransforms {
  return compileTransforms(transforms)!;
}

describe('rewrite: one regex, one replacement (spec 6.1)', () => {
  it.each([
    ['replaces the match with $1 groups', '^/api/(.*)$', '/$1', '/api/users?x=1', '/users?x=1'],
    ["AWS's example: a path to a query string", '^/dp/([A-Za-z0-9]+)/?$', '/product.php?id=$1', '/dp/B09G3HRMW', '/product.php?id=B09G3HRMW'],
    ['keeps what is around the first match', 'v1', 'v2', '/v1/a/v1', '/v2/a/v1'],
    ["the controller's ReplaceFullPath keeps the query", '^([^?]*)', '/new', '/old/path?q=1', '/new?q=1'],
    ["the controller's ReplacePrefixMatch", '(^/foo(/)?)', '/bar$2', '/foo/x', '/bar/x'],
    ["ReplacePrefixMatch with an unmatched optional group", '(^/foo(/)?)', '/bar$2', '/foo', '/bar'],
    ['`.*` replaces the whole string once', '.*', 'internal.example.com', 'www.example.com', 'internal.example.com'],
    ['$$ is a literal dollar', '^/a', '/$$1', '/a', '/$1'],
    ['$0 is the whole match', '^/a+', '$0$0', '/aa/b', '/aa/aa/b'],
  ])('%s', (_name, regex, replace, input, expected) => {
    expect(rewrite(compiled(url(regex, replace)).url!, input)).toBe(expected);
  });

  it('answers undefined when the regex does not match', () => {
    expect(rewrite(compiled(url('^/api/', '/')).url!, '/web/x')).toBeUndefined();
  });
});

describe('applyTransforms: what the request gets', () => {
  it.each([
    ['no match leaves both alone', [url('^/api/', '/'), host('^api\\.', 'x.')], 'www.example.com', '/web', { status: 'TransformNoMatch' }],
    ['a url-rewrite match', [url('^/api/(.*)$', '/$1')], 'www.example.com', '/api/a?b=c', { status: 'TransformSucceeded', target: '/a?b=c' }],
    ["AWS's host example", [host('^mywebsite-(.+).com$', 'internal.dev.$1.myweb.com')], 'mywebsite-example.com', '/', { status: 'TransformSucceeded', host: 'internal.dev.example.myweb.com' }],
    ['both rewrites', [url('^/a', '/b'), host('^w', 'v')], 'www.example.com', '/a', { status: 'TransformSucceeded', host: 'vww.example.com', target: '/b' }],
    ['only the url matching', [url('^/a', '/b'), host('^zzz', 'v')], 'www.example.com', '/a', { status: 'TransformSucceeded', target: '/b' }],
    ['a url result without a leading / fails', [url('^/(.*)$', '$1')], 'www.example.com', '/a', { status: 'TransformFailed', failed: 'url-rewrite' }],
    ['a url result with a space fails', [url('^/a', '/a b')], 'www.example.com', '/a', { status: 'TransformFailed', failed: 'url-rewrite' }],
    ['a url result over the 16 KiB request line fails', [url('^/a', `/${'x'.repeat(16 * 1024)}`)], 'www.example.com', '/a', { status: 'TransformFailed', failed: 'url-rewrite' }],
    ['an empty host result fails', [host('.*', '')], 'www.example.com', '/', { status: 'TransformFailed', failed: 'host-header-rewrite' }],
    ['a host result with a slash fails', [host('^www', 'a/b')], 'www.example.com', '/', { status: 'TransformFailed', failed: 'host-header-rewrite' }],
    ['a host result over 253 characters fails', [host('^www', 'a'.repeat(254))], 'www', '/', { status: 'TransformFailed', failed: 'host-header-rewrite' }],
  ] as const)('%s', (_name, transforms, hostName, target, expected) => {
    expect(applyTransforms(compiled(...(transforms as never as Parameters<typeof compileTransforms>[0] & unknown[])), hostName, target, 'GET')).toEqual(expected);
  });

  it('compiles nothing for a rule without transforms', () => {
    expect(compileTransforms(undefined)).toBeUndefined();
    expect(compileTransforms([])).toBeUndefined();
  });
});
