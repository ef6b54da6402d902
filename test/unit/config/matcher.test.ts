import { describe, expect, it } from 'vitest';
import { grpcRangeMessage, parseGrpcMatcher, parseMatcher } from '../../../src/config/matcher.ts';

describe('parseMatcher', () => {
  it.each([
    ['200', [200], [199, 201, 404]],
    ['200,202', [200, 202], [201, 203]],
    ['200-299', [200, 250, 299], [199, 300]],
    ['200,300-399', [200, 300, 399], [201, 299, 400]],
    [' 200 , 204 - 206 ', [200, 204, 205, 206], [203, 207]],
  ])('%j matches %j and not %j', (text, yes, no) => {
    const m = parseMatcher(text, 200, 499);
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    for (const code of yes) expect(m.matches(code)).toBe(true);
    for (const code of no) expect(m.matches(code)).toBe(false);
  });

  it.each(['', '20', '2000', 'abc', '200-', '-200', '300-200', '200,,201', '500', '199', '450-500'])('rejects %j for range 200–499 with a message naming it', (text) => {
    const m = parseMatcher(text, 200, 499);
    expect(m.ok).toBe(false);
    if (!m.ok) {
      expect(m.message).toContain('200–499');
      expect(m.message).toContain(JSON.stringify(text));
    }
  });

  it('accepts 500-599 when the allowed range is the NLB one, 200–599', () => {
    const m = parseMatcher('200-599', 200, 599);
    expect(m.ok && m.matches(503)).toBe(true);
  });
});

describe('parseGrpcMatcher (Matcher.GrpcCode, spec 12.4.4)', () => {
  it.each([
    ['12', [12], [0, 11, 13]],
    ['0', [0], [1, 12]],
    ['0,1', [0, 1], [2, 12]],
    ['0-5', [0, 3, 5], [6, 12]],
    ['0-99', [0, 12, 14, 99], [100]],
    ['99', [99], [98]],
    ['0,12-14', [0, 12, 13, 14], [1, 11, 15]],
    [' 0 , 5 - 6 ', [0, 5, 6], [4, 7]],
  ])('%j matches %j and not %j', (text, yes, no) => {
    const m = parseGrpcMatcher(text);
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    for (const code of yes) expect(m.matches(code)).toBe(true);
    for (const code of no) expect(m.matches(code)).toBe(false);
  });

  it.each(['200', '100', '0-100', '5-0', '', '0,', ',0', '-1', '1-', 'UNIMPLEMENTED', '012', '1.5', '0-5-9'])(
    'rejects %j with AWS\'s wording and the value',
    (text) => {
      const m = parseGrpcMatcher(text);
      expect(m.ok).toBe(false);
      if (m.ok) return;
      expect(m.message).toContain(`Health check matcher GRPC code '${text}' must be within '0-99' inclusive`);
      expect(m.message).toContain(`got ${JSON.stringify(text)}`);
    },
  );

  it('words the error as AWS does for the LBC-style mistake of a 200 on a gRPC group [S-LBC-2804]', () => {
    expect(grpcRangeMessage('200')).toBe("Health check matcher GRPC code '200' must be within '0-99' inclusive");
  });
});
