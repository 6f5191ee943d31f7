import { overCapDelayMs } from './over-cap-delay.util';

describe('overCapDelayMs', () => {
  it('starts at 1 s and doubles, up to the webhook timeout', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => overCapDelayMs(n, 10_000, 0))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('adds up to half as much again at random', () => {
    expect(overCapDelayMs(0, 10_000, 0.999)).toBe(1500);
    expect(overCapDelayMs(9, 10_000, 0.5)).toBe(12_500);
  });

  it('never waits less than 1 s, however short the timeout', () => {
    expect(overCapDelayMs(3, 200, 0)).toBe(1000);
  });
});
