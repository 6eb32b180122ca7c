import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "kinds/**/*.test.ts"],
    // Tests run real processes (node, shells, sshd, systemd): minutes, not milliseconds, on a busy 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // The e2e test beds are machine-wide (bridges, namespaces): one file at a time there, see test/testbed/README.md.
    fileParallelism: true,
  },
});
