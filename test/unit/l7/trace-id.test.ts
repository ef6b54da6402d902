import { describe, expect, it } from 'vitest';
import { newTraceId, traceHeader } from '../../../src/l7/trace-id.ts';

const NOW_MS = Date.UTC(2022, 9, 10, 13, 31, 22, 999);
const SECONDS_HEX = Math.floor(NOW_MS / 1000).toString(16);
const ID = /1-[0-9a-f]{8}-[0-9a-f]{24}/.source;

describe('newTraceId', () => {
  it('is 1-<8 hex epoch seconds>-<24 hex random>', () => {
    const id = newTraceId(NOW_MS);
    expect(id).toMatch(new RegExp(`^${ID}$`));
    expect(id.split('-')[1]).toBe(SECONDS_HEX);
  });

  it('pads the time to 8 hex digits', () => {
    expect(newTraceId(1_000).split('-')[1]).toBe('00000001');
  });

  it('gives a different random part every time, also across the random pool refill', () => {
    const ids = new Set(Array.from({ length: 600 }, () => newTraceId(NOW_MS).split('-')[2]));
    expect(ids.size).toBe(600);
  });
});

describe('traceHeader (spec 5.5)', () => {
  it.each([undefined, '', '   '])('adds Root=<id> when the client sent %j', (incoming) => {
    expect(traceHeader(incoming, NOW_MS)).toMatch(new RegExp(`^Root=1-${SECONDS_HEX}-[0-9a-f]{24}$`));
  });

  it.each([
    ['Root=1-67891233-abcdef012345678912345678', /^Self=ID;Root=1-67891233-abcdef012345678912345678$/],
    ['Root=1-67891233-abcdef012345678912345678;CalledFrom=app', /^Self=ID;Root=1-67891233-abcdef012345678912345678;CalledFrom=app$/],
    ['Self=1-67891233-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678', /^Self=ID;Root=1-67891233-abcdef012345678912345678$/],
    ['Root=1-67891233-abcdef012345678912345678;Self=1-00000000-000000000000000000000000;CalledFrom=app', /^Root=1-67891233-abcdef012345678912345678;Self=ID;CalledFrom=app$/],
    ['CalledFrom=app', /^Root=ID;CalledFrom=app$/],
    [' Root=1-67891233-abcdef012345678912345678 ; CalledFrom=app ', /^Self=ID;Root=1-67891233-abcdef012345678912345678;CalledFrom=app$/],
  ])('turns %j into %s', (incoming, pattern) => {
    expect(traceHeader(incoming, NOW_MS)).toMatch(new RegExp(pattern.source.replace('ID', ID)));
  });

  it('replaces the old Self value rather than keeping it', () => {
    const out = traceHeader('Self=1-00000000-000000000000000000000000;Root=1-67891233-abcdef012345678912345678', NOW_MS);
    expect(out).not.toContain('000000000000000000000000');
    expect(out.match(/Self=/g)).toHaveLength(1);
  });

  it('never changes the Root the client sent', () => {
    const root = 'Root=1-67891233-abcdef012345678912345678';
    for (let i = 0; i < 3; i++) expect(traceHeader(root, NOW_MS + i * 1000).split(';')[1]).toBe(root);
  });
});
