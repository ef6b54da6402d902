/**
 * Property tests for `X-Amzn-Trace-Id` (spec 5.5): the id format for any time, and what
 * `traceHeader` makes of arbitrary incoming values built from Root, Self and custom fields
 * with stray spaces and empty fields.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newTraceId, traceHeader } from '../../../src/l7/trace-id.ts';

const ID = /^1-([0-9a-f]{8})-[0-9a-f]{24}$/;
/** Epoch milliseconds whose seconds fit the 8 hex digits of the format (1970 to 2106). */
const nowMs = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 32 * 1000 - 1 }),
  fc.double({ min: 0, max: 2 ** 32 * 1000 - 1, noNaN: true }),
  fc.constantFrom(0, 999, 1000, Date.UTC(2022, 9, 10), 2 ** 32 * 1000 - 1),
);

describe('newTraceId (spec 5.5)', () => {
  it('is 1-<8 lowercase hex of the epoch seconds>-<24 lowercase hex> for any time', () => {
    fc.assert(
      fc.property(nowMs, (ms) => {
        const id = newTraceId(ms);
        const m = ID.exec(id);
        expect(m, id).not.toBeNull();
        expect(Number.parseInt(m![1]!, 16)).toBe(Math.floor(ms / 1000));
      }),
      { numRuns: 2000 },
    );
  });
});

type Field = { readonly kind: 'root' | 'self' | 'custom'; readonly text: string };

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const traceValue = fc.tuple(hex(8), hex(24)).map(([t, r]) => `1-${t}-${r}`);
/** Custom fields: X-Ray's own (Parent, Sampled, Lineage) and others, never spelled Root= or Self= in any case. */
const customKey = fc.oneof(
  fc.constantFrom('Parent', 'Sampled', 'Lineage', 'CalledFrom', 'RootCause', 'Selfish', 'root', 'self'),
  fc.string({ unit: fc.constantFrom(...'abcXYZ-_09'), minLength: 1, maxLength: 6 }),
);
const customValue = fc.string({ unit: fc.constantFrom(...'abc=:-019 /'), maxLength: 8 });
const custom = fc
  .tuple(customKey, customValue, fc.boolean())
  .map(([k, v, withEquals]): Field => ({ kind: 'custom', text: withEquals ? `${k}=${v}`.trim() : k }))
  .filter((f) => f.text !== '' && !/^(root|self)=/i.test(f.text));
const root = traceValue.map((v): Field => ({ kind: 'root', text: `Root=${v}` }));
const self = traceValue.map((v): Field => ({ kind: 'self', text: `Self=${v}` }));
const space = fc.constantFrom('', '', ' ', '  ', '\t');

/** An incoming header: at most one Root and one Self (as X-Ray writes them), custom fields anywhere, spaces and empty fields. */
const incoming = fc
  .record({
    customs: fc.array(custom, { maxLength: 4 }),
    root: fc.option(root, { nil: undefined }),
    self: fc.option(self, { nil: undefined }),
    empties: fc.nat({ max: 2 }),
  })
  .chain(({ customs, root: r, self: s, empties }) => {
    const fields = [...customs, ...(r ? [r] : []), ...(s ? [s] : []), ...Array.from({ length: empties }, (): Field => ({ kind: 'custom', text: '' }))];
    return fc.tuple(fc.shuffledSubarray(fields, { minLength: fields.length, maxLength: fields.length }), fc.array(fc.tuple(space, space), { minLength: fields.length, maxLength: fields.length }));
  })
  .map(([fields, spaces]) => ({
    fields: fields.filter((f) => f.text !== ''),
    header: fields.map((f, i) => `${spaces[i]![0]}${f.text}${spaces[i]![1]}`).join(';'),
  }));

describe('traceHeader (spec 5.5)', () => {
  it('keeps every field in order, inserting Self before a Root, replacing Self in place, or adding Root', () => {
    fc.assert(
      fc.property(incoming, nowMs, ({ fields, header }, ms) => {
        const out = traceHeader(header, ms).split(';');
        const texts = fields.map((f) => f.text);
        const selfAt = fields.findIndex((f) => f.kind === 'self');
        const hasRoot = fields.some((f) => f.kind === 'root');
        let added: string;
        if (selfAt >= 0) {
          expect(out).toHaveLength(texts.length);
          added = out[selfAt]!;
          expect(out.toSpliced(selfAt, 1)).toEqual(texts.toSpliced(selfAt, 1));
          expect(added).toMatch(/^Self=/);
        } else {
          expect(out).toHaveLength(texts.length + 1);
          added = out[0]!;
          expect(out.slice(1)).toEqual(texts);
          expect(added).toMatch(hasRoot ? /^Self=/ : /^Root=/);
        }
        const id = ID.exec(added.slice(5));
        expect(id, added).not.toBeNull();
        expect(Number.parseInt(id![1]!, 16)).toBe(Math.floor(ms / 1000));
        expect(out.filter((f) => /^self=/i.test(f))).toHaveLength(selfAt >= 0 || hasRoot ? 1 : 0);
        expect(out.filter((f) => /^root=/i.test(f))).toHaveLength(hasRoot || selfAt < 0 ? 1 : 0);
        expect(out.filter((f) => f === '')).toHaveLength(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws and always carries a fresh Root or Self id, whatever the client sent', () => {
    const anything = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: fc.constantFrom('Root=', 'Self=', 'root=', ';', ' ', '=', 'x', '1-'), maxLength: 10 }),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(anything, nowMs, (value, ms) => {
        const out = traceHeader(value, ms);
        expect(out.split(';').some((f) => /^(Root|Self)=1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(f))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
