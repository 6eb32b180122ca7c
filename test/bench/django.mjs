#!/usr/bin/env node
// The no-op apply of examples/django's web host, on a real test-bed host (needs
// root; see test/testbed/README.md). `npm run build && node test/bench/django.mjs`.
//
// Deploys the example's web host (django: Packages, User, Tree, settings with
// secrets, migrations, collectstatic, gunicorn under supervisord, nginx, cron,
// logrotate) and its database host onto two fresh systemd test hosts, then
// measures, each one warm-up and BENCH_RUNS (default 5, min 5) timed runs:
//   - the floor: `ssh web1 true` through the bed's ControlMaster;
//   - the web host's bundle applied again, changing nothing: `ssh web1 sh web1.sh`;
//   - the same through depc: `depc deploy --from build/bench --limit web1`, and the
//     CLI's own start (`depc --version`), which that figure includes.
// Prints each median beside the floor (ratio and difference), writes
// build/bench/django.json. Exits 0 whatever the figures, 1 when something errored;
// without root (or the test bed's tools) it says so and exits 0.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DEPC = join(REPO, "bin", "depc.js");
const RUNS = Math.max(5, Number.parseInt(process.env.BENCH_RUNS ?? "5", 10) || 5);

// The test bed and the example's project helpers are TypeScript: run again under vite-node.
if (process.env.DEPC_BENCH_UNDER_VITE_NODE !== "1") {
  const viteNode = join(REPO, "node_modules", ".bin", "vite-node");
  const r = spawnSync(viteNode, [fileURLToPath(import.meta.url)], { stdio: "inherit", env: { ...process.env, DEPC_BENCH_UNDER_VITE_NODE: "1" } });
  process.exit(r.status ?? 1);
}

const { Testbed, testbedPrerequisites } = await import("../testbed/index.ts");
const { bedEnv, djangoProject } = await import("../e2e/django-project.ts");

class BenchError extends Error {}

function exec(argv, { cwd, env } = {}) {
  const [command, ...args] = argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.error) throw new BenchError(`${argv.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new BenchError(`${argv.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
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

/** A run that changed something is not a no-op: the figure would measure the wrong thing. */
function unchanged(r, what) {
  if (/^(\S+ +)?changed +/m.test(r.stdout) || !/ 0 changed|\(0 resources changed\)/.test(r.stdout)) throw new BenchError(`${what} changed something:\n${r.stdout}`);
  return r.seconds;
}

async function main() {
  const pre = testbedPrerequisites({ systemd: true });
  if (!pre.ok) {
    process.stdout.write(`depc django bench: skipped: ${pre.missing.join("; ")}.\n${pre.howTo}\n`);
    return 0;
  }
  const figures = [];
  let failed = false;
  let bed;
  let project;
  let resources = 0;
  try {
    process.stderr.write(`depc django bench: ${RUNS} timed runs per figure after a warm-up; deploying web1 and db (systemd test hosts)\n`);
    bed = await Testbed.start({ hosts: [{ name: "web1", systemd: true }, { name: "db", systemd: true }], log: (m) => process.stderr.write(`  ${m}\n`) });
    const aptSource = (await bed.aptRepository()).sourcesListLine;
    project = djangoProject("bench", bedEnv({ aptSource, hosts: { web1: "django", db: "postgres" } }));
    const cfg = bed.sshConfigFile;
    const env = { DEPC_AGE_IDENTITY: project.identity };
    const first = exec(["node", DEPC, "deploy", "env/bench", "-F", cfg], { cwd: project.dir, env });
    process.stderr.write(`  first deploy (packages installed, site created): ${first.seconds.toFixed(1)} s\n`);
    await bed.copyTo("web1", join(project.dir, "build", "bench", "web1.sh"), "/root/web1.sh");
    resources = Number(/: (\d+) resources:/.exec(exec(["ssh", "-F", cfg, "web1", "sh /root/web1.sh"]).stdout)?.[1] ?? 0);

    figures.push(measure("ssh-true", "ssh web1 true (ControlMaster): the floor", () => exec(["ssh", "-F", cfg, "web1", "true"]).seconds));
    figures.push(measure("noop-apply", `no-op apply of web1's bundle (${resources} resources): ssh web1 sh web1.sh`, () => unchanged(exec(["ssh", "-F", cfg, "web1", "sh /root/web1.sh"]), "the web host's bundle")));
    figures.push(measure("cli-start", "depc --version (Node start + loading the CLI)", () => exec(["node", DEPC, "--version"]).seconds));
    figures.push(
      measure("noop-deploy", "no-op depc deploy --from build/bench --limit web1", () =>
        unchanged(exec(["node", DEPC, "deploy", "--from", "build/bench", "--limit", "web1", "-F", cfg], { cwd: project.dir }), "the web host's deploy"),
      ),
    );
  } catch (error) {
    failed = true;
    process.stderr.write(`\ndepc django bench: ERROR: ${error instanceof BenchError ? error.message : error.stack}\n`);
  } finally {
    project?.cleanup();
    await bed?.stop();
  }

  const floor = figures.find((f) => f.id === "ssh-true")?.median;
  const rows = figures.map((f) => [
    f.label,
    f.min.toFixed(3),
    f.median.toFixed(3),
    f.max.toFixed(3),
    floor === undefined || f.id === "ssh-true" || f.id === "cli-start" ? "" : `${(f.median / floor).toFixed(1)}× (+${(f.median - floor).toFixed(3)} s)`,
  ]);
  const head = ["measurement", "min s", "median s", "max s", "vs the floor"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  const out = [
    `depc django bench — node ${process.version}, ${RUNS} runs per figure after 1 warm-up, examples/django's web host on a systemd test host`,
    "",
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  const dir = join(REPO, "build", "bench");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "django.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, errored: failed, resources, figures }, null, 2)}\n`);
  process.stdout.write(`results: ${join(dir, "django.json")}\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
