import { defineConfig } from 'vitest/config';

const endpoint = process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:4566';

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Projects with different worker limits need distinct group orders: unit tests run first.
          sequence: { groupOrder: 0 },
          include: [
            'core/**/*.test.ts',
            'aws/**/*.test.ts',
            'local/**/*.test.ts',
            'worker/**/*.test.ts',
            'services/**/*.test.ts',
            'cli/**/*.test.ts',
            'lambdas/**/*.test.ts',
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          env: {
            AWS_ENDPOINT_URL: endpoint,
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'test',
            AWS_SECRET_ACCESS_KEY: 'test',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // Tests spawn worker processes of their own; two files at a time fill two cores.
          maxWorkers: 2,
        },
      },
    ],
  },
});
