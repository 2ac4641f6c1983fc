import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // one file at a time: the live tests bind real sockets and several measure timing (RTP pacing, OPTIONS
    // latency under load, 10,000-call soak) that another file's load on a 2-core machine would distort
    fileParallelism: false,
  },
});
