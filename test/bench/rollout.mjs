#!/usr/bin/env node
// depc deploy round-trip benchmark, over real ssh to test-bed hosts (needs
// root; see test/testbed/README.md). `npm run build && node test/bench/rollout.mjs`.
//
// Issue 11's figure: a no-op deploy should cost about one ssh round trip, not
// one per wave. Measured, all with fresh ssh connections (-o ControlPath=none),
// per environment in rounds: each round runs every command below once, in
// turn, so a change of the machine's load hits every figure alike (BENCH_RUNS
// rounds, default 5, min 5, after one warm-up round; medians):
//   - one `ssh HOST true` on the same bed (the floor);
//   - `ssh HOST true` to all of the environment's hosts at once (the bed's floor);
//   - the cached build alone (`depc build`, nothing changed);
//   - a no-op `depc deploy` of examples/webcluster (4 hosts, 3 waves), and of
//     10 independent hosts.
// Target: each no-op deploy ≤ 2 × ssh round trip + the cached build; printed
// as a ratio. BENCH_BASELINE=/path/to/another/built/depc measures the builds
// and deploys with that one too, in the same rounds (before/after in one run).
// CPU: each command's own and its children's (the depc process, its ssh
// clients), and the test hosts' (their sshd's reaped children: the ssh
// sessions, login shells, remote programs and bundles), per run: every test
// host shares this machine's 2 cores with the client, so a figure is bounded
// below by the whole CPU divided by 2. DEPC_TRACE=1 on a deploy shows where
// its time goes (docs/rollouts.md). Writes build/bench/rollout.json. Exits 0
// whatever the figures, 1 when something errored; without root (or the test
// bed's tools) it says so and exits 0.
//
// The test bed is TypeScript: this script re-runs itself under vite-node.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

/** CPU seconds this process's waited-for children used so far (/proc/self/stat cutime + cstime). */
const TICK = Number.parseInt(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout, 10) || 100;
const childCpu = (pid = "self") => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").slice(readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2).split(" ");
    return (Number(f[13]) + Number(f[14])) / TICK;
  } catch {
    return 0;
  }
};

function exec(argv, { cwd } = {}) {
  const [command, ...args] = argv;
  const cpu0 = childCpu();
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.error) throw new BenchError(`${argv.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new BenchError(`${argv.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return { seconds, stdout: r.stdout, cpu: childCpu() - cpu0 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The sshd listeners of the bed's hosts (an sshd whose parent is not one): their reaped children are the hosts' sessions. */
function sshdListeners(bed, hosts) {
  const comm = (pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      return "";
    }
  };
  const parent = (pid) => readFileSync(`/proc/${pid}/stat`, "utf8").slice(readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2).split(" ")[1];
  const found = [];
  for (const h of hosts) {
    const r = spawnSync("ip", ["netns", "pids", bed.netns(h)], { encoding: "utf8" });
    for (const pid of r.stdout.split("\n").filter((p) => /^\d+$/.test(p))) {
      try {
        if (comm(pid) === "sshd" && comm(parent(pid)) !== "sshd") found.push(pid);
      } catch {
        /* gone */
      }
    }
  }
  return found;
}

/**
 * Runs every item once per round (one warm-up round, then RUNS rounds), so
 * load changes hit all alike. Each item: { id, label, run() -> { seconds, cpu } }.
 * `hostCpu()` reads the test hosts' CPU so far: its delta around a run is the hosts' share.
 */
function measureRounds(items, hostCpu) {
  const samples = new Map(items.map((it) => [it.id, { seconds: [], cpu: [], hostCpu: [] }]));
  for (let round = 0; round <= RUNS; round++) {
    for (const it of items) {
      const h0 = hostCpu();
      const r = it.run();
      const h1 = hostCpu();
      if (round === 0) continue;
      const s = samples.get(it.id);
      s.seconds.push(r.seconds);
      s.cpu.push(r.cpu);
      s.hostCpu.push(h1 - h0);
    }
  }
  return items.map((it) => {
    const s = samples.get(it.id);
    const figure = {
      id: it.id,
      label: it.label,
      runs: s.seconds.length,
      min: Math.min(...s.seconds),
      median: median(s.seconds),
      max: Math.max(...s.seconds),
      samples: s.seconds,
      cpu: median(s.cpu),
      hostCpu: median(s.hostCpu),
      ...(it.extra ? it.extra() : {}),
    };
    process.stderr.write(`  ${it.label}: median ${figure.median.toFixed(3)} s (CPU: client ${figure.cpu.toFixed(3)} s, hosts ${figure.hostCpu.toFixed(3)} s)\n`);
    return figure;
  });
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
    // The bed's own floor for an environment: `ssh HOST true` to all of its hosts at once. Every test host
    // shares this machine's 2 cores with its client, so N handshakes at once cost more than one; separate
    // machines would not (an info figure beside the issue's target, which counts one round trip).
    const hostsOf = { web: ["lb1", "app1", "app2", "db1"], ten: Array.from({ length: INDEPENDENT }, (_, i) => `i${i + 1}`) };
    const depcs = [{ name: "this depc", dir: REPO, tag: "" }, ...(BASELINE ? [{ name: "baseline", dir: BASELINE, tag: "-baseline" }] : [])];
    for (const d of depcs) writeProject(join(root, `project${d.tag}`), d.dir);
    for (const [env, label] of [
      ["web", "webcluster (4 hosts, 3 waves)"],
      ["ten", `${INDEPENDENT} independent hosts`],
    ]) {
      const hosts = hostsOf[env];
      const listeners = sshdListeners(bed, hosts);
      const hostCpu = () => listeners.reduce((sum, pid) => sum + childCpu(pid), 0);
      const script = `${hosts.map((h) => `ssh -F "$1" -o ControlPath=none ${h} true &`).join(" ")} wait`;
      const items = [
        { id: `ssh-true-fresh-${env}`, label: `${hosts[0]} ssh true (fresh connection)`, run: () => exec(["ssh", "-F", cfg, ...fresh, hosts[0], "true"]) },
        { id: `ssh-all-${env}`, label: `ssh HOST true to all ${hosts.length} hosts of env/${env} at once (fresh)`, run: () => exec(["sh", "-c", script, "sh", cfg]) },
      ];
      const reports = new Map();
      for (const d of depcs) {
        const dir = join(root, `project${d.tag}`);
        const depc = (...args) => exec(["node", join(d.dir, "bin", "depc.js"), ...args], { cwd: dir });
        // The baseline keeps its own state on the hosts (lock, ledger, kept bundles): with one state directory,
        // the two depcs' bundles would take turns as "a new bundle to keep" and no deploy would be a true no-op.
        const state = d.tag ? ["--state-dir", `/var/lib/depc-bench${d.tag}/${env}`] : [];
        depc("deploy", `env/${env}`, "-F", cfg, ...fresh, ...state); // first deploy: everything created
        const json = join(dir, "run.json");
        const hostsPart = [];
        const slowestHost = [];
        reports.set(d.tag, { hostsPart, slowestHost });
        items.push({ id: `build-${env}${d.tag}`, label: `${d.name}: cached build, ${label}`, run: () => depc("build", `env/${env}`) });
        items.push({
          id: `noop-${env}${d.tag}`,
          label: `${d.name}: no-op deploy, ${label} (fresh connections)`,
          run: () => {
            const r = depc("deploy", `env/${env}`, "-F", cfg, ...fresh, ...state, "--json", json);
            if (/^\S+ +changed +/m.test(r.stdout)) throw new BenchError(`the no-op deploy changed something:\n${r.stdout}`);
            const report = JSON.parse(readFileSync(json, "utf8"));
            hostsPart.push(report.duration_ms / 1000);
            slowestHost.push(Math.max(...report.hosts.map((h) => h.timings.duration_ms)) / 1000);
            return r;
          },
        });
      }
      const measured = new Map(measureRounds(items, hostCpu).map((f) => [f.id, f]));
      const ssh = measured.get(`ssh-true-fresh-${env}`);
      const allAtOnce = measured.get(`ssh-all-${env}`);
      figures.push(ssh, allAtOnce);
      for (const d of depcs) {
        const build = measured.get(`build-${env}${d.tag}`);
        const deploy = measured.get(`noop-${env}${d.tag}`);
        const { hostsPart, slowestHost } = reports.get(d.tag);
        // The deploy's own part (after the build), and its slowest host's run (ssh + upload + bundle + report); the warm-up round's left out.
        const part = { id: `noop-${env}-hosts${d.tag}`, label: `  of which the hosts (--json duration_ms)`, runs: hostsPart.length - 1, median: median(hostsPart.slice(1)) };
        const slow = { id: `noop-${env}-slowest${d.tag}`, label: `  of which the slowest host's run`, runs: slowestHost.length - 1, median: median(slowestHost.slice(1)) };
        figures.push(build, deploy, part, slow);
        const budget = 2 * ssh.median + build.median;
        const bedBudget = 2 * allAtOnce.median + build.median;
        targets.push({
          id: `noop-${env}${d.tag}`,
          budget,
          median: deploy.median,
          ratio: deploy.median / budget,
          met: deploy.median <= budget,
          bedBudget,
          bedRatio: deploy.median / bedBudget,
          // CPU of the deploy (client + hosts) beside the floor's (ssh to all hosts at once, and the build).
          cpu: deploy.cpu + deploy.hostCpu,
          floorCpu: allAtOnce.cpu + allAtOnce.hostCpu + build.cpu,
        });
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
  for (const f of figures) {
    const cpu = f.cpu !== undefined ? `  CPU: client ${f.cpu.toFixed(3)} s, hosts ${f.hostCpu.toFixed(3)} s` : "";
    process.stdout.write(`  ${f.label.padEnd(70)} ${f.median.toFixed(3)} s${cpu}\n`);
  }
  for (const t of targets) {
    process.stdout.write(
      `  target ${t.id}: ${t.median.toFixed(3)} s vs 2 × ssh + cached build = ${t.budget.toFixed(3)} s: ratio ${t.ratio.toFixed(2)} ${t.met ? "(met)" : "(NOT met)"}` +
        `; vs 2 × ssh to all its hosts at once + cached build = ${t.bedBudget.toFixed(3)} s: ratio ${t.bedRatio.toFixed(2)}` +
        `; CPU ${t.cpu.toFixed(3)} s (client + hosts) vs the floor's ${t.floorCpu.toFixed(3)} s (ssh to all at once + build), on 2 cores\n`,
    );
  }
  return failed ? 1 : 0;
}

process.exit(await main());
