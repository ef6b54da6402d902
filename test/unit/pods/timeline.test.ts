import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { Timeline } from '../../../src/pods/timeline.ts';

describe('Timeline', () => {
  it('keeps at least the last `capacity` events and never much more, in time order', async () => {
    const clock = new VirtualClock();
    const timeline = new Timeline(clock, 100);
    for (let i = 0; i < 1_000; i++) {
      timeline.record('pod.ready', { pod: `p${i}` });
      await clock.advance(1);
      expect(timeline.events().length).toBeLessThanOrEqual(125);
    }
    const events = timeline.events();
    expect(events.length).toBeGreaterThanOrEqual(100);
    expect(events.at(-1)!.pod).toBe('p999');
    expect(events.map((e) => e.timeMs)).toEqual([...events.map((e) => e.timeMs)].sort((a, b) => a - b));
  });

  it('tells listeners of every event, kept or not', () => {
    const timeline = new Timeline(new VirtualClock(), 10);
    let seen = 0;
    timeline.on(() => seen++);
    for (let i = 0; i < 50; i++) timeline.record('pod.created');
    expect(seen).toBe(50);
  });
});
