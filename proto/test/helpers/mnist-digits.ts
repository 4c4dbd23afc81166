import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const PIXELS = 784;

/** The first `perDigit` digits of each class from the mnist package (pixels in [0, 1]), interleaved by class. */
export function loadDigits(perDigit: number): Float32Array[] {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const byClass = Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data);
  const out: Float32Array[] = [];
  for (let i = 0; i < perDigit; i++) for (const raw of byClass) out.push(new Float32Array(raw.slice(i * PIXELS, (i + 1) * PIXELS)));
  return out;
}
