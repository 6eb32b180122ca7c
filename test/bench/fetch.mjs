#!/usr/bin/env node
// Benchmarks of User, Download and Extract (`node test/bench/fetch.mjs`, after `npm run build`;
// chained in `npm run bench`). Converged runs under dash, each figure beside its comparison
// measured in the same run (ratio), medians of BENCH_RUNS (default 11) timed runs after one
// warm-up:
//   - 50 Downloads vs 50 Files of the same bytes (both verified by the batched fact pass);
//   - 10 Extracts vs 10 Files (an Extract hashes its archive and reads its marker);
//   - 20 Users (this machine's existing accounts, --check: nothing is ever written to its
//     user database) vs the same bundle without them.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNS = Math.max(1, Number.parseInt(process.env.BENCH_RUNS ?? "11", 10) || 11);
const { environment, File, Download, Extract, User, Directory } = await import(join(REPO, "dist", "model", "index.js"));
const { modelOf } = await import(join(REPO, "dist", "compiler", "evaluate", "evaluate.js"));
const { emitEnvironment } = await import(join(REPO, "dist", "compiler", "build.js"));

const root = mkdtempSync(join(tmpdir(), "depc-bench-fetch-"));
let n = 0;

function bundle(resources) {
  const model = modelOf(environment({ hosts: { h: resources } }), { defaultName: "bench" });
  if (!model.ok) throw new Error(JSON.stringify(model.diagnostics));
  const result = emitEnvironment(model.environment, { projectRoot: "/", sourcesDigest: `sha256:${"0".repeat(64)}` });
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  const path = join(root, `b${++n}.sh`);
  writeFileSync(path, result.bundles.get("h"));
  return path;
}

function run(path, args, state) {
  const start = process.hrtime.bigint();
  const r = spawnSync("dash", [path, ...args], { env: { ...process.env, DEPC_STATE_DIR: state, TMPDIR: root }, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${path} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return seconds;
}

/** Median seconds of a converged run (after a first run that converges and a warm-up). */
function median(path, args = []) {
  const state = join(root, `state-${n}-${args.join("")}`);
  run(path, args, state);
  run(path, args, state);
  const times = Array.from({ length: RUNS }, () => run(path, args, state)).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
const results = [];
function figure(name, subject, baseline, baselineName) {
  results.push({ name, subject, baseline, ratio: subject / baseline });
  console.log(`${name.padEnd(44)} ${ms(subject).padStart(10)}   ${baselineName.padEnd(30)} ${ms(baseline).padStart(10)}   ratio ${(subject / baseline).toFixed(2)}`);
}

try {
  // Small files: a File carries its bytes in the bundle, which the shell parses on every run.
  const body = Buffer.from("x = 1\n".repeat(100));
  const sha = createHash("sha256").update(body).digest("hex");
  const dl = join(root, "dl");
  const fl = join(root, "fl");
  const downloads = [Directory({ path: dl }), ...Array.from({ length: 50 }, (_, i) => Download({ path: `${dl}/f${i}`, url: `http://127.0.0.1:9/f${i}`, sha256: sha }))];
  const files = [Directory({ path: fl }), ...Array.from({ length: 50 }, (_, i) => File({ path: `${fl}/f${i}`, content: body }))];
  // The Downloads' files are in place already (the URL is never fetched).
  mkdirSync(dl);
  for (let i = 0; i < 50; i++) writeFileSync(`${dl}/f${i}`, body);
  figure("no-op apply, 50 Downloads (dash)", median(bundle(downloads)), median(bundle(files)), "50 Files");

  const archive = join(root, "a.tar.gz");
  const src = join(root, "src");
  mkdirSync(join(src, "app"), { recursive: true });
  for (let i = 0; i < 100; i++) writeFileSync(join(src, "app", `m${i}.py`), `x = ${i}\n`);
  spawnSync("tar", ["-czf", archive, "app"], { cwd: src });
  const ex = join(root, "ex");
  const fx = join(root, "fx");
  const extracts = [Directory({ path: ex }), ...Array.from({ length: 10 }, (_, i) => Extract({ archive, to: `${ex}/t${i}`, strip: 1 }))];
  const tenFiles = [Directory({ path: fx }), ...Array.from({ length: 10 }, (_, i) => File({ path: `${fx}/f${i}`, content: "x\n" }))];
  figure("no-op apply, 10 Extracts of 100 files (dash)", median(bundle(extracts)), median(bundle(tenFiles)), "10 Files");

  const names = readFileSync("/etc/passwd", "utf8").split("\n").filter(Boolean).map((l) => l.split(":")[0]).filter((u) => /^[a-z_][a-z0-9_-]*$/.test(u)).slice(0, 20);
  const marker = Directory({ path: root, mode: 0o700 });
  figure(`--check, ${names.length} Users (dash)`, median(bundle([marker, ...names.map((name) => User({ name }))]), ["--check"]), median(bundle([marker]), ["--check"]), "the same without them");
  mkdirSync(join(REPO, "build", "bench"), { recursive: true });
  writeFileSync(join(REPO, "build", "bench", "fetch.json"), `${JSON.stringify({ runs: RUNS, results }, null, 2)}\n`);
} finally {
  if (process.env.BENCH_KEEP !== "1") rmSync(root, { recursive: true, force: true });
}
