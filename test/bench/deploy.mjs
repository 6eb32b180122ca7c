#!/usr/bin/env node
// depc deploy benchmarks, over real ssh to test-bed hosts (needs root; see
// test/testbed/README.md). `npm run build && node test/bench/deploy.mjs`.
//
// Measures whole processes (the built bin, the system's ssh), each figure one
// warm-up then BENCH_RUNS (default 5, min 5) timed runs, min / median / max:
//   - the floor: one `ssh host true` (through the bed's ControlMaster, and a fresh
//     connection with -o ControlPath=none);
//   - the CLI's start (`depc --version`), part of every figure below;
//   - a no-op deploy of one 100-resource host: `depc deploy --from` (the deploy
//     alone) through the master and fresh, and `depc deploy env` (with the cached
//     type-check); and the host's own run within it (from --json);
//   - a one-file-change deploy of that host (one file edited on the host before each run);
//   - fan-out: a no-op `depc deploy --from` to 1, 3 and 10 hosts of 100 resources.
//   - a no-op `depc deploy env` (cached build) over a fresh connection too;
//   - BENCH_BASELINE=/path/to/another/built/depc: the no-op figures again with that depc
//     (before/after in one run, the same bed and floor).
// Targets (issue 14): no-op deploy of one 100-resource host ≤ the ssh round trip + 0.15 s
// with --from (each connection mode against its own floor), ≤ + 0.25 s with a cached build. Prints the table, writes
// build/bench/deploy.json. Exits 0 whatever the figures, 1 when something errored;
// without root (or the test bed's tools) it says so and exits 0.
//
// The test bed is TypeScript: this script re-runs itself under vite-node (a
// dev dependency, through vitest) to import it.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DEPC = join(REPO, "bin", "depc.js");
const RUNS = Math.max(5, Number.parseInt(process.env.BENCH_RUNS ?? "5", 10) || 5);
const HOSTS = 10;
const BASELINE = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;
const RESOURCES = 100;

if (process.env.DEPC_BENCH_UNDER_VITE_NODE !== "1") {
  const viteNode = join(REPO, "node_modules", ".bin", "vite-node");
  const r = spawnSync(viteNode, [fileURLToPath(import.meta.url)], { stdio: "inherit", env: { ...process.env, DEPC_BENCH_UNDER_VITE_NODE: "1" } });
  process.exit(r.status ?? 1);
}

const { Testbed, testbedPrerequisites } = await import("../testbed/index.ts");

class BenchError extends Error {}

function exec(argv, { cwd, okStatus = [0] } = {}) {
  const [command, ...args] = argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.error) throw new BenchError(`${argv.join(" ")}: ${r.error.message}`);
  if (!okStatus.includes(r.status)) throw new BenchError(`${argv.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function figureOf(id, label, samples) {
  const figure = { id, label, runs: samples.length, min: Math.min(...samples), median: median(samples), max: Math.max(...samples), samples };
  process.stderr.write(`  ${label}: median ${figure.median.toFixed(3)} s\n`);
  return figure;
}

function measure(id, label, { prepare, run }) {
  const samples = [];
  for (let i = 0; i <= RUNS; i++) {
    prepare?.(i);
    const seconds = run(i);
    if (i > 0) samples.push(seconds);
  }
  const figure = { id, label, runs: samples.length, min: Math.min(...samples), median: median(samples), max: Math.max(...samples), samples };
  process.stderr.write(`  ${label}: median ${figure.median.toFixed(3)} s\n`);
  return figure;
}

/** A project with HOSTS hosts (b1..bN), each a directory and 99 files: 100 resources. */
function writeProject(dir, depcDir = REPO) {
  mkdirSync(join(dir, "env"), { recursive: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(depcDir, join(dir, "node_modules", "depc"), "dir");
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "depc-bench-deploy", private: true, type: "module" })}\n`);
  const lines = ['import { environment, Directory, File } from "depc";', "", "const files = (host: string) => ["];
  lines.push('  Directory({ path: "/srv/bench" }),');
  lines.push(`  ...Array.from({ length: ${RESOURCES - 1} }, (_, i) => File({ path: \`/srv/bench/f\${i}.conf\`, content: \`host = \${host}\\nfile = \${i}\\n\` })),`);
  lines.push("];", "", "export default environment({", "  hosts: {");
  for (let h = 1; h <= HOSTS; h++) lines.push(`    b${h}: files("b${h}"),`);
  lines.push("  },", "});", "");
  writeFileSync(join(dir, "env", "bench.ts"), lines.join("\n"));
}

async function main() {
  const pre = testbedPrerequisites({ systemd: false });
  if (!pre.ok) {
    process.stdout.write(`depc deploy bench: skipped: ${pre.missing.join("; ")}.\n${pre.howTo}\n`);
    return 0;
  }
  const root = mkdtempSync(join(tmpdir(), "depc-bench-deploy-"));
  const figures = [];
  let failed = false;
  let bed;
  try {
    process.stderr.write(`depc deploy bench: ${RUNS} timed runs per figure after a warm-up; starting ${HOSTS} test hosts\n`);
    bed = await Testbed.start({ hosts: Array.from({ length: HOSTS }, (_, i) => ({ name: `b${i + 1}` })), log: (m) => process.stderr.write(`  ${m}\n`) });
    const cfg = bed.sshConfigFile;
    writeProject(root);
    exec(["node", DEPC, "build", "env/bench"], { cwd: root });
    const depc = (args, okStatus = [0]) => exec(["node", DEPC, "deploy", ...args, "-F", cfg], { cwd: root, okStatus });
    const noChange = (r, what) => {
      if (/^\S+ +changed +/m.test(r.stdout)) throw new BenchError(`${what} changed something:\n${r.stdout}`);
      return r.seconds;
    };
    depc(["--from", "build/bench"]); // first deploy: everything created

    const fresh = ["-o", "ControlPath=none"];
    figures.push(measure("ssh-true-mux", "ssh b1 true (ControlMaster of the bed's ssh config)", { run: () => exec(["ssh", "-F", cfg, "b1", "true"]).seconds }));
    figures.push(measure("ssh-true-fresh", "ssh b1 true (fresh connection)", { run: () => exec(["ssh", "-F", cfg, ...fresh, "b1", "true"]).seconds }));
    figures.push(measure("node-start", "node -e 0 (Node's own start, in every depc figure below)", { run: () => exec(["node", "-e", "0"]).seconds }));
    figures.push(measure("cli-start", "depc --version (Node start + depc's bin): in every figure below", { run: () => exec(["node", DEPC, "--version"]).seconds }));
    // The host's own run inside the no-op deploy (ssh + upload + bundle + report), from --json.
    const hostRuns = [];
    const json = join(root, "run.json");
    figures.push(
      measure("noop-100-mux", "no-op deploy --from, 1 host × 100 resources (ControlMaster)", {
        run: (i) => {
          const seconds = noChange(depc(["--from", "build/bench", "--limit", "b1", "--json", json]), "no-op");
          if (i > 0) hostRuns.push(JSON.parse(readFileSync(json, "utf8")).hosts[0].timings.duration_ms / 1000);
          return seconds;
        },
      }),
    );
    figures.push(figureOf("noop-100-hostrun", "  of which the host's run: ssh + upload + bundle + report (--json)", hostRuns));
    figures.push(
      measure("noop-100-fresh", "no-op deploy --from, 1 host × 100 resources (fresh connection)", {
        run: () => noChange(depc(["--from", "build/bench", "--limit", "b1", ...fresh]), "no-op"),
      }),
    );
    figures.push(
      measure("noop-100-build", "no-op deploy env (cached type-check + build), 1 host × 100 (ControlMaster)", {
        run: () => noChange(depc(["env/bench", "--limit", "b1"]), "no-op"),
      }),
    );
    figures.push(
      measure("noop-100-build-fresh", "no-op deploy env (cached type-check + build), 1 host × 100 (fresh connection)", {
        run: () => noChange(depc(["env/bench", "--limit", "b1", ...fresh]), "no-op"),
      }),
    );
    if (BASELINE) {
      // The same no-op figures with the baseline depc, in a project of its own (its own build and cache).
      const baseRoot = join(root, "baseline");
      writeProject(baseRoot, BASELINE);
      const baseDepc = (args) => exec(["node", join(BASELINE, "bin", "depc.js"), "deploy", ...args, "-F", cfg], { cwd: baseRoot });
      baseDepc(["env/bench", "--limit", "b1"]);
      for (const [id, label, args] of [
        ["noop-100-mux", "no-op deploy --from (ControlMaster)", ["--from", "build/bench", "--limit", "b1"]],
        ["noop-100-fresh", "no-op deploy --from (fresh connection)", ["--from", "build/bench", "--limit", "b1", ...fresh]],
        ["noop-100-build", "no-op deploy env, cached build (ControlMaster)", ["env/bench", "--limit", "b1"]],
        ["noop-100-build-fresh", "no-op deploy env, cached build (fresh connection)", ["env/bench", "--limit", "b1", ...fresh]],
      ]) {
        figures.push(measure(`${id}-baseline`, `baseline: ${label}`, { run: () => noChange(baseDepc(args), "baseline no-op") }));
      }
    }
    figures.push(
      measure("change1-100-mux", "one-file-change deploy --from, 1 host × 100 resources (ControlMaster)", {
        prepare: () => exec(["ssh", "-F", cfg, "b1", "printf x >>/srv/bench/f7.conf"]),
        run: () => {
          const r = depc(["--from", "build/bench", "--limit", "b1"]);
          if ((r.stdout.match(/^b1 +changed +/gm) ?? []).length !== 1) throw new BenchError(`one-file change: expected one changed line:\n${r.stdout}`);
          return r.seconds;
        },
      }),
    );
    for (const n of [1, 3, 10]) {
      const limit = Array.from({ length: n }, (_, i) => `b${i + 1}`).join(",");
      figures.push(
        measure(`fanout-${n}`, `fan-out no-op deploy --from, ${n} host${n === 1 ? "" : "s"} × 100 resources (ControlMaster)`, {
          run: () => noChange(depc(["--from", "build/bench", "--limit", limit]), "fan-out"),
        }),
      );
    }
  } catch (error) {
    failed = true;
    process.stderr.write(`\ndepc deploy bench: ERROR: ${error instanceof BenchError ? error.message : error.stack}\n`);
  } finally {
    await bed?.stop();
    rmSync(root, { recursive: true, force: true });
  }

  const get = (id) => figures.find((f) => f.id === id)?.median;
  // Issue 14's targets: --from ≤ the floor + 0.15 s, with a (cached) build ≤ the floor + 0.25 s.
  const verdicts = [
    ["noop-100-mux", "ssh-true-mux", 0.15, "no-op deploy --from of 1 host × 100 ≤ ssh round trip + 0.15 s (ControlMaster)"],
    ["noop-100-fresh", "ssh-true-fresh", 0.15, "no-op deploy --from of 1 host × 100 ≤ ssh round trip + 0.15 s (fresh connection)"],
    ["noop-100-build", "ssh-true-mux", 0.25, "no-op deploy env (cached build) of 1 host × 100 ≤ ssh round trip + 0.25 s (ControlMaster)"],
    ["noop-100-build-fresh", "ssh-true-fresh", 0.25, "no-op deploy env (cached build) of 1 host × 100 ≤ ssh round trip + 0.25 s (fresh connection)"],
    ...(BASELINE
      ? [
          ["noop-100-mux-baseline", "ssh-true-mux", 0.15, "baseline: no-op deploy --from ≤ ssh round trip + 0.15 s (ControlMaster)"],
          ["noop-100-fresh-baseline", "ssh-true-fresh", 0.15, "baseline: no-op deploy --from ≤ ssh round trip + 0.15 s (fresh connection)"],
          ["noop-100-build-baseline", "ssh-true-mux", 0.25, "baseline: no-op deploy env (cached build) ≤ ssh round trip + 0.25 s (ControlMaster)"],
          ["noop-100-build-fresh-baseline", "ssh-true-fresh", 0.25, "baseline: no-op deploy env (cached build) ≤ ssh round trip + 0.25 s (fresh connection)"],
        ]
      : []),
    ["noop-100-hostrun", "ssh-true-mux", 0.15, "the deploy's own work (host run, without the CLI's start) ≤ ssh round trip + 0.15 s"],
  ].map(([id, floor, slack, text]) => {
    const m = get(id);
    const f = get(floor);
    if (m === undefined || f === undefined) return { id, text, verdict: "n/a" };
    return { id, text, median: m, floor: f, overhead: m - f, verdict: m <= f + slack ? "PASS" : "MISS" };
  });
  const rows = figures.map((f) => [f.label, f.min.toFixed(3), f.median.toFixed(3), f.max.toFixed(3)]);
  const head = ["measurement", "min s", "median s", "max s"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  const out = [
    `depc deploy bench — node ${process.version}, ${RUNS} runs per figure after 1 warm-up, test-bed hosts over ssh`,
    "",
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    ...verdicts.map((v) =>
      v.verdict === "n/a" ? `n/a   ${v.text}` : `${v.verdict.padEnd(4)}  ${v.text}: ${v.median.toFixed(3)} s = floor ${v.floor.toFixed(3)} s + ${v.overhead.toFixed(3)} s`,
    ),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  const dir = join(REPO, "build", "bench");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "deploy.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, errored: failed, figures, targets: verdicts }, null, 2)}\n`);
  process.stdout.write(`results: ${join(dir, "deploy.json")}\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
