import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['proto/test/**/*.test.ts', 'hub/test/**/*.test.ts', 'agent/test/**/*.test.ts', 'firmware-sim/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core CI machine, where most test files
    // wait on sockets, timers and child processes. More workers than cores keep both cores busy there (measured on
    // 2 cores: 710 s with one worker, 514 s with two).
    maxWorkers: Math.max(3, availableParallelism()),
  },
});
