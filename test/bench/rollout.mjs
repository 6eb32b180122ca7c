#!/usr/bin/env node
// depc deploy round-trip benchmark, over real ssh to test-bed hosts (needs
// root; see test/testbed/README.md). `npm run build && node test/bench/rollout.mjs`.
//
// Issue 11's figure: a no-op deploy should cost about one ssh round trip, not
// one per wave. Measured, each one warm-up then BENCH_RUNS (default 5, min 5)
// timed runs, medians, all with fresh ssh connections (-o ControlPath=none):
//   - one `ssh HOST true` on the same bed (the floor);
//   - the cached build alone (`depc build`, nothing changed);
//   - a no-op `depc deploy` of examples/webcluster (4 hosts, 3 waves);
//   - a no-op `depc deploy` of 10 independent hosts.
// Target: each no-op deploy ≤ 2 × ssh round trip + the cached build; printed
// as a ratio. BENCH_BASELINE=/path/to/another/built/depc measures the same
// figures with that one too (before/after in one run). Writes
// build/bench/rollout.json. Exits 0 whatever the figures, 1 when something
// errored; without root (or the test bed's tools) it says so and exits 0.
//
// The test bed is TypeScript: this script re-runs itself under vite-node.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNS = Math.max(5, Number.parseInt(process.env.BENCH_RUNS ?? "5", 10) || 5);
const BASELINE = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;
const INDEPENDENT = 10;

if (process.env.DEPC_BENCH_UNDER_VITE_NODE !== "1") {
  const viteNode = join(REPO, "node_modules", ".bin", "vite-node");
  const r = spawnSync(viteNode, [fileURLToPath(import.meta.url)], { stdio: "inherit", env: { ...process.env, DEPC_BENCH_UNDER_VITE_NODE: "1" } });
  process.exit(r.status ?? 1);
}

const { Testbed, testbedPrerequisites } = await import("../testbed/index.ts");

class BenchError extends Error {}

function exec(argv, { cwd } = {}) {
  const [command, ...args] = argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.error) throw new BenchError(`${argv.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new BenchError(`${argv.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return { seconds, stdout: r.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function measure(id, label, run) {
  const samples = [];
  for (let i = 0; i <= RUNS; i++) {
    const seconds = run();
    if (i > 0) samples.push(seconds);
  }
  const figure = { id, label, runs: samples.length, min: Math.min(...samples), median: median(samples), max: Math.max(...samples), samples };
  process.stderr.write(`  ${label}: median ${figure.median.toFixed(3)} s\n`);
  return figure;
}

/** A project using the depc in `depcDir`: the webcluster example on four bed hosts, and ten independent hosts. */
function writeProject(dir, depcDir) {
  mkdirSync(join(dir, "env"), { recursive: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(depcDir, join(dir, "node_modules", "depc"), "dir");
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "depc-bench-rollout", private: true, type: "module" })}\n`);
  cpSync(join(REPO, "examples", "webcluster", "components"), join(dir, "components"), { recursive: true });
  writeFileSync(
    join(dir, "env", "web.ts"),
    [
      'import { environment } from "depc";',
      'import { app } from "../components/app.ts";',
      'import { haproxy } from "../components/haproxy.ts";',
      'import { postgres } from "../components/postgres.ts";',
      "export default environment({",
      "  hosts: { lb1: [haproxy], app1: [app], app2: [app.with({ workers: 8 })], db1: [postgres] },",
      "});",
      "",
    ].join("\n"),
  );
  const hosts = Array.from({ length: INDEPENDENT }, (_, i) => `    i${i + 1}: [Directory({ path: "/srv/bench" }), File({ path: "/srv/bench/i.conf", content: "host = i${i + 1}\\n" })],`);
  writeFileSync(join(dir, "env", "ten.ts"), ['import { environment, Directory, File } from "depc";', "export default environment({", "  hosts: {", ...hosts, "  },", "});", ""].join("\n"));
}

async function main() {
  const pre = testbedPrerequisites({ systemd: false });
  if (!pre.ok) {
    process.stdout.write(`depc rollout bench: skipped: ${pre.missing.join("; ")}.\n${pre.howTo}\n`);
    return 0;
  }
  const root = mkdtempSync(join(tmpdir(), "depc-bench-rollout-"));
  const figures = [];
  const targets = [];
  let failed = false;
  let bed;
  try {
    const names = ["lb1", "app1", "app2", "db1", ...Array.from({ length: INDEPENDENT }, (_, i) => `i${i + 1}`)];
    process.stderr.write(`depc rollout bench: ${RUNS} timed runs per figure after a warm-up${BASELINE ? `; baseline ${BASELINE}` : ""}; starting ${names.length} test hosts\n`);
    bed = await Testbed.start({ hosts: names.map((name) => ({ name })), log: (m) => process.stderr.write(`  ${m}\n`) });
    const cfg = bed.sshConfigFile;
    const fresh = ["-o", "ControlPath=none"];
    const ssh = measure("ssh-true-fresh", "ssh app1 true (fresh connection)", () => exec(["ssh", "-F", cfg, ...fresh, "app1", "true"]).seconds);
    figures.push(ssh);
    // The bed's own floor for an environment: `ssh HOST true` to all of its hosts at once. Every test host
    // shares this machine's 2 cores with its client, so N handshakes at once cost more than one; separate
    // machines would not (an info figure beside the issue's target, which counts one round trip).
    const hostsOf = { web: ["lb1", "app1", "app2", "db1"], ten: Array.from({ length: INDEPENDENT }, (_, i) => `i${i + 1}`) };
    const allAtOnce = {};
    for (const [env, hosts] of Object.entries(hostsOf)) {
      const script = `${hosts.map((h) => `ssh -F "$1" -o ControlPath=none ${h} true &`).join(" ")} wait`;
      allAtOnce[env] = measure(`ssh-all-${env}`, `ssh HOST true to all ${hosts.length} hosts of env/${env} at once (fresh)`, () => exec(["sh", "-c", script, "sh", cfg]).seconds);
      figures.push(allAtOnce[env]);
    }
    const depcs = [{ name: "this depc", dir: REPO, tag: "" }, ...(BASELINE ? [{ name: "baseline", dir: BASELINE, tag: "-baseline" }] : [])];
    for (const d of depcs) {
      const dir = join(root, `project${d.tag}`);
      writeProject(dir, d.dir);
      const depc = (...args) => exec(["node", join(d.dir, "bin", "depc.js"), ...args], { cwd: dir });
      for (const [env, label] of [
        ["web", "webcluster (4 hosts, 3 waves)"],
        ["ten", `${INDEPENDENT} independent hosts`],
      ]) {
        depc("deploy", `env/${env}`, "-F", cfg, ...fresh); // first deploy: everything created
        const build = measure(`build-${env}${d.tag}`, `${d.name}: cached build, ${label}`, () => depc("build", `env/${env}`).seconds);
        const json = join(dir, "run.json");
        const hostsPart = [];
        const slowestHost = [];
        const deploy = measure(`noop-${env}${d.tag}`, `${d.name}: no-op deploy, ${label} (fresh connections)`, () => {
          const r = depc("deploy", `env/${env}`, "-F", cfg, ...fresh, "--json", json);
          if (/^\S+ +changed +/m.test(r.stdout)) throw new BenchError(`the no-op deploy changed something:\n${r.stdout}`);
          const report = JSON.parse(readFileSync(json, "utf8"));
          hostsPart.push(report.duration_ms / 1000);
          slowestHost.push(Math.max(...report.hosts.map((h) => h.timings.duration_ms)) / 1000);
          return r.seconds;
        });
        // The deploy's own part (after the build), and its slowest host's run (ssh + upload + bundle + report).
        const part = { id: `noop-${env}-hosts${d.tag}`, label: `  of which the hosts (--json duration_ms)`, runs: hostsPart.length - 1, median: median(hostsPart.slice(1)) };
        const slow = { id: `noop-${env}-slowest${d.tag}`, label: `  of which the slowest host's run`, runs: slowestHost.length - 1, median: median(slowestHost.slice(1)) };
        figures.push(build, deploy, part, slow);
        const budget = 2 * ssh.median + build.median;
        const bedBudget = 2 * allAtOnce[env].median + build.median;
        targets.push({ id: `noop-${env}${d.tag}`, budget, median: deploy.median, ratio: deploy.median / budget, met: deploy.median <= budget, bedBudget, bedRatio: deploy.median / bedBudget });
      }
    }
  } catch (error) {
    failed = true;
    process.stderr.write(`depc rollout bench: ${error instanceof BenchError ? error.message : error?.stack ?? error}\n`);
  } finally {
    await bed?.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const out = join(REPO, "build", "bench");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "rollout.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, baseline: BASELINE, errored: failed, figures, targets }, null, 2)}\n`);
  process.stdout.write("\ndepc rollout bench (medians, fresh ssh connections)\n");
  for (const f of figures) process.stdout.write(`  ${f.label.padEnd(70)} ${f.median.toFixed(3)} s\n`);
  for (const t of targets) {
    process.stdout.write(
      `  target ${t.id}: ${t.median.toFixed(3)} s vs 2 × ssh + cached build = ${t.budget.toFixed(3)} s: ratio ${t.ratio.toFixed(2)} ${t.met ? "(met)" : "(NOT met)"}` +
        `; vs 2 × ssh to all its hosts at once + cached build = ${t.bedBudget.toFixed(3)} s: ratio ${t.bedRatio.toFixed(2)}\n`,
    );
  }
  return failed ? 1 : 0;
}

process.exit(await main());
