import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';

describe('VirtualClock', () => {
  it('starts at the given time and stays there until advanced', () => {
    const clock = new VirtualClock(1_000);
    expect(clock.now()).toBe(1_000);
    expect(new VirtualClock().now()).toBe(0);
  });

  it('fires timers in due-time order, not in the order they were set', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push('c'));
    clock.setTimer(100, () => fired.push('a'));
    clock.setTimer(200, () => fired.push('b'));
    await clock.advance(1_000);
    expect(fired).toEqual(['a', 'b', 'c']);
  });

  it('fires timers due at the same time in the order they were set', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) clock.setTimer(50, () => fired.push(i));
    await clock.advance(50);
    expect(fired).toEqual([0, 1, 2, 3, 4]);
  });

  it('shows each timer its own due time as now()', async () => {
    const clock = new VirtualClock(10);
    const seen: number[] = [];
    clock.setTimer(5, () => seen.push(clock.now()));
    clock.setTimer(20, () => seen.push(clock.now()));
    await clock.advance(100);
    expect(seen).toEqual([15, 30]);
    expect(clock.now()).toBe(110);
  });

  it('fires a timer exactly at its due time and not one millisecond earlier', async () => {
    const clock = new VirtualClock();
    let fired = false;
    clock.setTimer(1_000, () => (fired = true));
    await clock.advance(999);
    expect(fired).toBe(false);
    await clock.advance(1);
    expect(fired).toBe(true);
  });

  it('never fires a cancelled timer and stops counting it as pending', async () => {
    const clock = new VirtualClock();
    let fired = 0;
    const cancel = clock.setTimer(10, () => fired++);
    clock.setTimer(20, () => {});
    expect(clock.pendingTimers).toBe(2);
    cancel();
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(100);
    expect(fired).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires timers set by a timer during the same advance when they fall due within it', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const tick = () => {
      fired.push(clock.now());
      clock.setTimer(10, tick);
    };
    clock.setTimer(10, tick);
    await clock.advance(35);
    expect(fired).toEqual([10, 20, 30]);
    expect(clock.pendingTimers).toBe(1);
  });

  it('treats a negative delay as zero, so the timer never fires in the past', async () => {
    const clock = new VirtualClock(100);
    const seen: number[] = [];
    clock.setTimer(-50, () => seen.push(clock.now()));
    await clock.advance(0);
    expect(seen).toEqual([100]);
  });

  it('flushes promises between timers so async work started by one timer settles before the next', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimer(10, () => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => order.push('async from first'));
    });
    clock.setTimer(10, () => order.push('second'));
    await clock.advance(10);
    expect(order).toEqual(['async from first', 'second']);
  });

  it.each([[-1], [Number.NaN], [-0.5]])('rejects advance(%s) and does not move time', async (ms) => {
    const clock = new VirtualClock(500);
    await expect(clock.advance(ms)).rejects.toThrow(RangeError);
    await expect(clock.advance(ms)).rejects.toThrow(/must be >= 0/);
    expect(clock.now()).toBe(500);
  });

  it.each([[-1], [Number.NaN]])('rejects advanceSync(%s) and does not move time', (ms) => {
    const clock = new VirtualClock(500);
    expect(() => clock.advanceSync(ms)).toThrow(/must be >= 0/);
    expect(clock.now()).toBe(500);
  });

  it('never goes backwards across many advances', async () => {
    const clock = new VirtualClock();
    let last = clock.now();
    for (const ms of [0, 5, 0, 100, 1]) {
      await clock.advance(ms);
      expect(clock.now()).toBeGreaterThanOrEqual(last);
      last = clock.now();
    }
    expect(last).toBe(106);
  });

  it('advanceSync fires due timers in order without awaiting', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(20, () => fired.push('b'));
    clock.setTimer(10, () => fired.push('a'));
    const cancel = clock.setTimer(15, () => fired.push('cancelled'));
    cancel();
    clock.advanceSync(20);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(20);
  });

  it('keeps the exact order (due time, then set order) over 20000 timers with ties, cancellations and timers set while firing', () => {
    const clock = new VirtualClock();
    let state = 12345;
    const rand = (n: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    const expected: Array<{ due: number; seq: number }> = [];
    const fired: number[] = [];
    let seq = 0;
    const set = (delay: number, depth: number) => {
      const id = seq++;
      const due = clock.now() + delay;
      const cancel = clock.setTimer(delay, () => {
        fired.push(id);
        if (depth < 1 && rand(4) === 0) set(rand(50), depth + 1);
      });
      if (rand(10) === 0) cancel();
      else expected.push({ due, seq: id });
    };
    for (let i = 0; i < 20_000; i++) set(rand(1000), 0);
    clock.advanceSync(2_000);
    expect(clock.pendingTimers).toBe(0);
    const order = [...expected].sort((a, b) => a.due - b.due || a.seq - b.seq).map((t) => t.seq);
    expect(fired).toEqual(order);
  });
});
