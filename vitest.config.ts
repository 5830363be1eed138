import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    exclude: ['node_modules/**', '.dataops/**'],
    // Many tests run the real CLI as a child process; these limits only catch a hang, never time a feature.
    testTimeout: 180_000,
    hookTimeout: 240_000,
    // PGlite instances are memory-hungry WASM; two workers fit the 2-core machine.
    maxWorkers: 2,
  },
});
