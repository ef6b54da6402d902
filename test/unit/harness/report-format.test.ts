/** LoadReport.format: the text timeline never shows a negative time (issue #17, point 6). */
import { describe, expect, it } from 'vitest';
import { LoadReport } from '../../../src/harness/report.ts';

describe('LoadReport.format', () => {
  it('starts at t+0.000s when an event came a millisecond before the load, and keeps the load-relative times otherwise', () => {
    const early = new LoadReport({
      startedMs: 10_000,
      endedMs: 12_000,
      fates: [],
      timeline: [
        { timeMs: 9_999, kind: 'rollout.started' },
        { timeMs: 10_500, kind: 'pod.created', pod: 'web-r2-x' },
      ],
    });
    const lines = early.format().split('\n');
    expect(lines[0]).toMatch(/^t\+ {2}0\.000s {3}rollout\.started/);
    expect(lines[1]).toMatch(/^t\+ {2}0\.501s {3}pod\.created {12}web-r2-x/);
    expect(lines.some((l) => l.includes('-0.'))).toBe(false);
    const after = new LoadReport({ startedMs: 10_000, endedMs: 12_000, fates: [], timeline: [{ timeMs: 10_250, kind: 'pod.created', pod: 'p' }] });
    expect(after.format().split('\n')[0]).toMatch(/^t\+ {2}0\.250s/);
  });
});
