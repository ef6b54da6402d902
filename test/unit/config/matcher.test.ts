import { describe, expect, it } from 'vitest';
import { parseMatcher } from '../../../src/config/matcher.ts';

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
