import { defineConfig } from "vitest/config";

// Two tiers: `unit` runs pure functions next to the code; `integration` runs
// against the real local control plane started once by the global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["agent/**/*.test.ts", "cli/**/*.test.ts", "bootstrap/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One control plane is shared; files run one after another so their
          // timing does not depend on how many other suites load the API server.
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
