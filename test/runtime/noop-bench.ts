/**
 * No-op timing of a 1,000-file bundle (plus 10 directories and 10 symlinks).
 * Run: DEPC_BENCH=1 [DEPC_BENCH_SHELLS='dash,busybox sh'] npx vite-node test/runtime/noop-bench.ts [runs]
 * Prints the median wall time of an already-converged apply per shell.
 * (mksh and posh have no printf builtin: their ok lines cost a process each.)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { availableShells, type Shell } from "../support/shells.js";
import { buildBundle, type Resource } from "./bundle.js";

export function noopBundle(root: string, files = 1000): string {
  const resources: Resource[] = [];
  for (let d = 0; d < 10; d++) resources.push({ kind: "directory", path: `${root}/srv/d${d}` });
  for (let i = 0; i < files; i++) {
    resources.push({ kind: "file", path: `${root}/srv/d${i % 10}/file ${i}.conf`, content: `[section]\nindex = ${i}\nname = "file ${i}"\n` });
  }
  for (let l = 0; l < 10; l++) resources.push({ kind: "symlink", path: `${root}/srv/link${l}`, target: `${root}/srv/d${l}` });
  const path = join(root, "bundle.sh");
  writeFileSync(path, buildBundle({ env: "bench", host: "h", resources }));
  return path;
}

/** Median wall time (ms) of `runs` runs of `bundle` under `shell` (after one converging apply). */
export function medianNoopMs(shell: Shell, bundle: string, runs: number): number {
  const [cmd, ...lead] = shell.argv as [string, ...string[]];
  // The bundle's own state directory (lock, kept bundles, runs.log), beside it.
  const env = { ...process.env, DEPC_STATE_DIR: join(dirname(bundle), "state"), ...shell.env };
  const first = spawnSync(cmd, [...lead, bundle], { env, encoding: "utf8" });
  if (first.status !== 0) throw new Error(`apply failed under ${shell.name}: ${first.stdout}${first.stderr}`);
  if (process.env.DEPC_BENCH !== "1" && !/ 0 changed, 1020 ok/.test(first.stdout)) {
    throw new Error(`the host was expected to be converged already: ${first.stdout.slice(-300)}`);
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, [...lead, bundle], { env, encoding: "utf8" });
    const t1 = process.hrtime.bigint();
    if (r.status !== 0 || !/ 0 changed, 1020 ok, 0 failed/.test(r.stdout)) throw new Error(`no-op run not ok under ${shell.name}: ${r.stdout.slice(-300)}`);
    times.push(Number(t1 - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

if (process.env.DEPC_BENCH === "1") {
  const runs = Number(process.argv[2] ?? 21);
  const only = process.env.DEPC_BENCH_SHELLS?.split(",");
  for (const shell of availableShells().filter((s) => only === undefined || only.includes(s.name))) {
    const root = mkdtempSync(join(tmpdir(), "depc-bench-"));
    try {
      const bundle = noopBundle(root);
      console.log(`${shell.name.padEnd(14)} median ${medianNoopMs(shell, bundle, runs).toFixed(1)} ms over ${runs} no-op runs (1,000 files, 10 dirs, 10 links)`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
}
