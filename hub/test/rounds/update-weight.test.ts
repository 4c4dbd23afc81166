/** The bound on an update's aggregation weight (DESIGN §9), as a pure function. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundUpdateWeights, lowerMedian, type WeightClaim } from '../../src/rounds/update-weight.js';

const claims = (...counts: number[]): WeightClaim[] => counts.map((claimed, k) => ({ deviceId: `d${k}`, claimed, declared: null }));
const weightsOf = (c: WeightClaim[], maxExamples = 0, capFactor = 3) => boundUpdateWeights(c, { maxExamples, capFactor }).map((w) => w.weight);

describe('lowerMedian', () => {
  it('is element ⌊(n − 1)/2⌋ of the sorted values: the middle one for odd n, the smaller middle one for even n', () => {
    expect(lowerMedian([7])).toBe(7);
    expect(lowerMedian([9, 4])).toBe(4);
    expect(lowerMedian([30, 10, 20])).toBe(20);
    expect(lowerMedian([40, 10, 30, 20])).toBe(20);
    expect(lowerMedian([5, 1, 4, 2, 3])).toBe(3);
    expect(Number.isNaN(lowerMedian([]))).toBe(true);
  });

  it('does not reorder its argument', () => {
    const values = [3, 1, 2];
    lowerMedian(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('boundUpdateWeights', () => {
  it('leaves equal honest counts alone (IID and label-shard partitions)', () => {
    expect(weightsOf(claims(600, 600, 600, 600))).toEqual([600, 600, 600, 600]);
    expect(weightsOf(claims(600, 601, 600, 601, 600))).toEqual([600, 601, 600, 601, 600]);
  });

  it('caps a liar at capFactor × the lower median: one update, two, odd and even counts', () => {
    expect(weightsOf(claims(999_999_999))).toEqual([999_999_999]); // alone it is its own median: nothing to weigh against
    expect(weightsOf(claims(100, 999_999_999))).toEqual([100, 300]); // lower median of two = the smaller
    expect(weightsOf(claims(20, 30, 999_999_999))).toEqual([20, 30, 90]);
    expect(weightsOf(claims(20, 30, 40, 999_999_999))).toEqual([20, 30, 40, 90]);
    expect(weightsOf(claims(20, 30, 40, 50, 999_999_999))).toEqual([20, 30, 40, 50, 120]);
    expect(boundUpdateWeights(claims(20, 30, 999_999_999), { maxExamples: 0, capFactor: 3 })[2]).toEqual({
      deviceId: 'd2', claimed: 999_999_999, weight: 90, boundBy: 'median',
    });
  });

  it('rounds a fractional cap down and never goes below the median (capFactor < 1 acts as 1)', () => {
    expect(weightsOf(claims(10, 30, 40), 0, 1.5)).toEqual([10, 30, 40]);
    expect(weightsOf(claims(10, 30, 47), 0, 1.5)).toEqual([10, 30, 45]);
    expect(weightsOf(claims(10, 30, 47), 0, 0.5)).toEqual([10, 30, 30]);
  });

  it('bounds by maxExamples only when it is > 0, and by a declaration only when there is one', () => {
    expect(weightsOf(claims(50, 70, 90), 0)).toEqual([50, 70, 90]);
    expect(weightsOf(claims(50, 70, 90), 60)).toEqual([50, 60, 60]);
    const declared: WeightClaim[] = [
      { deviceId: 'a', claimed: 50, declared: 40 },
      { deviceId: 'b', claimed: 50, declared: null },
      { deviceId: 'c', claimed: 50, declared: 0 },
      { deviceId: 'd', claimed: 50, declared: 80 },
    ];
    expect(boundUpdateWeights(declared, { maxExamples: 0, capFactor: 3 })).toEqual([
      { deviceId: 'a', claimed: 50, weight: 40, boundBy: 'declared' },
      { deviceId: 'b', claimed: 50, weight: 50, boundBy: 'claimed' },
      { deviceId: 'c', claimed: 50, weight: 50, boundBy: 'claimed' },
      { deviceId: 'd', claimed: 50, weight: 50, boundBy: 'claimed' },
    ]);
    expect(boundUpdateWeights([{ deviceId: 'a', claimed: 50, declared: 40 }], { maxExamples: 30, capFactor: 3 })[0]!.boundBy).toBe('maxExamples');
  });

  it('takes the median over the bounded counts: claims above maxExamples or a declaration do not raise it', () => {
    // Claimed 10, 10⁹, 10⁹: the median of the claims would be 10⁹; bounded by maxExamples 20 it is 20.
    expect(weightsOf(claims(10, 999_999_999, 999_999_999), 20, 3)).toEqual([10, 20, 20]);
    const lying: WeightClaim[] = [
      { deviceId: 'honest', claimed: 10, declared: 10 },
      { deviceId: 'liar-1', claimed: 999_999_999, declared: 12 },
      { deviceId: 'liar-2', claimed: 999_999_999, declared: 11 },
    ];
    expect(boundUpdateWeights(lying, { maxExamples: 0, capFactor: 3 }).map((w) => w.weight)).toEqual([10, 12, 11]);
  });

  it('a minority of ⌈(n − 1)/2⌉ liars weighs at most capFactor × the largest honest count each, whatever they claim', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 1_000_000_000 }), { minLength: 0, maxLength: 20 }),
      fc.double({ min: 1, max: 10, noNaN: true }),
      (honest, lies, capFactor) => {
        const n = honest.length + lies.length;
        fc.pre(lies.length <= Math.ceil((n - 1) / 2));
        const weights = weightsOf(claims(...honest, ...lies), 0, capFactor);
        const limit = capFactor * Math.max(...honest);
        expect(weights.every((w) => w >= 1 && w <= limit)).toBe(true);
        expect(weights.every((w, k) => w <= [...honest, ...lies][k]!)).toBe(true);
      },
    ));
  });
});
