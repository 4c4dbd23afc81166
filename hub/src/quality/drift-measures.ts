/**
 * Input drift measures between two binned distributions of input values (hub/docs/quality.md): the population
 * stability index and the Kolmogorov–Smirnov distance over the bins. Pure functions over count arrays, so the
 * hand-computed vectors of hub/test/quality/drift-measures.test.ts pin them.
 */

/** A histogram as devices report it (Telemetry.input_stats / input_baseline, proto/fleet.proto InputHistogram). */
export interface BinnedInputs {
  lo: number;
  hi: number;
  counts: readonly number[];
  examples: number;
}

/**
 * Proportion that stands in for an empty bin in the PSI: ln(0) is undefined, so a bin with no values on one side
 * counts as holding PSI_EPSILON of it (the usual practice, e.g. Yurdakul 2018 §2). 1e-4 keeps one new value in an
 * empty bin from dominating the sum while a bin emptied entirely still adds ≈ p·ln(p/1e-4).
 */
export const PSI_EPSILON = 1e-4;

/** Two histograms can be compared when their bins are the same: equal lo, hi and bin count (proto InputHistogram). */
export function comparable(a: BinnedInputs, b: BinnedInputs): boolean {
  return a.lo === b.lo && a.hi === b.hi && a.counts.length === b.counts.length && a.counts.length > 0;
}

function proportions(counts: readonly number[]): Float64Array {
  let total = 0;
  for (const c of counts) total += c;
  const p = new Float64Array(counts.length);
  if (total > 0) for (let i = 0; i < counts.length; i++) p[i] = counts[i]! / total;
  return p;
}

/**
 * Population stability index (Siddiqi 2006, ch. 8; Yurdakul 2018): Σᵢ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over the bins, with
 * aᵢ the actual (recent serving) and eᵢ the expected (training) proportion of values in bin i, each at least
 * {@link PSI_EPSILON}. 0 for equal distributions; < 0.1 is read as no shift, 0.1–0.25 moderate, > 0.25 significant.
 * @throws RangeError when the bins differ in number.
 */
export function psi(actualCounts: readonly number[], expectedCounts: readonly number[]): number {
  if (actualCounts.length !== expectedCounts.length) throw new RangeError(`bins differ: ${actualCounts.length} vs ${expectedCounts.length}`);
  const a = proportions(actualCounts);
  const e = proportions(expectedCounts);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = Math.max(a[i]!, PSI_EPSILON);
    const ei = Math.max(e[i]!, PSI_EPSILON);
    sum += (ai - ei) * Math.log(ai / ei);
  }
  return sum;
}

/**
 * Kolmogorov–Smirnov distance on binned data: maxₖ |A(k) − E(k)|, the largest difference of the two cumulative
 * proportions at the bins' upper edges (the two-sample KS statistic, evaluated where the binned CDFs are known). In
 * [0, 1]; 0 for equal distributions.
 * @throws RangeError when the bins differ in number.
 */
export function ksDistance(actualCounts: readonly number[], expectedCounts: readonly number[]): number {
  if (actualCounts.length !== expectedCounts.length) throw new RangeError(`bins differ: ${actualCounts.length} vs ${expectedCounts.length}`);
  const a = proportions(actualCounts);
  const e = proportions(expectedCounts);
  let cumA = 0;
  let cumE = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    cumA += a[i]!;
    cumE += e[i]!;
    max = Math.max(max, Math.abs(cumA - cumE));
  }
  return max;
}
