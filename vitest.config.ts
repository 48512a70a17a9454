import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Dataplane tests time real packets and processes on 2 shared cores; one immediate
    // retry absorbs a scheduling hiccup, while a real fault still fails twice.
    retry: 1,
  },
});
