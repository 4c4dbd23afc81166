/**
 * The weight each update of a round carries in aggregation (DESIGN §9: "No single device can dominate an
 * aggregate"). FedAvg-family strategies weigh an update by nₖ (McMahan et al. 2017, Algorithm 1), but nₖ is the
 * device's own claim: unbounded, one device claiming 10⁹ examples moves the global model by its own delta. So the
 * weight is the claim clamped by what the hub knows, applied once before updates reach any strategy:
 *
 *   bₖ = min(claimₖ, task maxExamples when > 0, the count the device declared when it was selected when declared)
 *   wₖ = min(bₖ, ⌊capFactor × lower median of all bⱼ of the round⌋)
 *
 * The lower median (element ⌊(n − 1)/2⌋ of the sorted bⱼ) cannot be raised by ⌈(n − 1)/2⌉ or fewer inflated
 * claims — with two updates it is the smaller one — so no such minority weighs more than capFactor × an honest
 * count. Devices with equal partitions (IID, label shards) all sit at the median and are never clamped.
 */

/** Default of the campaign option `weightCapFactor`. */
export const DEFAULT_WEIGHT_CAP_FACTOR = 3;
/** Range of `weightCapFactor`: 1 = no update weighs more than the median one. */
export const WEIGHT_CAP_FACTOR_RANGE = { minimum: 1, maximum: 1000 } as const;

export interface WeightClaim {
  deviceId: string;
  /** Example count the update claims (validated: a positive integer). */
  claimed: number;
  /** Training examples the device declared before it was selected; null or 0 = not declared. */
  declared: number | null;
}

export interface WeightBounds {
  /** The train task's `maxExamples`; 0 = no cap. */
  maxExamples: number;
  /** Cap relative to the round's lower median, ≥ 1. */
  capFactor: number;
}

/** Which bound set an update's weight. */
export type WeightBound = 'claimed' | 'maxExamples' | 'declared' | 'median';

export interface BoundedWeight {
  deviceId: string;
  claimed: number;
  /** Weight in aggregation: a positive integer ≤ claimed. */
  weight: number;
  boundBy: WeightBound;
}

/** Element ⌊(n − 1)/2⌋ of `values` sorted ascending (the smaller middle value for even n); NaN when empty. */
export function lowerMedian(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1]!;
}

/** The largest count any one claim may weigh: ⌊capFactor × lower median of `counts`⌋ (capFactor below 1 counts as 1). */
export function medianWeightCap(counts: readonly number[], capFactor: number): number {
  return Math.floor(Math.max(1, capFactor) * lowerMedian(counts));
}

/** Bounded weights of a round's accepted updates, in the order given. */
export function boundUpdateWeights(claims: readonly WeightClaim[], bounds: WeightBounds): BoundedWeight[] {
  const individual = claims.map(({ deviceId, claimed, declared }) => {
    let weight = claimed;
    let boundBy: WeightBound = 'claimed';
    if (bounds.maxExamples > 0 && bounds.maxExamples < weight) {
      weight = bounds.maxExamples;
      boundBy = 'maxExamples';
    }
    if (declared !== null && declared > 0 && declared < weight) {
      weight = declared;
      boundBy = 'declared';
    }
    return { deviceId, claimed, weight, boundBy };
  });
  // The median of the already bounded counts: a claim above what the task or the device's declaration allows does
  // not move it either. Floor keeps weights integral; capFactor ≥ 1 keeps the cap ≥ the median ≥ 1.
  const cap = medianWeightCap(individual.map((w) => w.weight), bounds.capFactor);
  return individual.map((w) => (w.weight > cap ? { ...w, weight: cap, boundBy: 'median' } : w));
}
