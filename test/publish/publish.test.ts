// `depc publish` end to end on this machine: a real project built by the
// real compiler, a directory store, real ssh-keygen signatures (verified as
// the agent verifies them), exact output and error lines.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type Io } from "../../compiler/cli.js";
import { makeProject } from "../support/project.js";
import { requireTool } from "../support/shells.js";

const tools = ["ssh-keygen"].filter((t) => !requireTool(t));
if (tools.length > 0 && process.env.CI === "true") throw new Error(`publish tests need ${tools.join(", ")} (OpenSSH client)`);

const T0 = 1_800_000_000;
const ENV = (greeting: string) => `import { environment, Directory, File } from "depc";
export default environment({
  hosts: {
    db1: [Directory({ path: "/srv/db" })],
    web1: [File({ path: "/srv/web/index.html", content: ${JSON.stringify(greeting)} })],
  },
});
`;
const STAGING = `import { environment, Directory } from "depc";
export default environment({ hosts: { s1: [Directory({ path: "/srv/s" })] } });
`;

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups) c();
});

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Runs the CLI in-process at epoch second `now`. */
async function depc(cwd: string, argv: readonly string[], extra: { now?: number; env?: NodeJS.ProcessEnv } = {}) {
  let stdout = "";
  let stderr = "";
  const io: Io & { now?: number; env?: NodeJS.ProcessEnv } = { cwd, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), color: false, ...extra };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Every file under `dir` with its bytes' sha256 (what a store holds). */
function listing(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${prefix}${name}/`);
      else out[`${prefix}${name}`] = sha256(readFileSync(p));
    }
  };
  if (existsSync(dir)) walk(dir, "");
  return out;
}

/** Verifies manifests/<serial> as the agent does (ssh-keygen -Y verify, allowed_signers of the publisher). */
function verify(store: string, serial: number, publicKeyFile: string): { status: number | null; out: string } {
  const allowed = join(store, "..", "allowed_signers");
  writeFileSync(allowed, `depc-publisher namespaces="depc-manifest" ${readFileSync(publicKeyFile, "utf8")}`);
  const r = spawnSync("ssh-keygen", ["-Y", "verify", "-f", allowed, "-I", "depc-publisher", "-n", "depc-manifest", "-s", join(store, "manifests", `${serial}.sig`)], {
    input: readFileSync(join(store, "manifests", String(serial))),
    encoding: "utf8",
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("depc publish to a directory store", () => {
  let dir: string;
  let store: string;
  const publish = (argv: string[] = [], extra: { now?: number; env?: NodeJS.ProcessEnv } = {}) =>
    depc(dir, ["publish", "env/prod", ...(argv.includes("--to") ? [] : ["--to", "store"]), "--sign-key", "publisher", "--no-cache", ...argv], { now: T0, ...extra });
  const bundle = (host: string) => readFileSync(join(dir, "build", "prod", `${host}.sh`));

  beforeAll(() => {
    const project = makeProject({ "env/prod.ts": ENV("hello\n"), "env/staging.ts": STAGING });
    cleanups.push(project.cleanup);
    dir = project.dir;
    store = join(dir, "store");
    const made = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "publisher", "-f", join(dir, "publisher")]);
    expect(made.status).toBe(0);
    const other = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "other")]);
    expect(other.status).toBe(0);
  });

  it("first publish: bundles by sha256, the exact manifest, a signature the agent accepts, latest last", async () => {
    const r = await publish();
    expect(r.stderr).toBe("");
    const db = sha256(bundle("db1"));
    const web = sha256(bundle("web1"));
    expect(r.stdout).toBe(`db1: new host, bundle ${db.slice(0, 12)}\nweb1: new host, bundle ${web.slice(0, 12)}\npublished serial 1 of prod: 2 bundles uploaded, 0 unchanged\n`);
    expect(r.code).toBe(0);
    expect(Object.keys(listing(store))).toEqual([`bundles/${db}`, `bundles/${web}`, "latest", "manifests/1", "manifests/1.sig"].sort());
    expect(readFileSync(join(store, "bundles", db))).toEqual(bundle("db1"));
    expect(readFileSync(join(store, "latest"), "utf8")).toBe("1\n");
    expect(readFileSync(join(store, "manifests", "1"), "utf8")).toBe(
      `depc-manifest 1\nenvironment prod\nserial 1\npublished ${T0}\nexpires ${T0 + 7 * 86400}\nhost db1 ${db} bundles/${db} ${db} -\nhost web1 ${web} bundles/${web} ${web} -\n`,
    );
    const ok = verify(store, 1, join(dir, "publisher.pub"));
    expect(ok.out).toContain('Good "depc-manifest" signature for depc-publisher');
    expect(ok.status).toBe(0);
    // Another key's allowed_signers refuses it.
    expect(verify(store, 1, join(dir, "other.pub")).status).not.toBe(0);
  });

  it("publishing again with nothing changed writes nothing and says so", async () => {
    const before = listing(store);
    const mtimes = readdirSync(join(store, "bundles")).map((n) => statSync(join(store, "bundles", n)).mtimeMs);
    const r = await publish([], { now: T0 + 3600 });
    expect(r.stdout).toBe("prod unchanged at serial 1 (expires 2027-01-22T08:00:00Z)\n");
    expect(r.code).toBe(0);
    expect(listing(store)).toEqual(before);
    expect(readdirSync(join(store, "bundles")).map((n) => statSync(join(store, "bundles", n)).mtimeMs)).toEqual(mtimes);
  });

  it("a changed model: the changed bundles under the next serial; an older build again uploads nothing", async () => {
    cpSync(join(dir, "build", "prod"), join(dir, "build-first"), { recursive: true });
    const first = { db: sha256(bundle("db1")), web: sha256(bundle("web1")) };
    writeFileSync(join(dir, "env", "prod.ts"), ENV("hello again\n"));
    let r = await publish([], { now: T0 + 7200 });
    // Every bundle names the sources' digest: any change to the model is a new bundle for every host.
    const db = sha256(bundle("db1"));
    const web = sha256(bundle("web1"));
    expect(r.stdout).toBe(`db1: new bundle ${db.slice(0, 12)}\nweb1: new bundle ${web.slice(0, 12)}\npublished serial 2 of prod: 2 bundles uploaded, 0 unchanged\n`);
    expect(readFileSync(join(store, "latest"), "utf8")).toBe("2\n");
    expect(readFileSync(join(store, "manifests", "2"), "utf8")).toContain(`serial 2\npublished ${T0 + 7200}\n`);
    expect(readFileSync(join(store, "manifests", "2"), "utf8")).toContain(`host web1 ${web} bundles/${web} ${web} -\n`);
    expect(verify(store, 2, join(dir, "publisher.pub")).status).toBe(0);
    // Serial 1 and its objects stay: a host still applying it finds them.
    expect(existsSync(join(store, "manifests", "1"))).toBe(true);
    // Going back to the first build: a new serial, and nothing uploaded (the store has those bundles).
    const before = listing(store);
    r = await depc(dir, ["publish", "--from", "build-first", "--to", "store", "--sign-key", "publisher"], { now: T0 + 7250 });
    expect(r.stdout).toBe(`db1: new bundle ${first.db.slice(0, 12)}\nweb1: new bundle ${first.web.slice(0, 12)}\npublished serial 3 of prod: 0 bundles uploaded, 0 unchanged\n`);
    expect(Object.keys(listing(store)).filter((p) => !(p in before))).toEqual(["manifests/3", "manifests/3.sig"]);
  });

  it("--from a build whose hosts' order changed (after): a new serial naming the providers", async () => {
    const manifest = JSON.parse(readFileSync(join(dir, "build-first", "manifest.json"), "utf8"));
    manifest.hosts[1].after = ["db1"];
    writeFileSync(join(dir, "build-first", "manifest.json"), JSON.stringify(manifest));
    const r = await depc(dir, ["publish", "--from", "build-first", "--to", "store", "--sign-key", "publisher"], { now: T0 + 7300 });
    expect(r.stdout).toBe("web1: waits for db1 now\npublished serial 4 of prod: 0 bundles uploaded, 1 unchanged\n");
    expect(readFileSync(join(store, "manifests", "4"), "utf8")).toMatch(/\nhost web1 [0-9a-f]{64} bundles\/[0-9a-f]{64} [0-9a-f]{64} db1\n$/);
  });

  it("re-signs under a new serial once the manifest is past half its lifetime; --json", async () => {
    const early = await depc(dir, ["publish", "--from", "build-first", "--to", "store", "--sign-key", "publisher"], { now: T0 + 7300 + 3 * 86400 });
    expect(early.stdout).toBe(`prod unchanged at serial 4 (expires ${new Date((T0 + 7300 + 7 * 86400) * 1000).toISOString().replace(".000", "")})\n`);
    const late = await depc(dir, ["publish", "--from", "build-first", "--to", "store", "--sign-key", "publisher", "--expires", "12h"], { now: T0 + 7300 + 4 * 86400 });
    expect(late.stdout).toBe(
      `nothing changed; serial 4 was past half its lifetime: signed again as serial 5, expires ${new Date((T0 + 7300 + 4 * 86400 + 12 * 3600) * 1000).toISOString().replace(".000", "")}\n` +
        "published serial 5 of prod: 0 bundles uploaded, 2 unchanged\n",
    );
    const json = await depc(dir, ["publish", "--from", "build-first", "--to", "store", "--sign-key", "publisher", "--json"], { now: T0 + 7300 + 4 * 86400 + 60 });
    const outcome = JSON.parse(json.stdout);
    expect(outcome).toMatchObject({ environment: "prod", serial: 5, wrote: false, uploaded: 0, removed: [] });
    expect(outcome.hosts.map((h: { name: string; change: string }) => `${h.name} ${h.change}`)).toEqual(["db1 unchanged", "web1 unchanged"]);
  });

  it("an unchanged publish puts back a bundle lost from the store, under the same serial", async () => {
    cpSync(join(dir, "store"), join(dir, "store6"), { recursive: true });
    const manifest = readFileSync(join(dir, "store6", "manifests", "5"), "utf8");
    const object = /\nhost db1 [0-9a-f]{64} (\S+)/.exec(manifest)![1]!;
    rmSync(join(dir, "store6", object));
    const now = T0 + 7300 + 4 * 86400 + 120;
    const r = await depc(dir, ["publish", "--from", "build-first", "--to", "store6", "--sign-key", "publisher"], { now });
    expect(r.stdout).toBe(`put back 1 bundle missing from the store\nprod unchanged at serial 5 (expires ${new Date((T0 + 7300 + 4 * 86400 + 12 * 3600) * 1000).toISOString().replace(".000", "")})\n`);
    expect(readFileSync(join(dir, "store6", object)).equals(readFileSync(join(dir, "build-first", "db1.sh")))).toBe(true);
    expect(readFileSync(join(dir, "store6", "latest"), "utf8")).toBe("5\n");
  });

  it("a host gone from the build: a new serial without it; a store whose latest has no manifest is refused", async () => {
    cpSync(join(dir, "build-first"), join(dir, "build-less"), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, "build-less", "manifest.json"), "utf8"));
    manifest.hosts = manifest.hosts.filter((h: { name: string }) => h.name !== "db1");
    manifest.hosts[0].after = [];
    writeFileSync(join(dir, "build-less", "manifest.json"), JSON.stringify(manifest));
    const r = await depc(dir, ["publish", "--from", "build-less", "--to", "store2", "--sign-key", "publisher"], { now: T0 });
    expect(r.code).toBe(0);
    cpSync(join(dir, "store"), join(dir, "store3"), { recursive: true });
    const gone = await depc(dir, ["publish", "--from", "build-less", "--to", "store3", "--sign-key", "publisher"], { now: T0 + 7300 + 4 * 86400 + 120 });
    expect(gone.stdout).toBe("web1: waits for no host now\ndb1: removed (no longer in the environment)\npublished serial 6 of prod: 0 bundles uploaded, 0 unchanged\n");
    expect(readFileSync(join(dir, "store3", "manifests", "6"), "utf8")).not.toContain("host db1 ");
    writeFileSync(join(dir, "store3", "latest"), "9\n");
    const broken = await depc(dir, ["publish", "--from", "build-less", "--to", "store3", "--sign-key", "publisher"], { now: T0 });
    expect(broken.stderr).toBe("depc: publish: the store store3 has latest 9 but no manifests/9: it is not a whole depc store\n");
    expect(broken.code).toBe(1);
    writeFileSync(join(dir, "store3", "latest"), "nine\x1b[2J\n");
    const garbage = await depc(dir, ["publish", "--from", "build-less", "--to", "store3", "--sign-key", "publisher"], { now: T0 });
    expect(garbage.stderr).toBe('depc: publish: the store store3: latest: not a serial and a newline: "nine\\u001b[2J\\n"\n');
    manifest.environment = "pro d";
    writeFileSync(join(dir, "build-less", "manifest.json"), JSON.stringify(manifest));
    const badName = await depc(dir, ["publish", "--from", "build-less", "--to", "store4", "--sign-key", "publisher"], { now: T0 });
    expect(badName.stderr).toBe('depc: publish: the build cannot be published: manifest: environment "pro d" is not an environment name\n');
    expect(existsSync(join(dir, "store4", "latest"))).toBe(false);
  });

  it("a manifest left by a publish killed before its latest is never rewritten: the next serial is past it", async () => {
    cpSync(join(dir, "store"), join(dir, "store5"), { recursive: true });
    const latest = Number(readFileSync(join(dir, "store5", "latest"), "utf8"));
    writeFileSync(join(dir, "store5", "manifests", String(latest + 1)), "left by a killed publish\n");
    const r = await depc(dir, ["publish", "env/prod", "--to", "store5", "--sign-key", "publisher"], { now: T0 + 30 * 86400 });
    expect(r.stdout).toContain(`published serial ${latest + 2} of prod`);
    expect(readFileSync(join(dir, "store5", "manifests", String(latest + 1)), "utf8")).toBe("left by a killed publish\n");
    expect(readFileSync(join(dir, "store5", "latest"), "utf8")).toBe(`${latest + 2}\n`);
  });

  it("refuses a store that holds another environment, leaving it as it was", async () => {
    const before = listing(store);
    const r = await depc(dir, ["publish", "env/staging", "--to", "store", "--sign-key", "publisher"], { now: T0 });
    expect(r.stderr).toBe(`depc: publish: the store store holds environment prod (serial 5), not staging: give each environment its own store\n`);
    expect(r.code).toBe(1);
    expect(listing(store)).toEqual(before);
  });

  it("--sign-key KEY.pub signs with the private half held by ssh-agent (the key file itself gone)", async () => {
    const sock = join(dir, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((ok) => setTimeout(ok, 50));
      expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "agentkey")]).status).toBe(0);
      const env = { ...process.env, SSH_AUTH_SOCK: sock };
      expect(spawnSync("ssh-add", ["-q", join(dir, "agentkey")], { env }).status).toBe(0);
      rmSync(join(dir, "agentkey"));
      const r = await depc(dir, ["publish", "--from", "build-first", "--to", "agent-store", "--sign-key", "agentkey.pub"], { now: T0, env });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(verify(join(dir, "agent-store"), 1, join(dir, "agentkey.pub")).status).toBe(0);
    } finally {
      agent.kill("SIGTERM");
    }
  });

  it("errors: missing key, ssh-keygen missing or failing, unwritable store, bad --expires (one line each, nothing written)", async () => {
    const fresh = (name: string) => join(dir, name);
    let r = await depc(dir, ["publish", "env/prod", "--to", "s1", "--sign-key", "keys/nope"]);
    expect(r.stderr).toBe("depc: publish: the signing key keys/nope does not exist (make one with: ssh-keygen -t ed25519 -f keys/nope)\n");
    expect(r.code).toBe(1);
    const empty = mkdtempSync(join(tmpdir(), "depc-nopath-"));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    r = await publish(["--to", "s2"], { env: { ...process.env, PATH: empty } });
    expect(r.stderr).toBe("depc: publish: ssh-keygen not found: install the OpenSSH client (8.1 or later) to sign manifests\n");
    expect(r.code).toBe(1);
    writeFileSync(join(dir, "notakey"), "garbage\n", { mode: 0o600 });
    r = await depc(dir, ["publish", "env/prod", "--to", "s3dir", "--sign-key", "notakey"]);
    expect(r.stderr).toBe(`depc: publish: ssh-keygen could not sign with ${join(dir, "notakey")}: Couldn't load public key ${join(dir, "notakey")}: No such file or directory\n`);
    expect(r.code).toBe(1);
    writeFileSync(join(dir, "afile"), "x");
    r = await publish(["--to", "afile/store"]);
    expect(r.stderr).toBe(`depc: publish: cannot write bundles/${sha256(bundle("db1"))} to the store afile/store: ENOTDIR\n`);
    expect(r.code).toBe(1);
    r = await publish(["--to", "s4", "--expires", "1w"]);
    expect(r.stderr).toBe('depc: publish: --expires "1w" is not a duration like 30m, 12h or 7d\n');
    r = await depc(dir, ["publish", "env/prod", "--to", "https://depc.example.test/prod/", "--sign-key", "publisher"]);
    expect(r.stderr).toBe("depc: publish: the store https://depc.example.test/prod/ is read-only: publish to a directory or an s3:// bucket, and serve that over http(s)\n");
    expect(r.code).toBe(1);
    r = await depc(dir, ["publish", "--to", "s5", "--sign-key", "publisher"]);
    expect(r.stderr).toBe("depc: publish: give an environment (depc publish env/prod) or an existing build (--from build/prod)\n");
    expect(r.code).toBe(1);
    for (const name of ["s1", "s2", "s3dir", "s4", "s5"]) expect(existsSync(fresh(name)), name).toBe(false);
  });
});
