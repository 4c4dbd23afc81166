/**
 * How many cases the property tests run and from which seed, read once from the environment:
 * - `FEDFLEET_FUZZ_RUNS`: cases per property (default {@link DEFAULT_FUZZ_RUNS}, small enough for `npm test`);
 *   `npm run fuzz` raises it.
 * - `FEDFLEET_FUZZ_SEED`: an integer to replay a run, or `random` (what `npm run fuzz` uses). Default a fixed seed,
 *   so `npm test` is reproducible. fast-check prints the seed and the counterexample path of every failure.
 */
import type fc from 'fast-check';

export const DEFAULT_FUZZ_RUNS = 25;
export const FIXED_FUZZ_SEED = 0x0fed_f1ee;

export interface FuzzSettings {
  /** Cases per property. */
  runs: number;
  /** The seed every property starts from. */
  seed: number;
  /** Whether the seed was drawn at random (`FEDFLEET_FUZZ_SEED=random`). */
  randomSeed: boolean;
}

export function readFuzzSettings(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const runsText = env.FEDFLEET_FUZZ_RUNS;
  const runs = runsText === undefined || runsText === '' ? DEFAULT_FUZZ_RUNS : Number(runsText);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FEDFLEET_FUZZ_RUNS must be a positive integer, got ${JSON.stringify(runsText)}`);
  const seedText = env.FEDFLEET_FUZZ_SEED ?? '';
  if (seedText === 'random') return { runs, seed: (Math.random() * 0x7fff_ffff) | 0, randomSeed: true };
  const seed = seedText === '' ? FIXED_FUZZ_SEED : Number(seedText);
  if (!Number.isInteger(seed)) throw new Error(`FEDFLEET_FUZZ_SEED must be an integer or "random", got ${JSON.stringify(seedText)}`);
  return { runs, seed, randomSeed: false };
}

export const FUZZ_SETTINGS = readFuzzSettings();

/**
 * fast-check parameters: `runs × scale` cases (at least 1) from the run's seed. Every property starts from the same
 * seed, so the seed fast-check prints with a failure is the `FEDFLEET_FUZZ_SEED` that replays it.
 */
export function fuzzParameters<T>(scale = 1, settings: FuzzSettings = FUZZ_SETTINGS): fc.Parameters<T> {
  return { seed: settings.seed, numRuns: Math.max(1, Math.round(settings.runs * scale)) };
}

/** A vitest timeout for a test that runs `cases` cases of about `perCaseMs` each, plus `baseMs` of setup. */
export function fuzzTimeoutMs(cases: number, perCaseMs: number, baseMs = 30_000): number {
  return baseMs + cases * perCaseMs;
}
