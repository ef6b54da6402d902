import { describe, expect, it } from 'vitest';
import { ErrorCodes, isElbError } from '../../../src/core/errors.ts';
import { parseCertificateName, parseCertificateNames } from '../../../src/tls/names.ts';

describe('parseCertificateName', () => {
  it.each([
    ['localhost', 'dns', 'localhost'],
    ['api.example.com', 'dns', 'api.example.com'],
    ['API.Example.COM', 'dns', 'api.example.com'],
    ['*.localtest.me', 'dns', '*.localtest.me'],
    ['xn--mnchen-3ya.de', 'dns', 'xn--mnchen-3ya.de'],
    ['a-b.c1', 'dns', 'a-b.c1'],
    ['127.0.0.1', 'ip', '127.0.0.1'],
    ['127.240.0.7', 'ip', '127.240.0.7'],
    ['::1', 'ip', '::1'],
    ['2001:DB8:0:0::1', 'ip', '2001:db8::1'],
    ['::ffff:127.0.0.1', 'ip', '::ffff:7f00:1'],
  ])('accepts %j as a %s name %j', (value, kind, canonical) => {
    expect(parseCertificateName(value)).toEqual({ kind, value: canonical });
  });

  it.each([
    ['', 'it is empty'],
    ['foo_bar.example.com', 'label "foo_bar" must be letters, digits and "-"'],
    ['-a.example.com', 'label "-a" must be letters'],
    ['a-.example.com', 'label "a-" must be letters'],
    ['a..example.com', 'empty label'],
    ['example.com.', 'trailing dot'],
    ['*', 'at least two labels after "*."'],
    ['*.com', 'at least two labels after "*."'],
    ['*.*.example.com', '"*" may only be the whole left-most label'],
    ['a.*.example.com', '"*" may only be the whole left-most label'],
    ['*foo.example.com', '"*" may only be the whole left-most label'],
    ['f*o.example.com', '"*" may only be the whole left-most label'],
    [`${'a'.repeat(64)}.example.com`, 'longer than 63 characters'],
    [`${'abcdefghi.'.repeat(26)}com`, 'longer than 253 characters'],
    ['256.1.1.1', 'last label is a number'],
    ['1.2.3', 'last label is a number'],
    ['01.2.3.4', 'last label is a number'],
    ['localhost:8443', 'is not an IPv6 address'],
    ['fe80::1%eth0', 'zone ids are not allowed'],
    ['[::1]', 'without brackets'],
    ['ex ample.com', 'plain ASCII'],
    ['münchen.de', 'xn-- form'],
  ])('rejects %j: %s', (value, why) => {
    let caught: unknown;
    try {
      parseCertificateName(value);
    } catch (err) {
      caught = err;
    }
    expect(isElbError(caught, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
    expect((caught as Error).message).toContain(`certificate name ${JSON.stringify(value)} is not a DNS name, a *.domain wildcard or an IP address`);
    expect((caught as Error).message).toContain(why);
  });
});

describe('parseCertificateNames', () => {
  it('sorts, lower-cases and removes duplicates, so one set of names always gives one list', () => {
    const a = parseCertificateNames(['LOCALHOST', '::1', '127.0.0.1', 'localhost', '0:0:0:0:0:0:0:1', '*.localtest.me']);
    const b = parseCertificateNames(['*.localtest.me', '127.0.0.1', '::1', 'localhost']);
    expect(a).toEqual(b);
    expect(a.map((n) => `${n.kind}:${n.value}`)).toEqual(['dns:*.localtest.me', 'ip:127.0.0.1', 'ip:::1', 'dns:localhost']);
  });

  it('wants at least one name', () => {
    expect(() => parseCertificateNames([])).toThrow('a certificate needs at least one name: got none');
  });

  it('names the first bad value of a list', () => {
    expect(() => parseCertificateNames(['localhost', 'bad_name', '127.0.0.1'])).toThrow('certificate name "bad_name"');
  });
});
