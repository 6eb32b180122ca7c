// Bundles with secrets are published only encrypted, with the real age CLI,
// to the host's own ssh host key as the operator's known_hosts records it
// (found through the real `ssh -G` and `ssh-keygen -F`, hashed entries and
// non-standard ports too); the host's private key gives back the exact bundle.
// No sshd is needed: publish only reads known_hosts, as ssh would for a push.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { main, type Io } from "../../compiler/cli.js";
import { requireTool } from "../support/shells.js";
import { makeKey, secretProject, tempDir, type Key } from "../secrets/support.js";

const missing = ["age", "ssh", "ssh-keygen"].filter((t) => !requireTool(t));
if (missing.length > 0 && process.env.CI === "true") throw new Error(`publish secrets tests need ${missing.join(", ")}`);

const SECRET = "s3cr3t-publish-VALUE-8d1f";
const TOKEN = "tok-publish-4242-zz";
const ENV = `import { environment, Directory, File, secret } from "depc";
export default environment({
  hosts: {
    app: { address: "10.77.0.5", components: [File({ path: "/etc/app/db.ini", content: secret("db.password") })] },
    mon: { address: "mon.example.test", port: 2222, components: [File({ path: "/srv/mon/token", content: secret("api.token") })] },
    plain: { address: "10.77.0.7", components: [Directory({ path: "/srv/plain" })] },
  },
});
`;

const T0 = 1_800_000_000;

function hostKey(dir: string, name: string, type = "ed25519"): { file: string; pub: string } {
  const file = join(dir, `${name}_host_key`);
  const r = spawnSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", name, "-f", file]);
  expect(r.status).toBe(0);
  return { file, pub: readFileSync(`${file}.pub`, "utf8").split(" ").slice(0, 2).join(" ") };
}

function storeFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe("publishing bundles that hold secrets", () => {
  let dir: string;
  let key: Key;
  let app: { file: string; pub: string };
  let mon: { file: string; pub: string };
  const knownHosts = () => join(dir, "known_hosts");
  const depc = async (argv: readonly string[], now = T0, env?: NodeJS.ProcessEnv) => {
    let stdout = "";
    let stderr = "";
    const io: Io & { now: number; env?: NodeJS.ProcessEnv } = { cwd: dir, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), color: false, now, ...(env ? { env } : {}) };
    const code = await main(["publish", "env/prod", "--to", "store", "--sign-key", "publisher", "--identity", key.file, "-o", `UserKnownHostsFile=${knownHosts()}`, "-o", "GlobalKnownHostsFile=/dev/null", ...argv], io);
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    key = await makeKey(tempDir("publish"));
    dir = (await secretProject({ "env/prod.ts": ENV }, { db: { password: SECRET }, api: { token: TOKEN } }, [key.recipient])).dir;
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "publisher")]).status).toBe(0);
    app = hostKey(dir, "app");
    mon = hostKey(dir, "mon");
  });

  it("a host without a known key: publish refuses with one line naming it and how to go on, and writes nothing", async () => {
    // app is known (plain entry); mon is not.
    writeFileSync(knownHosts(), `10.77.0.5 ${app.pub}\n`);
    const r = await depc([]);
    expect(r.stderr).toBe(
      "depc: publish: mon: its bundle holds secrets and known_hosts has no ssh-ed25519 or ssh-rsa key of mon.example.test to encrypt it to: " +
        "connect once with 'ssh -p 2222 mon.example.test' to record it, or deploy this host by push: depc deploy prod --limit mon\n" +
        "depc: publish: nothing was published\n",
    );
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, "store"))).toBe(false);
  });

  it("without the age command: one line saying what to install, nothing written", async () => {
    writeFileSync(knownHosts(), `10.77.0.5 ${app.pub}\n[mon.example.test]:2222 ${mon.pub}\n`);
    // A PATH with ssh and ssh-keygen but no age.
    const bin = join(tempDir("noage"), "bin");
    mkdirSync(bin);
    for (const tool of ["ssh", "ssh-keygen"]) symlinkSync(spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim(), join(bin, tool));
    const r = await depc([], T0, { ...process.env, PATH: bin });
    expect(r.stderr).toBe("depc: publish: age not found: install age (Debian: apt-get install age) to publish bundles that hold secrets\n");
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, "store"))).toBe(false);
  });

  it("stores a secret bundle only as .age, no secret anywhere in the store, and age -d -i HOSTKEY gives back the exact bundle", async () => {
    // mon's entry hashed and on its port, as ssh records it with HashKnownHosts.
    writeFileSync(knownHosts(), `10.77.0.5 ${app.pub}\n[mon.example.test]:2222 ${mon.pub}\n`);
    expect(spawnSync("ssh-keygen", ["-H", "-f", knownHosts()]).status).toBe(0);
    expect(readFileSync(knownHosts(), "utf8")).not.toContain("mon.example.test");
    const r = await depc([]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, "build", "prod", "manifest.json"), "utf8"));
    expect(manifest.hosts.map((h: { name: string; secrets?: boolean }) => `${h.name} ${h.secrets === true}`)).toEqual(["app true", "mon true", "plain false"]);
    const text = readFileSync(join(dir, "store", "manifests", "1"), "utf8");
    const lines = Object.fromEntries(text.split("\n").filter((l) => l.startsWith("host ")).map((l) => [l.split(" ")[1], l.split(" ")]));
    for (const [host, identity] of [["app", app.file], ["mon", mon.file]] as const) {
      const [, , digest, object, objectSha] = lines[host];
      expect(object).toBe(`bundles/${objectSha}.age`);
      expect(existsSync(join(dir, "store", "bundles", digest))).toBe(false);
      const plain = readFileSync(join(dir, "build", "prod", `${host}.sh`));
      const decrypted = spawnSync("age", ["-d", "-i", identity, join(dir, "store", object)]);
      expect(decrypted.stderr.toString()).toBe("");
      expect(decrypted.stdout.equals(plain)).toBe(true);
      // The other host's key cannot read it.
      const other = spawnSync("age", ["-d", "-i", host === "app" ? mon.file : app.file, join(dir, "store", object)]);
      expect(other.status).not.toBe(0);
    }
    // The plain host stays plain.
    expect(lines.plain[3]).toBe(`bundles/${lines.plain[2]}`);
    // No secret value in any object of the store (nor in its names).
    for (const file of storeFiles(join(dir, "store"))) {
      const bytes = readFileSync(file);
      expect(bytes.includes(SECRET), file).toBe(false);
      expect(bytes.includes(TOKEN), file).toBe(false);
    }
    expect(readFileSync(join(dir, "build", "prod", "app.sh")).includes(SECRET)).toBe(true);
  });

  it("an unchanged publish reuses the encrypted objects (age is not deterministic); a changed host key encrypts again", async () => {
    const before = storeFiles(join(dir, "store"));
    const again = await depc([], T0 + 60);
    expect(again.stdout).toBe("prod unchanged at serial 1 (expires 2027-01-22T08:00:00Z)\n");
    expect(storeFiles(join(dir, "store"))).toEqual(before);
    // app was reinstalled: a new host key (RSA this time) replaces its entry.
    const rsa = hostKey(dir, "app-new", "rsa");
    expect(spawnSync("ssh-keygen", ["-R", "10.77.0.5", "-f", knownHosts()]).status).toBe(0);
    writeFileSync(knownHosts(), `${readFileSync(knownHosts(), "utf8")}10.77.0.5 ${rsa.pub}\n`);
    const rekeyed = await depc([], T0 + 120);
    expect(rekeyed.stderr).toBe("");
    const digest = /host app ([0-9a-f]{64})/.exec(readFileSync(join(dir, "store", "manifests", "1"), "utf8"))![1]!;
    expect(rekeyed.stdout).toBe(`app: bundle ${digest.slice(0, 12)} encrypted again, to its changed host key\npublished serial 2 of prod: 1 bundle uploaded, 2 unchanged\n`);
    const object = /host app [0-9a-f]{64} (\S+)/.exec(readFileSync(join(dir, "store", "manifests", "2"), "utf8"))![1]!;
    const decrypted = spawnSync("age", ["-d", "-i", rsa.file, join(dir, "store", object)]);
    expect(decrypted.stdout.equals(readFileSync(join(dir, "build", "prod", "app.sh")))).toBe(true);
    // Its object lost from the store (a lifecycle rule, a hand): encrypted again under a new serial.
    rmSync(join(dir, "store", object));
    const lost = await depc([], T0 + 180);
    expect(lost.stdout).toBe(`app: bundle ${digest.slice(0, 12)} encrypted again (its object was missing from the store)\npublished serial 3 of prod: 1 bundle uploaded, 2 unchanged\n`);
    const resealed = /host app [0-9a-f]{64} (\S+)/.exec(readFileSync(join(dir, "store", "manifests", "3"), "utf8"))![1]!;
    expect(spawnSync("age", ["-d", "-i", rsa.file, join(dir, "store", resealed)]).stdout.equals(readFileSync(join(dir, "build", "prod", "app.sh")))).toBe(true);
  });
});
