import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // one file at a time: the live tests bind real sockets and several measure timing (RTP pacing, OPTIONS
    // latency under load, 10,000-call soak) that another file's load on a 2-core machine would distort
    fileParallelism: false,
    // the files share one worker's module cache instead of importing the relay again for each of ~120 files
    // (75 s of a 637 s run); no test mocks modules or fakes timers, and each closes what it opens
    isolate: false,
  },
});
