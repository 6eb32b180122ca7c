// End-to-end: a bundle that holds a secret, published and pulled on a real systemd host.
// `depc publish` finds the host's ssh host key through the bed's ssh config and known_hosts
// (as a push would), encrypts the bundle to it with age, and stores only the .age object;
// the host's PullAgent (decrypt: true: Debian's age from the bed's apt repository) decrypts
// it with its own /etc/ssh/ssh_host_ed25519_key, checks the digest and applies it. The store
// is Debian's real nginx on this machine. Needs root, nginx and age (test/testbed/README.md):
// skipped elsewhere, a failure in CI.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/project.js";
import { makeKey, secretProject, tempDir } from "../secrets/support.js";
import { startHttpStore, type HttpStore } from "../testbed/http-store.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: true });
const missing = [
  ...pre.missing,
  ...(existsSync("/usr/sbin/nginx") ? [] : ["nginx (apt-get install -y nginx)"]),
  ...(spawnSync("sh", ["-c", "command -v age"]).status === 0 ? [] : ["age (apt-get install -y age)"]),
];
if (missing.length > 0) {
  if (process.env.CI === "true") throw new Error(`pull secrets e2e prerequisites missing in CI:\n  ${missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[pull secrets e2e] skipping: ${missing.join("; ")}.\n${pre.howTo}`);
}

const ENV = "vault";
const PASSWORD = "s3cr3t-only-on-s1 'quoted' $HOME";
const ROTATED = "r0tated-only-on-s1";

const envFile = (sourcesLine: string, store: string, publisherKey: string) => `import { environment, component, Directory, File, Package, PullAgent, secret } from "depc";

const tools = component({
  name: "tools",
  build() {
    const sources = [
      File({ path: "/etc/apt/sources.list", content: "# from sources.list.d\\n" }),
      File({ path: "/etc/apt/sources.list.d/depc-test.list", content: ${JSON.stringify(`${sourcesLine}\n`)} }),
    ];
    Package({ name: "curl", after: sources });
  },
});

const app = component({
  name: "app",
  build() {
    Directory({ path: "/etc/app" });
    File({ path: "/etc/app/db.ini", mode: 0o600, content: secret("db.password") });
  },
});

const pull = PullAgent({ store: ${JSON.stringify(store)}, publisherKey: ${JSON.stringify(publisherKey)}, every: 5, splay: 0, decrypt: true });

export default environment({ hosts: { s1: [tools, pull, app] } });
`;

describe.skipIf(missing.length > 0)("pull mode with a secret: encrypted to the host's ssh key, decrypted on the host", () => {
  let bed: Testbed;
  let store: HttpStore;
  let dir: string;
  let storeRoot: string;
  let signKey: string;
  let ageKey: string;
  let writeSecrets: (values: Record<string, unknown>) => Promise<void>;

  const depc = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(repoRoot, "bin", "depc.js"), ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
      child.on("close", (code) => resolve({ code, out }));
    });
  const reported = () => {
    const f = join(storeRoot, "reports", "s1");
    return existsSync(f) ? readFileSync(f, "utf8") : "";
  };

  beforeAll(async () => {
    bed = await Testbed.start({ hosts: [{ name: "s1", systemd: true }] });
    const repo = await bed.aptRepository(["curl", "age"]);
    const scratch = tempDir("pull-e2e");
    storeRoot = join(scratch, "store");
    mkdirSync(storeRoot);
    store = await startHttpStore(storeRoot);
    signKey = join(scratch, "publisher");
    const k = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "publisher", "-f", signKey]);
    if (k.status !== 0) throw new Error(k.stderr.toString());
    const key = await makeKey(scratch);
    ageKey = key.file;
    const project = await secretProject(
      { [`env/${ENV}.ts`]: envFile(repo.sourcesListLine, store.url, readFileSync(`${signKey}.pub`, "utf8").trim()) },
      { db: { password: PASSWORD } },
      [key.recipient],
      ENV,
    );
    dir = project.dir;
    writeSecrets = project.writeSecrets;
  }, 600_000);

  afterAll(async () => {
    await store?.stop();
    await bed?.stop();
  }, 120_000);

  it("publish stores the bundle only as .age, encrypted to s1's host key; no secret byte in the store", async () => {
    const r = await depc(["publish", `env/${ENV}`, "--to", storeRoot, "--sign-key", signKey, "--identity", ageKey, "-F", bed.sshConfigFile]);
    expect(r.code, r.out).toBe(0);
    const manifest = readFileSync(join(storeRoot, "manifests", "1"), "utf8");
    expect(manifest).toMatch(/^host s1 [0-9a-f]{64} bundles\/[0-9a-f]{64}\.age [0-9a-f]{64} -$/m);
    const objects = readdirSync(join(storeRoot, "bundles"));
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatch(/\.age$/);
    for (const f of objects) expect(readFileSync(join(storeRoot, "bundles", f)).includes(Buffer.from("s3cr3t-only-on-s1"))).toBe(false);
  });

  it("after one push, the agent decrypts the bundle with the host's own key and applies it; no plain bundle is left", async () => {
    const push = await depc(["deploy", `env/${ENV}`, "--identity", ageKey, "-F", bed.sshConfigFile]);
    expect(push.code, push.out).toBe(0);
    // The push already wrote the secret; the agent then applies serial 1 (same bundle) from the .age object.
    const t0 = Date.now();
    while (!/^serial 1$/m.test(reported())) {
      if (Date.now() - t0 > 60_000) throw new Error(`s1 did not report serial 1:\n${reported()}\n${(await bed.exec("s1", `tail -n 5 /var/lib/depc/${ENV}/pull/log`)).stdout}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(reported()).toMatch(/^result ok$/m);
    expect((await bed.exec("s1", `cat /var/lib/depc/${ENV}/pull/log`)).stdout).toMatch(/Z serial 1: applied$/m);
    expect(store.accessLog()).toMatch(/^GET \/bundles\/[0-9a-f]{64}\.age 200$/m);
    expect((await bed.exec("s1", "stat -c '%a %U' /etc/app/db.ini; cat /etc/app/db.ini")).stdout).toBe(`600 root\n${PASSWORD}`);
    // Only the agent's own files under <state>/pull/: no temp file, no decrypted bundle.
    const left = (await bed.exec("s1", `ls -A /var/lib/depc/${ENV}/pull/`)).stdout.split("\n").filter(Boolean);
    expect(left.filter((f) => f.startsWith(".tmp"))).toEqual([]);
    const grep = await bed.exec("s1", `grep -rl 's3cr3t-only-on-s1' /var/lib/depc/${ENV}/pull/ || true`);
    expect(grep.stdout).toBe("");
  }, 200_000);

  it("a new secret value, published: the agent alone applies it (a new .age object, decrypted on the host)", async () => {
    await writeSecrets({ db: { password: ROTATED } });
    const r = await depc(["publish", `env/${ENV}`, "--to", storeRoot, "--sign-key", signKey, "--identity", ageKey, "-F", bed.sshConfigFile]);
    expect(r.code, r.out).toBe(0);
    expect(readdirSync(join(storeRoot, "bundles")).filter((f) => f.endsWith(".age"))).toHaveLength(2);
    for (const f of readdirSync(join(storeRoot, "bundles"))) expect(readFileSync(join(storeRoot, "bundles", f)).includes(Buffer.from("r0tated"))).toBe(false);
    const t0 = Date.now();
    while (!/^serial 2$/m.test(reported())) {
      if (Date.now() - t0 > 60_000) throw new Error(`s1 did not report serial 2:\n${reported()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await bed.exec("s1", "cat /etc/app/db.ini")).stdout).toBe(ROTATED);
    expect((await bed.exec("s1", `cat /var/lib/depc/${ENV}/pull/log`)).stdout).toMatch(/Z serial 2: applied$/m);
  }, 200_000);
});
