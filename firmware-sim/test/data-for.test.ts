import { describe, expect, it } from 'vitest';
import { parseDataFor } from '../src/data-for.js';

describe('fedfleet sim --data-for', () => {
  it('maps index ranges to data specs, the later entry winning, and leaves other devices on --data', () => {
    const dataFor = parseDataFor(['2-4=mnist:labels:7,8,9', '4=mnist:shards']);
    expect([1, 2, 3, 4, 5].map(dataFor)).toEqual([undefined, 'mnist:labels:7,8,9', 'mnist:labels:7,8,9', 'mnist:shards', undefined]);
  });

  it.each(['7,8,9', '4-2=mnist:iid', 'a-b=mnist:iid', '3='])('refuses %s', (entry) => {
    expect(() => parseDataFor([entry])).toThrow(`--data-for ${JSON.stringify(entry)} is not <from>-<to>=<spec> or <index>=<spec>`);
  });
});
