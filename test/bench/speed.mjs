#!/usr/bin/env node
// depc speed benchmarks (issue 14), part of `npm run bench`; alone:
// `npm run build && node test/bench/speed.mjs`.
//
// Whole processes, each figure printed beside its comparison from the same run:
//   - CLI start: `node -e 0` (the floor), `depc --version` and a cached `depc build` of a small
//     model; target: each within 0.1 s of the floor;
//   - type-check of a changed model (a project with @types/node, like `depc init` makes; the
//     model edited before each run) beside the cached build of the same model;
//   - 1,000 hosts × 100 files (102,000 resources): the first build (type-check) and the cached
//     rebuild (with a baseline: its rebuilds interleaved with this depc's); target ≤ 4 s cached,
//     and the rebuild rewrites no bundle (inode and mtime of every bundle are compared before
//     and after).
// BENCH_BASELINE=/path/to/another/depc (a built checkout) measures every figure with that
// depc too, side by side: before/after figures from one run on one machine.
// With GNU time (/usr/bin/time), each figure also has its median CPU time (user + system):
// on a loaded machine the wall clock is mostly waiting for a core.
// Each figure: one warm-up, then BENCH_RUNS (default 5; the 1,000-host build 3) timed runs,
// medians. Writes build/bench/speed.json. Exits 0 whatever the figures, 1 when something errored.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNS = Math.max(1, Number.parseInt(process.env.BENCH_RUNS ?? "5", 10) || 5);
const BIG_RUNS = Math.max(1, Math.min(RUNS, 3));
const BASELINE = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;

class BenchError extends Error {}

// GNU time, when there is one, adds the CPU time (user + system) of each run: on a
// loaded machine the wall clock is mostly waiting for a core, the CPU time is the work.
const GNU_TIME = existsSync("/usr/bin/time") && spawnSync("/usr/bin/time", ["-f", "%U", "true"], { encoding: "utf8" }).status === 0 ? "/usr/bin/time" : undefined;
const CPU_MARK = "@@depc-bench-cpu";

function exec(argv, { cwd } = {}) {
  const [command, ...args] = GNU_TIME ? [GNU_TIME, "-f", `${CPU_MARK} %U %S`, ...argv] : argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.error) throw new BenchError(`${argv.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new BenchError(`${argv.join(" ")} (in ${cwd}) exited ${r.status ?? r.signal}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  const cpu = r.stderr.match(new RegExp(`^${CPU_MARK} ([0-9.]+) ([0-9.]+)$`, "m"));
  lastCpu = cpu ? Number(cpu[1]) + Number(cpu[2]) : undefined;
  return { seconds, stdout: r.stdout };
}

/** CPU seconds of the last exec (GNU time's 10 ms resolution), if known. */
let lastCpu;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * One warm-up, then `runs` timed rounds; in each round every variant runs once, in turn
 * (interleaved: a load spike on the machine hits all of them alike).
 */
function measureSideBySide(variants, runs) {
  const samples = variants.map(() => []);
  const cpus = variants.map(() => []);
  for (let i = 0; i <= runs; i++) {
    variants.forEach((v, k) => {
      v.prepare?.();
      const seconds = v.run();
      if (i > 0) samples[k].push(seconds);
      if (i > 0 && lastCpu !== undefined) cpus[k].push(lastCpu);
    });
  }
  return variants.map((v, k) => {
    const cpu = cpus[k].length === samples[k].length ? median(cpus[k]) : undefined;
    const figure = { id: v.id, label: v.label, runs: runs, median: median(samples[k]), min: Math.min(...samples[k]), max: Math.max(...samples[k]), cpu, samples: samples[k] };
    process.stderr.write(`  ${v.label}: median ${figure.median.toFixed(3)} s${cpu === undefined ? "" : ` (CPU ${cpu.toFixed(2)} s)`}\n`);
    return figure;
  });
}

/** A project like a user's: package.json, node_modules/depc (a link to `depc`), @types/node, env/. */
function writeProject(dir, depc, envText) {
  mkdirSync(join(dir, "env"), { recursive: true });
  mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
  symlinkSync(depc, join(dir, "node_modules", "depc"), "dir");
  symlinkSync(join(REPO, "node_modules", "@types", "node"), join(dir, "node_modules", "@types", "node"), "dir");
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "depc-bench-speed", private: true, type: "module" })}\n`);
  writeFileSync(join(dir, "env", "bench.ts"), envText);
}

const smallModel = (value) =>
  [
    'import { environment, Directory, File } from "depc";',
    "",
    `const value = ${value};`,
    "export default environment({",
    "  hosts: {",
    "    web1: [",
    '      Directory({ path: "/srv/app" }),',
    ...Array.from({ length: 8 }, (_, i) => `      File({ path: "/srv/app/f${i}.conf", content: \`value = \${value}\\n\` }),`),
    "    ],",
    "  },",
    "});",
    "",
  ].join("\n");

function bigModel(hosts, files) {
  const lines = ['import { environment, Directory, File } from "depc";', "", "export default environment({", "  hosts: {"];
  for (let h = 0; h < hosts; h++) {
    const root = `/srv/bench/h${h}`;
    lines.push(`    h${h}: [`, `      Directory({ path: ${JSON.stringify(root)} }),`);
    for (let d = 0; d < Math.ceil(files / 100); d++) lines.push(`      Directory({ path: ${JSON.stringify(`${root}/d${d}`)} }),`);
    for (let f = 0; f < files; f++) {
      const content = `# generated by depc bench\nhost = h${h}\nfile = ${f}\nvalue = ${(h * 7919 + f * 104729) % 1000003}\n`;
      lines.push(`      File({ path: ${JSON.stringify(`${root}/d${Math.floor(f / 100)}/f${f}.conf`)}, content: ${JSON.stringify(content)} }),`);
    }
    lines.push("    ],");
  }
  lines.push("  },", "});", "");
  return lines.join("\n");
}

/** Inode and mtime of every file in `dir`: the same file, not rewritten. */
function identities(dir) {
  const out = new Map();
  for (const name of readdirSync(dir)) {
    const s = statSync(join(dir, name), { bigint: true });
    out.set(name, `${s.ino}:${s.mtimeNs}`);
  }
  return out;
}

function main() {
  const root = mkdtempSync(join(tmpdir(), "depc-bench-speed-"));
  const depcs = [{ name: "this depc", dir: REPO, tag: "" }, ...(BASELINE ? [{ name: "baseline", dir: BASELINE, tag: "-baseline" }] : [])];
  const figures = [];
  let failed = false;
  try {
    process.stderr.write(`depc speed bench: ${RUNS} timed runs per figure after a warm-up${BASELINE ? `; baseline ${BASELINE}` : ""}; temp root ${root}\n`);
    // CLI start and the changed model.
    const variants = [{ id: "node", label: "node -e 0 (the floor)", run: () => exec(["node", "-e", "0"]).seconds }];
    let edits = 0;
    for (const d of depcs) {
      const bin = join(d.dir, "bin", "depc.js");
      const dir = join(root, `small${d.tag}`);
      writeProject(dir, d.dir, smallModel(0));
      exec(["node", bin, "build", "env/bench"], { cwd: dir });
      const suffix = d.tag ? ` [${d.name}]` : "";
      variants.push(
        { id: `version${d.tag}`, label: `depc --version${suffix}`, run: () => exec(["node", bin, "--version"], { cwd: dir }).seconds },
        {
          id: `build-cached${d.tag}`,
          label: `depc build, small model, cached type-check${suffix}`,
          run: () => {
            const r = exec(["node", bin, "build", "env/bench"], { cwd: dir });
            if (!r.stdout.includes("(type-check cached)")) throw new BenchError(`the cached build type-checked:\n${r.stdout}`);
            return r.seconds;
          },
        },
        {
          id: `build-changed${d.tag}`,
          label: `depc build, small model changed (type-check, @types/node installed)${suffix}`,
          prepare: () => writeFileSync(join(dir, "env", "bench.ts"), smallModel(++edits)),
          run: () => {
            const r = exec(["node", bin, "build", "env/bench"], { cwd: dir });
            if (r.stdout.includes("(type-check cached)")) throw new BenchError("the changed model's build did not type-check");
            return r.seconds;
          },
        },
      );
    }
    figures.push(...measureSideBySide(variants, RUNS));

    // 1,000 hosts × 100 files: each depc's first build, then the cached rebuilds interleaved
    // (this depc and the baseline in turn: a load spike hits both alike).
    const text = bigModel(1000, 100);
    const big = [];
    for (const d of depcs) {
      const bin = join(d.dir, "bin", "depc.js");
      const dir = join(root, `big${d.tag}`);
      writeProject(dir, d.dir, text);
      const suffix = d.tag ? ` [${d.name}]` : "";
      const first = exec(["node", bin, "build", "env/bench"], { cwd: dir });
      figures.push({ id: `big-first${d.tag}`, label: `build 1,000 hosts × 100 files, first (type-check)${suffix}`, runs: 1, median: first.seconds, min: first.seconds, max: first.seconds, cpu: lastCpu, samples: [first.seconds] });
      process.stderr.write(`  build 1,000 × 100 first${suffix}: ${first.seconds.toFixed(3)} s\n`);
      big.push({ d, bin, dir, suffix, out: join(dir, "build", "bench"), rewritten: 0, before: undefined });
    }
    const cached = measureSideBySide(
      big.map((b) => ({
        id: `big-cached${b.d.tag}`,
        label: `build 1,000 hosts × 100 files, cached type-check${b.suffix}`,
        prepare: () => (b.before = identities(b.out)),
        run: () => {
          const r = exec(["node", b.bin, "build", "env/bench"], { cwd: b.dir });
          const after = identities(b.out);
          b.rewritten = Math.max(b.rewritten, [...b.before].filter(([name, id]) => after.get(name) !== id).length);
          return r.seconds;
        },
      })),
      BIG_RUNS,
    );
    big.forEach((b, k) => figures.push(cached[k], { id: `big-rewritten${b.d.tag}`, label: `  files rewritten by a rebuild with nothing changed (of ${b.before.size})${b.suffix}`, count: b.rewritten }));
  } catch (error) {
    failed = true;
    process.stderr.write(`\ndepc speed bench: ERROR: ${error instanceof BenchError ? error.message : error.stack}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  const get = (id) => figures.find((f) => f.id === id);
  const floor = get("node")?.median;
  const verdict = (ok) => (ok ? "PASS" : "MISS");
  const targets = [];
  for (const d of depcs) {
    const suffix = d.tag ? ` [${d.name}]` : "";
    for (const id of ["version", "build-cached"]) {
      const f = get(`${id}${d.tag}`);
      const floorCpu = get("node")?.cpu;
      const cpuText = f?.cpu !== undefined && floorCpu !== undefined ? ` (CPU: ${f.cpu.toFixed(2)} s = floor ${floorCpu.toFixed(2)} s + ${(f.cpu - floorCpu).toFixed(2)} s)` : "";
      if (f && floor !== undefined) targets.push({ id: f.id, text: `${f.label} ≤ node -e 0 + 0.1 s: ${f.median.toFixed(3)} s = floor ${floor.toFixed(3)} s + ${(f.median - floor).toFixed(3)} s${cpuText}`, verdict: verdict(f.median <= floor + 0.1) });
    }
    const changed = get(`build-changed${d.tag}`);
    const cached = get(`build-cached${d.tag}`);
    const changedCpu = changed?.cpu !== undefined && cached?.cpu !== undefined ? ` (CPU: ${changed.cpu.toFixed(2)} s = ${cached.cpu.toFixed(2)} s + ${(changed.cpu - cached.cpu).toFixed(2)} s)` : "";
    if (changed && cached) targets.push({ id: changed.id, text: `type-check of a changed model${suffix}: ${changed.median.toFixed(3)} s = cached build ${cached.median.toFixed(3)} s + ${(changed.median - cached.median).toFixed(3)} s${changedCpu}`, verdict: "info" });
    const big = get(`big-cached${d.tag}`);
    if (big) targets.push({ id: big.id, text: `build of 1,000 hosts × 100 files, cached, ≤ 4 s${suffix}: ${big.median.toFixed(3)} s${big.cpu === undefined ? "" : ` (CPU ${big.cpu.toFixed(2)} s)`} (first build ${get(`big-first${d.tag}`).median.toFixed(3)} s)`, verdict: verdict(big.median <= 4) });
    const rewritten = get(`big-rewritten${d.tag}`);
    if (rewritten) targets.push({ id: rewritten.id, text: `a rebuild with nothing changed rewrites no bundle${suffix}: ${rewritten.count} rewritten`, verdict: verdict(rewritten.count === 0) });
  }
  const rows = figures.filter((f) => f.median !== undefined).map((f) => [f.label, f.min.toFixed(3), f.median.toFixed(3), f.max.toFixed(3), f.cpu === undefined ? "-" : f.cpu.toFixed(2)]);
  const head = ["measurement", "min s", "median s", "max s", "CPU s (median)"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  const out = [
    `depc speed bench — node ${process.version}, ${RUNS} runs per figure (1,000-host build: ${BIG_RUNS}) after 1 warm-up, interleaved`,
    "",
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    ...targets.map((t) => `${t.verdict.padEnd(4)}  ${t.text}`),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  const dir = join(REPO, "build", "bench");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "speed.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, baseline: BASELINE, errored: failed, figures, targets }, null, 2)}\n`);
  process.stdout.write(`results: ${join(dir, "speed.json")}\n`);
  return failed ? 1 : 0;
}

process.exitCode = main();
