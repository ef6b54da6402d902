import { describe, expect, it } from 'vitest';
import { redirectLocation } from '../../../src/l7/actions/redirect.ts';

const keep = { protocol: '#{protocol}', host: '#{host}', port: '#{port}', path: '/#{path}', query: '#{query}' };
const req = { protocol: 'http', host: 'www.example.com:8080', port: 8080, path: '/a/b?x=1&y=2' };

describe('redirectLocation (spec 6.3)', () => {
  it.each([
    ['keeps every component with the defaults', {}, req, 'http://www.example.com:8080/a/b?x=1&y=2'],
    ['switches to HTTPS on 443 and drops the default port', { protocol: 'HTTPS', port: '443' }, req, 'https://www.example.com/a/b?x=1&y=2'],
    ['drops port 80 for http', { port: '80' }, req, 'http://www.example.com/a/b?x=1&y=2'],
    ['keeps port 443 for http', { port: '443' }, req, 'http://www.example.com:443/a/b?x=1&y=2'],
    ['keeps port 80 for https', { protocol: 'HTTPS', port: '80' }, req, 'https://www.example.com:80/a/b?x=1&y=2'],
    ['changes the host', { host: 'new.example.com' }, req, 'http://new.example.com:8080/a/b?x=1&y=2'],
    ['expands #{path} without its leading slash', { path: '/new/#{path}' }, req, 'http://www.example.com:8080/new/a/b?x=1&y=2'],
    ['expands #{host} and #{port} inside the path', { path: '/#{host}/#{port}' }, req, 'http://www.example.com:8080/www.example.com/8080?x=1&y=2'],
    ['adds to the query', { query: '#{query}&z=3' }, req, 'http://www.example.com:8080/a/b?x=1&y=2&z=3'],
    ['replaces the query', { query: 'only=1' }, req, 'http://www.example.com:8080/a/b?only=1'],
    ['writes no ? when the query is empty', {}, { ...req, path: '/a' }, 'http://www.example.com:8080/a'],
    ['drops the query when told to', { query: '' }, req, 'http://www.example.com:8080/a/b'],
    ['strips the port from a Host header before expanding #{host}', { port: '80' }, { ...req, host: 'www.example.com:8080' }, 'http://www.example.com/a/b?x=1&y=2'],
    ['works with a Host header without a port', {}, { ...req, host: 'www.example.com', port: 80 }, 'http://www.example.com/a/b?x=1&y=2'],
    ['keeps an IPv6 host in brackets', {}, { ...req, host: '[::1]:8080' }, 'http://[::1]:8080/a/b?x=1&y=2'],
    ['keeps the root path', {}, { ...req, path: '/' }, 'http://www.example.com:8080/'],
  ])('%s', (_what, change, request, expected) => {
    expect(redirectLocation({ ...keep, ...change }, request)).toBe(expected);
  });
});
