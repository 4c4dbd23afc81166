/**
 * Seeded pseudo-random numbers shared by every part that must agree on a draw: the hub's participant selection and
 * the benchmark's in-process reference, the data partitions, stochastic rounding in the tensor codec. Never
 * `Math.random()` where a run has to be reproducible.
 */

/** mulberry32: a small, fast 32-bit PRNG; returns uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample from uniform ones (the agent's data partitions, the simulated devices' input noise). */
export function standardNormal(random: () => number): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Mixes a seed with a stream number (epoch, device index, round…) into an independent 32-bit seed. */
export function mixSeed(seed: number, stream: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream >>> 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/** FNV-1a hash of a string into a 32-bit seed (e.g. a device id). */
export function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
