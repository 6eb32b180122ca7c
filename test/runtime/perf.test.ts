/**
 * No-op speed: a converged 1,000-file bundle must not pay a process per
 * resource. The budget is 300 ms under dash on an idle 2-core machine; this
 * test runs beside other test files, so it checks a looser bound
 * (DEPC_NOOP_LIMIT_MS, default 1000) and prints the median. For the real
 * figure run: DEPC_BENCH=1 npx vite-node test/runtime/noop-bench.ts
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { availableShells } from "../support/shells.js";
import { medianNoopMs, noopBundle } from "./noop-bench.js";
import { hostRoot } from "./helpers.js";

const limit = Number(process.env.DEPC_NOOP_LIMIT_MS ?? 1000);

describe.each(availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh"))("no-op speed under $name", (shell) => {
  it(`a converged 1,000-file bundle runs in under ${limit} ms (median of 5)`, () => {
    const root = hostRoot("perf");
    // Converge the host from node: the bundle's first run must already be a no-op.
    for (let d = 0; d < 10; d++) {
      mkdirSync(`${root}/srv/d${d}`, { recursive: true });
      chmodSync(`${root}/srv/d${d}`, 0o755);
    }
    chmodSync(`${root}/srv`, 0o755);
    for (let i = 0; i < 1000; i++) {
      const path = `${root}/srv/d${i % 10}/file ${i}.conf`;
      writeFileSync(path, `[section]\nindex = ${i}\nname = "file ${i}"\n`);
      chmodSync(path, 0o644);
    }
    for (let l = 0; l < 10; l++) symlinkSync(`${root}/srv/d${l}`, `${root}/srv/link${l}`);
    const bundle = noopBundle(root);
    const median = medianNoopMs(shell, bundle, 5);
    console.log(`depc no-op, 1,000 files, ${shell.name}: median ${median.toFixed(1)} ms`);
    expect(median).toBeLessThan(limit);
  });
});
