import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // Native addons (onnxruntime, sharp, better-sqlite3) are safest in child processes, not worker threads.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests wait for conditions with expect.poll: generous on a loaded 2-core machine (it costs nothing
    // when the condition comes), so only a condition that never comes fails.
    expect: { poll: { timeout: 10_000 } },
    // Integration tests start real processes (mosquitto, the agent, fake cameras) on free ports.
    fileParallelism: true,
  },
});
