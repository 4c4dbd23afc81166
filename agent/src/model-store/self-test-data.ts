/** The self-test's held-out examples from a device's data source: its test split, never the data it trains on. */
import { shapeSize } from '@fedfleet/proto';
import type { DataSource } from '../data/dataset.js';
import type { SelfTestExample } from './types.js';

/** The test split of `dataSource` as self-test examples (views, no copies), read once on first use. */
export function selfTestExamplesOf(dataSource: DataSource): () => Promise<SelfTestExample[]> {
  let examples: SelfTestExample[] | undefined;
  return async () => {
    if (!examples) {
      const test = dataSource.test();
      const size = shapeSize(test.inputShape);
      examples = Array.from({ length: test.count }, (_, i) => ({ x: test.x.subarray(i * size, (i + 1) * size), label: test.y[i]! }));
    }
    return examples;
  };
}
