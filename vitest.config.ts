import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['proto/test/**/*.test.ts', 'hub/test/**/*.test.ts', 'agent/test/**/*.test.ts', 'firmware-sim/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
