import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // live tests bind real UDP sockets; keep them from starving each other on a 2-core machine
    maxWorkers: 2,
  },
});
