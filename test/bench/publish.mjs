#!/usr/bin/env node
// depc benchmarks, pull mode (issue 15): `npm run bench` runs it after the others.
//
// `depc publish` of 100 hosts × 100 Files each to a directory store, each figure beside
// `depc build` of the same model measured in the same run (medians of BENCH_RUNS rounds after
// a warm-up round, each round running every figure once; the type-check cache is warm for
// all of them, as in daily use):
//   (a) first publish (a fresh, empty store each run: 100 bundles uploaded, signed);
//   (b) unchanged publish (the store already holds it: nothing written);
//   (c) and (d) the same with --from the build (no compiler: publishing alone).
// Exits 0 whatever the figures (a report), 1 when something errored.
//
// Env: BENCH_RUNS (timed runs per figure, default 5), BENCH_KEEP=1 (keep the temp root).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DEPC = join(REPO, "bin", "depc.js");
const RUNS = Math.max(1, Number.parseInt(process.env.BENCH_RUNS ?? "5", 10) || 5);
const KEEP = process.env.BENCH_KEEP === "1";
const HOSTS = 100;
const FILES = 100;

class BenchError extends Error {}

function exec(argv, { cwd } = {}) {
  const [command, ...args] = argv;
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, env: { ...process.env, NO_COLOR: "1" }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.error) throw new BenchError(`${argv.join(" ")}: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = (s) => (s ?? "").split("\n").slice(-15).join("\n");
    throw new BenchError(`${argv.join(" ")} exited ${result.status ?? result.signal}\n--- stdout:\n${tail(result.stdout)}\n--- stderr:\n${tail(result.stderr)}`);
  }
  return { seconds, stdout: result.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** 100 hosts, each with a directory and 100 Files of its own content. */
function project(dir) {
  mkdirSync(join(dir, "env"), { recursive: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(REPO, join(dir, "node_modules", "depc"), "dir");
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "depc-bench-publish", private: true, type: "module" })}\n`);
  const lines = [
    'import { environment, Directory, File } from "depc";',
    "const files = (h: number) => [",
    '  Directory({ path: "/srv/bench" }),',
    `  ...Array.from({ length: ${FILES} }, (_, f) => File({ path: \`/srv/bench/f\${f}.conf\`, content: \`# host \${h}\\nfile = \${f}\\nvalue = \${(h * 7919 + f * 104729) % 1000003}\\n\` })),`,
    "];",
    `export default environment({ hosts: Object.fromEntries(Array.from({ length: ${HOSTS} }, (_, h) => [\`h\${h}\`, files(h)])) });`,
    "",
  ];
  writeFileSync(join(dir, "env", "bench.ts"), lines.join("\n"));
}

function main() {
  const root = mkdtempSync(join(tmpdir(), "depc-bench-publish-"));
  const rows = [];
  let failed = false;
  try {
    process.stderr.write(`depc bench (publish): ${HOSTS} hosts × ${FILES} files; ${RUNS} rounds after a warm-up; temp root ${root}\n`);
    const dir = join(root, "proj");
    project(dir);
    exec(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(root, "publisher")]);
    const store = join(root, "store");
    const fromStore = join(root, "store-from");
    const publish = (to, ...extra) => ["node", DEPC, "publish", ...extra, "--to", to, "--sign-key", join(root, "publisher")];

    // Interleaved: each round runs every figure once, so that all of them see the same load
    // (this machine's other work comes and goes); the first round is the warm-up.
    const samples = { build: [], first: [], unchanged: [], fromFirst: [], fromUnchanged: [] };
    for (let round = 0; round <= RUNS; round++) {
      const times = {};
      times.build = exec(["node", DEPC, "build", "env/bench"], { cwd: dir }).seconds;
      rmSync(store, { recursive: true, force: true });
      let r = exec(publish(store, "env/bench"), { cwd: dir });
      if (!r.stdout.includes(`published serial 1 of bench: ${HOSTS} bundles uploaded`)) throw new BenchError(`first publish: ${r.stdout.split("\n").slice(-2).join(" ")}`);
      if (readdirSync(join(store, "bundles")).length !== HOSTS) throw new BenchError("the store does not hold a bundle per host");
      times.first = r.seconds;
      r = exec(publish(store, "env/bench"), { cwd: dir });
      if (!r.stdout.startsWith("bench unchanged at serial 1")) throw new BenchError(`unchanged publish: ${r.stdout}`);
      times.unchanged = r.seconds;
      rmSync(fromStore, { recursive: true, force: true });
      times.fromFirst = exec(publish(fromStore, "--from", "build/bench"), { cwd: dir }).seconds;
      r = exec(publish(fromStore, "--from", "build/bench"), { cwd: dir });
      if (!r.stdout.startsWith("bench unchanged at serial 1")) throw new BenchError(`unchanged publish --from: ${r.stdout}`);
      times.fromUnchanged = r.seconds;
      if (round > 0) for (const [k, v] of Object.entries(times)) samples[k].push(v);
      process.stderr.write(`  round ${round}${round === 0 ? " (warm-up)" : ""}: ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ")}\n`);
    }
    const build = median(samples.build);
    const first = median(samples.first);
    const unchanged = median(samples.unchanged);
    const fromFirst = median(samples.fromFirst);
    const fromUnchanged = median(samples.fromUnchanged);
    const bytes = readdirSync(join(store, "bundles")).reduce((sum, n) => sum + readFileSync(join(store, "bundles", n)).length, 0);
    const versus = `depc build ${build.toFixed(3)} s`;
    rows.push({ figure: `publish ${HOSTS}×${FILES}, first (${(bytes / 1e6).toFixed(1)} MB of bundles)`, median: first, versus, ratio: first / build });
    rows.push({ figure: `publish ${HOSTS}×${FILES}, unchanged`, median: unchanged, versus, ratio: unchanged / build });
    rows.push({ figure: `publish --from, first`, median: fromFirst, versus, ratio: fromFirst / build });
    rows.push({ figure: `publish --from, unchanged`, median: fromUnchanged, versus, ratio: fromUnchanged / build });
  } catch (error) {
    failed = true;
    process.stderr.write(`\ndepc bench (publish): ERROR: ${error instanceof BenchError ? error.message : error.stack}\n`);
  } finally {
    if (!KEEP && !failed) rmSync(root, { recursive: true, force: true });
    else process.stderr.write(`depc bench (publish): temp root kept: ${root}\n`);
  }
  const table = rows.map((r) => [r.figure, r.median.toFixed(3), r.versus, `${r.ratio.toFixed(2)}×`]);
  const head = ["measurement (median s)", "s", "compared with (same run)", "ratio"];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  process.stdout.write(
    [`depc bench (publish) — node ${process.version}, ${RUNS} interleaved rounds after 1 warm-up`, "", line(head), line(widths.map((w) => "-".repeat(w))), ...table.map(line), ""].join("\n"),
  );
  return failed ? 1 : 0;
}

process.exitCode = main();
