#!/usr/bin/env node
// Pull-mode benchmark (issue 15), on 20 real systemd hosts of the test bed (needs root
// and nginx; see test/testbed/README.md). `npm run build && node test/bench/pull.mjs`.
//
// The figure the issue asks for: the time from `depc publish` until 20 test hosts have
// applied the new serial, with the agents' timer every 5 s (the standard library's
// PullAgent with every: 5 and its default splay, RandomizedDelaySec=5), printed beside the
// timer period itself (ratio). The store is Debian's real nginx on this machine
// (test/testbed/http-store.ts); "applied" is read from the hosts' reports in the store.
// Two environments on the same 20 hosts, each with its own store and agent:
//   - flat:  20 independent hosts (one wave: the floor is one tick);
//   - chain: db1 → app1..3 → web1..16 (provide/require: three waves, each waits a tick).
// BENCH_RUNS (default 3) publishes per environment, each of a changed model; medians.
// Writes build/bench/pull.json. Exits 0 whatever the figures, 1 when something errored;
// without root (or the test bed's tools, or nginx) it says so and exits 0.
//
// The test bed is TypeScript: this script re-runs itself under vite-node.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNS = Math.max(1, Number.parseInt(process.env.BENCH_RUNS ?? "3", 10) || 3);
const EVERY = 5;

if (process.env.DEPC_BENCH_UNDER_VITE_NODE !== "1") {
  const viteNode = join(REPO, "node_modules", ".bin", "vite-node");
  const r = spawnSync(viteNode, [fileURLToPath(import.meta.url)], { stdio: "inherit", env: { ...process.env, DEPC_BENCH_UNDER_VITE_NODE: "1" } });
  process.exit(r.status ?? 1);
}

const { Testbed, testbedPrerequisites, startHttpStore } = await import("../testbed/index.ts");

class BenchError extends Error {}

const DB = ["db1"];
const APPS = ["app1", "app2", "app3"];
const WEBS = Array.from({ length: 16 }, (_, i) => `web${i + 1}`);
const HOSTS = [...DB, ...APPS, ...WEBS];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function exec(argv, { cwd } = {}) {
  const [command, ...args] = argv;
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new BenchError(`${argv.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new BenchError(`${argv.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The project: tools (curl from the bed's repository), one PullAgent per environment, the two models. */
function writeProject(dir, sourcesLine, stores, publisherKey) {
  for (const d of ["env", "components", "node_modules"]) mkdirSync(join(dir, d), { recursive: true });
  symlinkSync(REPO, join(dir, "node_modules", "depc"), "dir");
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "depc-bench-pull", private: true, type: "module" })}\n`);
  writeFileSync(
    join(dir, "components", "parts.ts"),
    `import { component, Directory, File, Package, PullAgent, key } from "depc";
export const tools = component({
  name: "tools",
  build() {
    const sources = [
      File({ path: "/etc/apt/sources.list", content: "# from sources.list.d\\n" }),
      File({ path: "/etc/apt/sources.list.d/depc-test.list", content: ${JSON.stringify(`${sourcesLine}\n`)} }),
    ];
    Package({ name: "curl", after: sources });
  },
});
export const pullFlat = PullAgent({ store: ${JSON.stringify(stores.flat)}, publisherKey: ${JSON.stringify(publisherKey)}, every: ${EVERY} });
export const pullChain = PullAgent({ store: ${JSON.stringify(stores.chain)}, publisherKey: ${JSON.stringify(publisherKey)}, every: ${EVERY} });
const database = key<{ host: string }>("database");
const backend = key<{ host: string }>("backend");
const release = (env: string, r: string, extra: string) => [
  Directory({ path: \`/srv/bench-\${env}\` }),
  File({ path: \`/srv/bench-\${env}/release\`, content: \`\${r}\${extra}\\n\` }),
];
export const flat = component({ name: "flat", settings: { release: "r0" }, build: (s) => void release("flat", s.release, "") });
export const db = component({ name: "db", settings: { release: "r0" }, build(s, ctx) { ctx.provide(database, { host: ctx.host.name }); release("chain", s.release, ""); } });
export const app = component({ name: "app", settings: { release: "r0" }, build(s, ctx) { const d = ctx.requireOne(database); ctx.provide(backend, { host: ctx.host.name }); release("chain", s.release, \` db=\${d.host}\`); } });
export const web = component({ name: "web", settings: { release: "r0" }, build(s, ctx) { release("chain", s.release, \` apps=\${ctx.require(backend).map((a) => a.host).join(",")}\`); } });
`,
  );
}

function writeEnvs(dir, release) {
  const line = (h, parts) => `    ${h}: [${parts}],`;
  writeFileSync(
    join(dir, "env", "flat.ts"),
    `import { environment } from "depc";\nimport { tools, pullFlat, flat } from "../components/parts.ts";\nexport default environment({\n  hosts: {\n${HOSTS.map((h) => line(h, "tools, pullFlat, flat")).join("\n")}\n  },\n  settings: { flat: { release: ${JSON.stringify(release)} } },\n});\n`,
  );
  const tier = (h) => (DB.includes(h) ? "db" : APPS.includes(h) ? "app" : "web");
  writeFileSync(
    join(dir, "env", "chain.ts"),
    `import { environment } from "depc";\nimport { tools, pullChain, db, app, web } from "../components/parts.ts";\nexport default environment({\n  hosts: {\n${HOSTS.map((h) => line(h, `tools, pullChain, ${tier(h)}`)).join("\n")}\n  },\n  settings: { db: { release: ${JSON.stringify(release)} }, app: { release: ${JSON.stringify(release)} }, web: { release: ${JSON.stringify(release)} } },\n});\n`,
  );
}

const serialOf = (root, host) => {
  const file = join(root, "reports", host);
  if (!existsSync(file)) return 0;
  const m = /^serial (\d+)$/m.exec(readFileSync(file, "utf8"));
  return m ? Number(m[1]) : 0;
};

/** Waits until every host's report in `root` says serial ≥ `serial`; seconds since `t0`. */
async function allApplied(root, serial, t0, timeoutMs = 180_000) {
  for (;;) {
    const behind = HOSTS.filter((h) => serialOf(root, h) < serial);
    if (behind.length === 0) return Number(process.hrtime.bigint() - t0) / 1e9;
    if (Number(process.hrtime.bigint() - t0) / 1e6 > timeoutMs) throw new BenchError(`serial ${serial} not applied after ${timeoutMs / 1000} s by ${behind.join(", ")}`);
    await sleep(50);
  }
}

async function main() {
  const pre = testbedPrerequisites({ systemd: true });
  const missing = [...pre.missing, ...(existsSync("/usr/sbin/nginx") ? [] : ["nginx (apt-get install -y nginx)"])];
  if (missing.length > 0) {
    process.stdout.write(`depc pull bench: skipped: ${missing.join("; ")}.\n${pre.howTo}\n`);
    return 0;
  }
  const root = mkdtempSync(join(tmpdir(), "depc-bench-pull-"));
  const figures = [];
  const stores = {};
  let failed = false;
  let bed;
  try {
    process.stderr.write(`depc pull bench: ${RUNS} publishes per environment; starting ${HOSTS.length} systemd test hosts\n`);
    const t0 = Date.now();
    bed = await Testbed.start({ hosts: HOSTS.map((name) => ({ name, systemd: true })), log: (m) => process.stderr.write(`  ${m}\n`) });
    process.stderr.write(`  bed up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const repo = await bed.aptRepository(["curl"]);
    const key = join(root, "publisher");
    exec(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "depc-publisher", "-f", key]);
    for (const env of ["flat", "chain"]) {
      mkdirSync(join(root, `store-${env}`));
      stores[env] = await startHttpStore(join(root, `store-${env}`));
    }
    const project = join(root, "project");
    writeProject(project, repo.sourcesListLine, { flat: stores.flat.url, chain: stores.chain.url }, readFileSync(`${key}.pub`, "utf8").trim());
    writeEnvs(project, "r0");
    const depc = (...args) => exec(["node", join(REPO, "bin", "depc.js"), ...args], { cwd: project });
    for (const env of ["flat", "chain"]) depc("publish", `env/${env}`, "--to", stores[env].root, "--sign-key", key);
    // The bootstrap: one push of each environment installs curl, the agents and their timers.
    for (const env of ["flat", "chain"]) depc("deploy", `env/${env}`, "-F", bed.sshConfigFile);
    for (const env of ["flat", "chain"]) await allApplied(stores[env].root, 1, process.hrtime.bigint());

    for (const [env, label] of [
      ["flat", "20 independent hosts (1 wave)"],
      ["chain", "db1 → 3 app → 16 web (3 waves)"],
    ]) {
      const toAll = [];
      const afterPublish = [];
      const publishOnly = [];
      for (let i = 1; i <= RUNS; i++) {
        writeEnvs(project, `${env}-${i}`);
        const start = process.hrtime.bigint();
        depc("publish", `env/${env}`, "--to", stores[env].root, "--sign-key", key);
        publishOnly.push(Number(process.hrtime.bigint() - start) / 1e9);
        const serial = Number(readFileSync(join(stores[env].root, "latest"), "utf8"));
        const s = await allApplied(stores[env].root, serial, start);
        toAll.push(s);
        afterPublish.push(s - publishOnly.at(-1));
        process.stderr.write(`  ${env} run ${i}: publish ${publishOnly.at(-1).toFixed(1)} s, all 20 applied ${s.toFixed(1)} s after it started\n`);
      }
      figures.push({ id: `publish-${env}`, label: `depc publish (build + store), ${label}`, runs: RUNS, median: median(publishOnly), samples: publishOnly });
      figures.push({
        id: `publish-to-all-${env}`,
        label: `publish → all 20 applied, ${label}`,
        runs: RUNS,
        median: median(toAll),
        samples: toAll,
        period: EVERY,
        ratio: median(toAll) / EVERY,
      });
      figures.push({
        id: `latest-to-all-${env}`,
        label: `  of which after publish returned (latest written)`,
        runs: RUNS,
        median: median(afterPublish),
        samples: afterPublish,
        period: EVERY,
        ratio: median(afterPublish) / EVERY,
      });
    }
  } catch (error) {
    failed = true;
    process.stderr.write(`depc pull bench: ${error instanceof BenchError ? error.message : error?.stack ?? error}\n`);
  } finally {
    for (const s of Object.values(stores)) await s.stop();
    await bed?.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const out = join(REPO, "build", "bench");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "pull.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, every: EVERY, errored: failed, figures }, null, 2)}\n`);
  process.stdout.write(`\ndepc pull bench (medians of ${RUNS}; agents every ${EVERY} s, splay up to ${EVERY} s)\n`);
  process.stdout.write(`  ${"the agents' timer period".padEnd(64)} ${EVERY.toFixed(3)} s\n`);
  for (const f of figures) {
    process.stdout.write(`  ${f.label.padEnd(64)} ${f.median.toFixed(3)} s${f.ratio !== undefined ? `  = ${f.ratio.toFixed(2)} × the timer period` : ""}\n`);
  }
  return failed ? 1 : 0;
}

process.exit(await main());
