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
// One bed for every case (20 systemd hosts start in about 30 s here; see the report of the
// pull-e2e work in docs/pull.md). Needs root and nginx (test/testbed/README.md): skipped
// with a message elsewhere, a failure in CI.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { formatManifest } from "../../tools/publish/layout.js";
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

export const DB = ["db1"];
export const APPS = ["app1", "app2", "app3"];
export const WEBS = Array.from({ length: 16 }, (_, i) => `web${i + 1}`);
export const HOSTS = [...DB, ...APPS, ...WEBS];
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

/** What every host carries to pull (interim: the agent installed by hand until PullAgent lands). */
const puller = (sourcesLine: string, store: string, signers: string, script: string) => `import { component, Directory, File, Package, Timer } from "depc";

export const puller = component({
  name: "puller",
  settings: {},
  build(_s, ctx) {
    // curl for the agent (GET and the report's PUT), from the bed's apt repository (hosts reach no other).
    const sources = [
      File({ path: "/etc/apt/sources.list", content: "# This host's packages come from sources.list.d (managed by depc).\\n" }),
      File({ path: "/etc/apt/sources.list.d/depc-test.list", content: ${JSON.stringify(`${sourcesLine}\n`)} }),
    ];
    Package({ name: "curl", after: sources });
    Directory({ path: "/usr/local/lib/depc" });
    File({ path: "/usr/local/lib/depc/pull-agent", mode: 0o755, content: ${JSON.stringify(script)} });
    Directory({ path: "/etc/depc" });
    File({ path: "/etc/depc/allowed_signers", content: ${JSON.stringify(signers)} });
    File({
      path: "/etc/depc/pull.conf",
      content: \`environment ${ENV}\\nhost \${ctx.host.name}\\nstore ${store}\\nsigners /etc/depc/allowed_signers\\n\`,
    });
    Timer({ name: "depc-pull", onCalendar: "*:*:0/${TICK}", accuracySec: 1, command: ["/bin/sh", "/usr/local/lib/depc/pull-agent", "/etc/depc/pull.conf"] });
  },
});
`;

const envFile = (release: string) => `import { environment } from "depc";
import { puller } from "../components/puller.ts";
import { app, db, web } from "../components/tiers.ts";

export default environment({
  hosts: {
${DB.map((h) => `    ${h}: [puller, db],`).join("\n")}
${APPS.map((h) => `    ${h}: [puller, app],`).join("\n")}
${WEBS.map((h) => `    ${h}: [puller, web],`).join("\n")}
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

/** true until the publish engineer's \`depc publish\` is merged. */
const INTERIM = false;
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
    if (INTERIM) return interimPublish(opts.to ?? storeRoot, opts.key ?? signKey());
    const r = await depc(["publish", `env/${ENV}`, "--to", opts.to ?? storeRoot, "--sign-key", opts.key ?? signKey(), ...(opts.extra ?? [])]);
    if (r.code !== 0) throw new Error(`depc publish failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return latest(opts.to ?? storeRoot);
  }
  /** Until depc publish lands: build, copy bundles by digest, sign the manifest, latest last. */
  async function interimPublish(root: string, key: string, expiresIn = 7 * 86400): Promise<number> {
    const out = join(scratch, "build");
    rmSync(out, { recursive: true, force: true });
    const b = await depc(["build", `env/${ENV}`, "--out", out]);
    if (b.code !== 0) throw new Error(`depc build failed:\n${b.stdout}\n${b.stderr}`);
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as { hosts: { name: string; bundle: string; after: string[] }[] };
    const serial = existsSync(join(root, "latest")) ? latest(root) + 1 : 1;
    mkdirSync(join(root, "bundles"), { recursive: true });
    mkdirSync(join(root, "manifests"), { recursive: true });
    const now = Math.floor(Date.now() / 1000);
    const hosts = m.hosts.map((h) => {
      const bytes = readFileSync(join(out, h.bundle));
      const hex = createHash("sha256").update(bytes).digest("hex");
      writeFileSync(join(root, "bundles", hex), bytes);
      return { name: h.name, digest: hex, object: `bundles/${hex}`, objectSha256: hex, after: h.after };
    });
    signInto(root, formatManifest({ environment: ENV, serial, published: now, expires: now + expiresIn, hosts }), serial, key);
    writeFileSync(join(root, "latest"), `${serial}\n`);
    return serial;
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
        const logs = await Promise.all(behind.slice(0, 3).map(async (h) => `${h}: ${(await host(h, `tail -n 5 ${AGENT_LOG}; journalctl -q -n 5 -u depc-pull.service --no-pager`)).stdout}`));
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
    const signers = `depc-publisher namespaces="depc-manifest" ${readFileSync(`${signKey()}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ")}\n`;
    project = makeProject({
      "components/keys.ts": keys,
      "components/tiers.ts": tiers,
      "components/puller.ts": puller(repo.sourcesListLine, store.url, signers, readFileSync(join(repoRoot, "stdlib", "pull", "pull-agent.sh"), "utf8")),
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
});
