// End-to-end: issue 15's pull mode on 20 real systemd hosts of the test bed.
//
// The store is Debian's real nginx on this machine (test/testbed/http-store.ts: read-only,
// WebDAV PUT for reports/ only), `depc publish` writes into the directory it serves, every
// host runs the standard library's PullAgent from a systemd timer every 5 s, and the
// environment has a provider chain: db1 → app1..app3 → web1..web16 (provide/require, so
// the build manifest's `after`). What a user cares about is read from where it lands: the
// app file on each host, each host's report in the store, each agent's log, nginx's access
// log (the order of requests), and `depc status`.
//
// One bed for every case: 20 systemd hosts start in 10–30 s here, the whole file takes 4–5
// minutes (each case waits a few 5 s ticks). Its figures are printed at the end ("figures").
// Needs root and nginx (test/testbed/README.md): skipped with a message elsewhere, a
// failure in CI.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { startHttpStore, type HttpStore } from "../testbed/http-store.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: true });
const missing = [...pre.missing, ...(existsSync("/usr/sbin/nginx") ? [] : ["nginx (apt-get install -y nginx)"])];
if (missing.length > 0) {
  if (process.env.CI === "true") throw new Error(`pull e2e prerequisites missing in CI:\n  ${missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[pull e2e] skipping: ${missing.join("; ")}.\n${pre.howTo}`);
}

const DB = ["db1"];
const APPS = ["app1", "app2", "app3"];
const WEBS = Array.from({ length: 16 }, (_, i) => `web${i + 1}`);
const HOSTS = [...DB, ...APPS, ...WEBS];
const ENV = "fleet";
/** The agents' timer period, seconds. */
const TICK = 5;
/** Where each host's app file is: its content names the release the host runs. */
const APP_FILE = "/srv/fleet/release";
const STATE = `/var/lib/depc/${ENV}`;
const AGENT_LOG = `${STATE}/pull/log`;

const keys = `import { key } from "depc";
/** The database host: provided by db, required by every app. */
export const database = key<{ host: string }>("database");
/** An app backend: provided by every app, required by every web. */
export const backend = key<{ host: string }>("backend");
`;

/** The tiers: each writes APP_FILE naming its release; the keys make the chain db → app → web. */
const tiers = `import { component, Directory, File } from "depc";
import { backend, database } from "./keys.ts";

const release = (tier: string, r: string, host: string, extra: string) => [
  Directory({ path: "/srv/fleet" }),
  File({ path: ${JSON.stringify(APP_FILE)}, content: \`\${r} \${tier} \${host}\${extra}\\n\` }),
];

export const db = component({
  name: "db",
  settings: { release: "r0" },
  build(s, ctx) {
    ctx.provide(database, { host: ctx.host.name });
    release("db", s.release, ctx.host.name, "");
  },
});

export const app = component({
  name: "app",
  settings: { release: "r0" },
  build(s, ctx) {
    const d = ctx.requireOne(database);
    ctx.provide(backend, { host: ctx.host.name });
    release("app", s.release, ctx.host.name, \` db=\${d.host}\`);
  },
});

export const web = component({
  name: "web",
  settings: { release: "r0" },
  build(s, ctx) {
    const apps = ctx.require(backend);
    release("web", s.release, ctx.host.name, \` apps=\${apps.map((a) => a.host).join(",")}\`);
  },
});
`;

/** curl for the agent (GET, and PUT of its report), from the bed's apt repository: test hosts reach no other. */
const tools = (sourcesLine: string) => `import { component, File, Package } from "depc";

export const tools = component({
  name: "tools",
  settings: {},
  build() {
    const sources = [
      File({ path: "/etc/apt/sources.list", content: "# This host's packages come from sources.list.d (managed by depc).\\n" }),
      File({ path: "/etc/apt/sources.list.d/depc-test.list", content: ${JSON.stringify(`${sourcesLine}\n`)} }),
    ];
    Package({ name: "curl", after: sources });
  },
});
`;

/** Every host's agent: the standard library's PullAgent, every TICK seconds (its default splay: up to TICK more). */
const pull = (store: string, publisherKey: string) => `import { PullAgent } from "depc";

export const pull = PullAgent({ store: ${JSON.stringify(store)}, publisherKey: ${JSON.stringify(publisherKey)}, every: ${TICK} });
`;

const envFile = (release: string) => `import { environment } from "depc";
import { pull } from "../components/pull.ts";
import { tools } from "../components/tools.ts";
import { app, db, web } from "../components/tiers.ts";

export default environment({
  hosts: {
${DB.map((h) => `    ${h}: [tools, pull, db],`).join("\n")}
${APPS.map((h) => `    ${h}: [tools, pull, app],`).join("\n")}
${WEBS.map((h) => `    ${h}: [tools, pull, web],`).join("\n")}
  },
  settings: { db: { release: ${JSON.stringify(release)} }, app: { release: ${JSON.stringify(release)} }, web: { release: ${JSON.stringify(release)} } },
});
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}
interface Report {
  serial: number;
  result: string;
  attempted: number;
  at: number;
  message: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(missing.length > 0)("pull mode on 20 systemd hosts: nginx store, signed manifests, provider order", () => {
  let bed: Testbed;
  let store: HttpStore;
  let storeRoot: string;
  let scratch: string;
  let project: { dir: string; cleanup: () => void };
  const signKey = () => join(scratch, "publisher");
  const otherKey = () => join(scratch, "intruder");
  /** Wall time of each phase, printed at the end (the report's figures). */
  const figures: Record<string, number | string> = {};

  const depc = (args: string[], timeoutMs = 300_000) =>
    new Promise<Run>((resolve) => {
      const t0 = Date.now();
      const child = spawn(process.execPath, [join(repoRoot, "bin", "depc.js"), ...args], { cwd: project.dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - t0 });
      });
    });
  const setRelease = (release: string) => writeFileSync(join(project.dir, "env", `${ENV}.ts`), envFile(release));

  /** `depc publish` of the model at `release` into the store; its serial. */
  async function publish(release: string, opts: { key?: string; to?: string; extra?: string[] } = {}): Promise<number> {
    setRelease(release);
    const r = await depc(["publish", `env/${ENV}`, "--to", opts.to ?? storeRoot, "--sign-key", opts.key ?? signKey(), ...(opts.extra ?? [])]);
    if (r.code !== 0) throw new Error(`depc publish failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return latest(opts.to ?? storeRoot);
  }
  /** manifests/<serial> and its signature by `key` (ssh-keygen -Y sign, depc's namespace). */
  function signInto(root: string, text: string, serial: number, key: string): void {
    const file = join(root, "manifests", String(serial));
    writeFileSync(file, text);
    rmSync(`${file}.sig`, { force: true });
    const r = spawnSync("ssh-keygen", ["-Y", "sign", "-f", key, "-n", "depc-manifest", file]);
    if (r.status !== 0) throw new Error(`ssh-keygen -Y sign: ${r.stderr.toString()}`);
  }
  const latest = (root = storeRoot) => Number(readFileSync(join(root, "latest"), "utf8").trim());
  /** The manifest's host lines: host → object path. */
  const objects = (serial: number, root = storeRoot): Map<string, string> =>
    new Map(
      readFileSync(join(root, "manifests", String(serial)), "utf8")
        .split("\n")
        .filter((l) => l.startsWith("host "))
        .map((l) => [l.split(" ")[1]!, l.split(" ")[3]!]),
    );

  function report(host: string): Report | undefined {
    const file = join(storeRoot, "reports", host);
    if (!existsSync(file)) return undefined;
    const fields = new Map(readFileSync(file, "utf8").split("\n").map((l) => [l.split(" ")[0]!, l.slice(l.indexOf(" ") + 1)] as const));
    return { serial: Number(fields.get("serial")), result: fields.get("result")!, attempted: Number(fields.get("attempted")), at: Number(fields.get("at")), message: fields.get("message") ?? "" };
  }
  /** Waits until every host in `hosts` reports serial ≥ `serial`; ms waited. */
  async function converged(serial: number, hosts = HOSTS, timeoutMs = 60_000): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const behind = hosts.filter((h) => (report(h)?.serial ?? 0) < serial);
      if (behind.length === 0) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) {
        const logs = await Promise.all(behind.slice(0, 3).map(async (h) => `${h}: ${(await host(h, `tail -n 5 ${AGENT_LOG}; journalctl -q -n 5 -u depc-pull-${ENV}.service --no-pager`)).stdout}`));
        throw new Error(`not at serial ${serial} after ${timeoutMs} ms: ${behind.join(", ")}\n${logs.join("\n")}`);
      }
      await sleep(100);
    }
  }
  /** A command on a host without ssh (nsenter): works while the host is off the network too. */
  const host = (h: string, script: string) => bed.rootExec(h, script);
  const appFiles = async () => Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, (await host(h, `cat ${APP_FILE}`)).stdout] as const)));
  const logOf = async (h: string) => (await host(h, `cat ${AGENT_LOG} 2>/dev/null`)).stdout;
  /** Waits until every host's agent log has a line matching `line(host)` after `mark` lines; those lines. */
  async function logged(marks: Record<string, number>, line: (h: string) => RegExp, hosts = HOSTS, timeoutMs = 60_000): Promise<Record<string, string[]>> {
    const t0 = Date.now();
    for (;;) {
      const got = Object.fromEntries(await Promise.all(hosts.map(async (h) => [h, (await logOf(h)).split("\n").filter(Boolean).slice(marks[h] ?? 0)] as const)));
      if (hosts.every((h) => got[h]!.some((l) => line(h).test(l)))) return got;
      if (Date.now() - t0 > timeoutMs) throw new Error(`agent logs lack the expected line: ${JSON.stringify(Object.fromEntries(hosts.filter((h) => !got[h]!.some((l) => line(h).test(l))).map((h) => [h, got[h]])))}`);
      await sleep(500);
    }
  }
  const logMarks = async () => Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, (await logOf(h)).split("\n").filter(Boolean).length] as const)));

  beforeAll(async () => {
    const t0 = Date.now();
    bed = await Testbed.start({ hosts: HOSTS.map((name) => ({ name, systemd: true })) });
    figures.bedStartMs = Date.now() - t0;
    const repo = await bed.aptRepository(["curl"]);
    scratch = mkdtempSync(join(tmpdir(), "depc-pull-e2e-"));
    storeRoot = join(scratch, "store");
    mkdirSync(storeRoot);
    store = await startHttpStore(storeRoot);
    for (const k of [signKey(), otherKey()]) {
      const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "depc-publisher", "-f", k]);
      if (r.status !== 0) throw new Error(r.stderr.toString());
    }
    project = makeProject({
      "components/keys.ts": keys,
      "components/tiers.ts": tiers,
      "components/tools.ts": tools(repo.sourcesListLine),
      "components/pull.ts": pull(store.url, readFileSync(`${signKey()}.pub`, "utf8").trim()),
      "env/fleet.ts": envFile("r0"),
    });
    figures.firstSerial = await publish("r0");
    const t1 = Date.now();
    const push = await depc(["deploy", `env/${ENV}`, "-F", bed.sshConfigFile]);
    if (push.code !== 0) throw new Error(`the bootstrap push deploy failed:\n${push.stdout}\n${push.stderr}`);
    figures.bootstrapDeployMs = Date.now() - t1;
  }, 900_000);

  afterAll(async () => {
    console.log(`[pull e2e] figures: ${JSON.stringify(figures)}`);
    await store?.stop();
    await bed?.stop();
    project?.cleanup();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, 180_000);

  it("after one push deploy every agent applies the published serial 1 (the same bundles: nothing changes)", async () => {
    figures.serial1Ms = await converged(1);
    for (const h of HOSTS) expect(report(h)).toMatchObject({ serial: 1, result: "ok" });
    const files = await appFiles();
    expect(files.db1).toBe("r0 db db1\n");
    expect(files.app2).toBe("r0 app app2 db=db1\n");
    expect(files.web7).toBe("r0 web web7 apps=app1,app2,app3\n");
  }, 300_000);

  /** Providers of each host, from the build manifest (what the store's manifest says too). */
  const providers = (h: string): string[] => (DB.includes(h) ? [] : APPS.includes(h) ? DB : APPS);
  /** Index of the first access-log line equal to `line` at or after `from`, else Infinity. */
  const firstAt = (log: string[], line: string, from: number) => {
    const i = log.indexOf(line, from);
    return i < 0 ? Infinity : i;
  };

  it("a publish reaches all 20 hosts within a few ticks, providers first; depc status shows all at the serial, exit 0", async () => {
    const mark = store.accessLog().split("\n").length - 1;
    const t0 = Date.now();
    const serial = await publish("r1");
    figures.publishMs = Date.now() - t0;
    expect(serial).toBe(2);
    const ms = await converged(serial);
    figures.publishToAll20Ms = Date.now() - t0;
    figures.publishToAll20Ticks = Number(((Date.now() - t0) / 1000 / TICK).toFixed(1));
    // Three tiers need at least three ticks; a few more at most on this shared 2-core machine.
    expect(ms).toBeLessThan(9 * TICK * 1000);
    const files = await appFiles();
    for (const h of HOSTS) expect(files[h]!.startsWith(`r1 `), `${h}: ${files[h]}`).toBe(true);

    // Order, from nginx's own log of requests: a host fetched its new bundle only after each
    // of its providers had fetched its own and then sent a report (PUT).
    const log = store.accessLog().split("\n");
    const obj = objects(serial);
    for (const h of HOSTS) {
      const mine = firstAt(log, `GET /${obj.get(h)} 200`, mark);
      expect(mine, `${h} fetched its bundle`).toBeLessThan(Infinity);
      for (const p of providers(h)) {
        const theirs = firstAt(log, `GET /${obj.get(p)} 200`, mark);
        const reported = log.slice(theirs, mine).some((l) => l.startsWith(`PUT /reports/${p} `));
        expect(theirs < mine && reported, `${p} applied and reported before ${h} fetched its bundle`).toBe(true);
      }
    }
    // And from the reports' times (seconds): no host applied before any of its providers.
    for (const h of HOSTS) for (const p of providers(h)) expect(report(h)!.at).toBeGreaterThanOrEqual(report(p)!.at);
    // The agents' logs: one "applied" line for the serial, and the waits that made the order.
    const logs = Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, await logOf(h)] as const)));
    for (const h of HOSTS) expect(logs[h]!.match(/ serial 2: applied$/gm), h).toHaveLength(1);
    // Each host's "applied" time (its log's ISO time, to the second) is not before its providers'.
    const appliedAt = (h: string) => /^(\S+) serial 2: applied$/m.exec(logs[h]!)![1]!;
    for (const h of HOSTS) for (const p of providers(h)) expect(appliedAt(h) >= appliedAt(p), `${h} ${appliedAt(h)} after ${p} ${appliedAt(p)}`).toBe(true);
    figures.waitingLines = HOSTS.map((h) => logs[h]!.match(/ serial 2: waiting for \S+ \(serial 2\)$/gm)?.length ?? 0).reduce((a, b) => a + b, 0);

    const st = await depc(["status", ENV, "--store", store.url]);
    expect(st.code, st.stdout + st.stderr).toBe(0);
    expect(st.stdout).toContain("20 of 20 hosts at serial 2\n");
    expect(st.stdout).toMatch(/^web16 +2 +ok +/m);
  }, 300_000);

  /** A systemd host's cgroup (the bed names it as the host's netns): freezing it stops every process of the host. */
  const cgroupOf = (h: string) =>
    existsSync("/sys/fs/cgroup/cgroup.controllers") ? `/sys/fs/cgroup/${bed.netns(h)}` : `/sys/fs/cgroup/unified/${bed.netns(h)}`;
  const ways = [
    {
      // The closest the bed has to a stopped machine: systemd, its timers, sshd, all frozen
      // (the monotonic clock goes on, so the timer is due the moment the host runs again).
      how: "frozen: every process of the host stopped",
      down: "web16",
      release: "r2",
      stop: (h: string) => writeFileSync(`${cgroupOf(h)}/cgroup.freeze`, "1"),
      start: (h: string) => writeFileSync(`${cgroupOf(h)}/cgroup.freeze`, "0"),
    },
    {
      // Running, but cut off: its agent runs every tick and cannot reach the store.
      how: "off the network: its link down",
      down: "web15",
      release: "r2b",
      stop: (h: string) => expect(spawnSync("ip", ["-n", bed.netns(h), "link", "set", "eth0", "down"]).status).toBe(0),
      start: (h: string) => expect(spawnSync("ip", ["-n", bed.netns(h), "link", "set", "eth0", "up"]).status).toBe(0),
    },
  ];
  for (const way of ways) {
    it(`a host down during the publish (${way.how}) catches up when it comes back`, async () => {
      const { down } = way;
      const before = (await host(down, `cat ${APP_FILE}`)).stdout;
      way.stop(down);
      let serial = 0;
      try {
        serial = await publish(way.release);
        await converged(serial, HOSTS.filter((h) => h !== down));
        await sleep(2 * TICK * 1000); // two more ticks: it stays behind, nothing half-applied
        expect(report(down)!.serial).toBe(serial - 1);
        expect((await host(down, `cat ${APP_FILE}`)).stdout).toBe(before);
        const st = await depc(["status", ENV, "--store", store.url]);
        expect(st.code).toBe(1);
        expect(st.stdout).toContain(`19 of 20 hosts at serial ${serial}; behind: ${down}\n`);
      } finally {
        way.start(down);
      }
      const t0 = Date.now();
      await converged(serial, [down]);
      figures[`catchUpMs-${down}`] = Date.now() - t0;
      expect((await host(down, `cat ${APP_FILE}`)).stdout).toBe(`${way.release} web ${down} apps=app1,app2,app3\n`);
      expect(await logOf(down)).toMatch(new RegExp(` serial ${serial}: applied$`, "m"));
    }, 300_000);
  }

  /**
   * After an attack: within a few ticks every host logged `expect(h)` (one line, not
   * repeated), its report says so, no host fetched a bundle it should not have, and
   * every app file is as it was.
   */
  async function refusedEverywhere(attack: () => void | Promise<void>, expected: (h: string) => RegExp, opts: { bundlesFetched?: boolean } = {}) {
    const before = await appFiles();
    const marks = await logMarks();
    const mark = store.accessLog().split("\n").length - 1;
    await attack();
    await logged(marks, expected);
    await sleep(2 * TICK * 1000); // two more ticks: still refused, and said once
    for (const h of HOSTS) {
      const lines = (await logOf(h)).split("\n").filter(Boolean).slice(marks[h]);
      // One line: the refusal (or the wait), not repeated on later ticks.
      expect(lines, h).toHaveLength(1);
      expect(lines[0], h).toMatch(expected(h));
    }
    expect(await appFiles()).toEqual(before);
    if (!opts.bundlesFetched) expect(store.accessLog().split("\n").slice(mark).filter((l) => l.startsWith("GET /bundles/"))).toEqual([]);
  }
  const iso = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/;

  it("a manifest signed by another key: refused on every host, nothing applied", async () => {
    let serial = 0;
    await refusedEverywhere(
      async () => {
        serial = await publish("evil-key", { key: otherKey() });
      },
      () => new RegExp(`^${iso.source} serial ${latest()}: refused: manifest ${latest()} is not signed by the publisher$`),
    );
    for (const h of HOSTS) expect(report(h)).toMatchObject({ serial: serial - 1, result: "refused", attempted: serial });
  }, 300_000);

  it("a replayed older manifest (latest and the files of an older serial put back): refused on every host", async () => {
    const applied = report("db1")!.serial;
    await refusedEverywhere(
      () => writeFileSync(join(storeRoot, "latest"), "2\n"),
      () => new RegExp(`^${iso.source} serial 2: refused: serial 2 is lower than the applied ${applied}$`),
    );
  }, 300_000);

  it("an old manifest and signature copied under a new serial: refused as a replay on every host", async () => {
    const serial = 100;
    for (const f of ["", ".sig"]) cpSync(join(storeRoot, "manifests", `2${f}`), join(storeRoot, "manifests", `${serial}${f}`));
    await refusedEverywhere(
      () => writeFileSync(join(storeRoot, "latest"), `${serial}\n`),
      () => new RegExp(`^${iso.source} serial ${serial}: refused: manifest ${serial} says serial '2' \\(a replayed manifest\\)$`),
    );
  }, 300_000);

  it("an expired manifest (signed by the publisher's key, its expiry passed): refused on every host", async () => {
    // publish --expires takes 30m at the least: the expired one is written as publish writes
    // it (same text, same key, same signature namespace), with its times in the past.
    const serial = latest() + 1;
    const text = readFileSync(join(storeRoot, "manifests", "3"), "utf8")
      .replace(/^serial \d+$/m, `serial ${serial}`)
      .replace(/^published \d+$/m, `published ${Math.floor(Date.now() / 1000) - 7200}`)
      .replace(/^expires \d+$/m, `expires ${Math.floor(Date.now() / 1000) - 3600}`);
    const expiredAt = new Date((Math.floor(Date.now() / 1000) - 3600) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    await refusedEverywhere(
      () => {
        signInto(storeRoot, text, serial, signKey());
        writeFileSync(join(storeRoot, "latest"), `${serial}\n`);
      },
      () => new RegExp(`^${iso.source} serial ${serial}: refused: manifest ${serial} expired at ${expiredAt}$`),
    );
  }, 300_000);

  it("a bundle byte changed in the store: the host refuses it, its dependents wait, nothing applied", async () => {
    // Published as usual, but into a copy of the store; the copy's new bundles are altered
    // before the store serves them (objects first, latest last: what an attacker with write
    // access to the store would do).
    const copy = join(scratch, "store-copy");
    rmSync(copy, { recursive: true, force: true });
    cpSync(storeRoot, copy, { recursive: true });
    let serial = 0;
    let wanted = "";
    let got = "";
    await refusedEverywhere(
      async () => {
        serial = await publish("r3", { to: copy });
        const obj = objects(serial, copy);
        for (const h of HOSTS) {
          const f = join(copy, obj.get(h)!);
          if (existsSync(join(storeRoot, obj.get(h)!))) continue; // an object the store already has stays as it is
          const bytes = readFileSync(f);
          bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 1;
          writeFileSync(f, bytes);
          if (h === "db1") [wanted, got] = [obj.get(h)!.slice("bundles/".length), createHash("sha256").update(bytes).digest("hex")];
        }
        for (const dir of ["bundles", "manifests"]) cpSync(join(copy, dir), join(storeRoot, dir), { recursive: true });
        cpSync(join(copy, "latest"), join(storeRoot, "latest"));
      },
      (h) =>
        h === "db1"
          ? new RegExp(`^${iso.source} serial ${serial}: refused: bundle for db1 has sha256 ${got}, manifest says ${wanted}$`)
          : new RegExp(`^${iso.source} serial ${serial}: waiting for ${APPS.includes(h) ? "db1" : "app1"} \\(serial ${serial}\\)$`),
      { bundlesFetched: true },
    );
    // Only db1 fetched a bundle: the others never got past waiting for it.
    expect(report("db1")).toMatchObject({ result: "refused", attempted: serial });
  }, 300_000);

  it("the next good publish converges every host again", async () => {
    // The altered objects are removed (the operator repairs the store) so publish uploads them again.
    for (const f of readdirSync(join(storeRoot, "bundles"))) {
      const bytes = readFileSync(join(storeRoot, "bundles", f));
      if (createHash("sha256").update(bytes).digest("hex") !== f) rmSync(join(storeRoot, "bundles", f));
    }
    const serial = await publish("r4");
    await converged(serial);
    const files = await appFiles();
    for (const h of HOSTS) expect(files[h]!.startsWith("r4 "), h).toBe(true);
  }, 300_000);

  it("a push deploy after a publish is not undone by the agents", async () => {
    const serial = latest();
    setRelease("pushed");
    const marks = await logMarks();
    const push = await depc(["deploy", `env/${ENV}`, "-F", bed.sshConfigFile]);
    expect(push.code, push.stdout + push.stderr).toBe(0);
    await sleep(3 * TICK * 1000);
    const files = await appFiles();
    for (const h of HOSTS) expect(files[h]!.startsWith("pushed "), `${h}: ${files[h]}`).toBe(true);
    // The agents saw the same serial: nothing to do, nothing logged.
    for (const h of HOSTS) expect((await logOf(h)).split("\n").filter(Boolean).slice(marks[h])).toEqual([]);
    for (const h of HOSTS) expect(report(h)).toMatchObject({ serial, result: "ok" });
  }, 300_000);
});
