// kill -9 of `depc publish` at random moments (the real CLI, a real
// directory store): whatever moment it dies, `latest` names a whole, signed
// manifest whose every object is there with the right sha256, no object is
// ever partial, and the next publish converges (its temp files swept).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { parseLatest, parseManifest } from "../../tools/publish/layout.js";

const TRIALS = Number(process.env.DEPC_KILL_TRIALS ?? "12");
const DEPC = join(repoRoot, "bin", "depc.js");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

const ENV = (tag: string) => `import { environment, Directory, File } from "depc";
export default environment({
  hosts: Object.fromEntries(Array.from({ length: 20 }, (_, h) => [\`h\${h}\`, [
    Directory({ path: "/srv/k" }),
    ...Array.from({ length: 20 }, (_, f) => File({ path: \`/srv/k/f\${f}\`, content: \`${tag} \${h} \${f}\\n\`.repeat(200) })),
  ]])),
});
`;

describe("kill -9 of depc publish", () => {
  let dir: string;
  let cleanup: () => void;
  const run = (argv: string[]) => spawnSync(process.execPath, [DEPC, ...argv], { cwd: dir, encoding: "utf8" });

  beforeAll(() => {
    ({ dir, cleanup } = makeProject({ "env/prod.ts": ENV("A") }));
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "publisher")]).status).toBe(0);
    writeFileSync(join(dir, "allowed_signers"), `depc-publisher namespaces="depc-manifest" ${readFileSync(join(dir, "publisher.pub"), "utf8")}`);
    // Two builds, published in turn: every publish writes a new serial.
    for (const tag of ["A", "B"]) {
      writeFileSync(join(dir, "env", "prod.ts"), ENV(tag));
      const built = run(["build", "env/prod"]);
      expect(built.status, built.stderr).toBe(0);
      cpSync(join(dir, "build", "prod"), join(dir, `build-${tag}`), { recursive: true });
    }
  });
  afterAll(() => cleanup?.());

  /** The invariants a reader of the store relies on. */
  function checkStore(store: string): number {
    // No object at a layout path is partial: each bundle is named by its bytes.
    if (existsSync(join(store, "bundles"))) {
      for (const name of readdirSync(join(store, "bundles")).filter((n) => !n.startsWith("."))) {
        expect(sha256(readFileSync(join(store, "bundles", name))), name).toBe(name);
      }
    }
    if (!existsSync(join(store, "latest"))) return 0;
    const serial = parseLatest(readFileSync(join(store, "latest"), "latin1"));
    const text = readFileSync(join(store, "manifests", String(serial)));
    const manifest = parseManifest(text.toString("latin1"));
    const verified = spawnSync("ssh-keygen", ["-Y", "verify", "-f", join(dir, "allowed_signers"), "-I", "depc-publisher", "-n", "depc-manifest", "-s", join(store, "manifests", `${serial}.sig`)], { input: text });
    expect(verified.status, verified.stderr.toString()).toBe(0);
    for (const h of manifest.hosts) expect(sha256(readFileSync(join(store, h.object)))).toBe(h.objectSha256);
    return serial;
  }

  it(`leaves the store whole at any moment and the next publish converges (${TRIALS} trials)`, async () => {
    const store = join(dir, "store");
    const full = run(["publish", "--from", "build-A", "--to", "store", "--sign-key", "publisher"]);
    expect(full.status, full.stderr).toBe(0);
    // How long a publish like the trials' takes (both builds' bundles are in the store from here on).
    const started = Date.now();
    const second = run(["publish", "--from", "build-B", "--to", "store", "--sign-key", "publisher"]);
    expect(second.status, second.stderr).toBe(0);
    const duration = Math.max(50, Date.now() - started);
    let killedMidway = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const build = trial % 2 === 0 ? "build-A" : "build-B";
      const before = checkStore(store);
      const child = spawn(process.execPath, [DEPC, "publish", "--from", build, "--to", "store", "--sign-key", "publisher"], { cwd: dir, stdio: "ignore" });
      // Spread over the whole run, start to end.
      await new Promise((ok) => setTimeout(ok, Math.floor(((trial + 0.5) / TRIALS) * duration)));
      const finished = child.exitCode !== null;
      child.kill("SIGKILL");
      await new Promise((ok) => (child.exitCode !== null || child.signalCode !== null ? ok(undefined) : child.once("exit", ok)));
      if (!finished) killedMidway++;
      const after = checkStore(store);
      expect(after === before || after === before + 1, `serial ${before} → ${after}`).toBe(true);
      // The next publish of the same build converges: that build is what latest names.
      const again = run(["publish", "--from", build, "--to", "store", "--sign-key", "publisher"]);
      expect(again.status, again.stderr).toBe(0);
      const serial = checkStore(store);
      const manifest = parseManifest(readFileSync(join(store, "manifests", String(serial)), "latin1"));
      const wanted = JSON.parse(readFileSync(join(dir, build, "manifest.json"), "utf8")).hosts.map((h: { digest: string }) => h.digest.replace("sha256:", ""));
      expect(manifest.hosts.map((h) => h.digest)).toEqual(wanted);
    }
    expect(killedMidway, "no trial killed a publish before it ended: the timing is off").toBeGreaterThan(TRIALS / 2);

    // Killed while it uploads every bundle: a first publish to an empty store.
    const started2 = Date.now();
    expect(run(["publish", "--from", "build-A", "--to", "timing", "--sign-key", "publisher"]).status).toBe(0);
    const firstDuration = Math.max(50, Date.now() - started2);
    killedMidway = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const fresh = `fresh-${trial}`;
      const child = spawn(process.execPath, [DEPC, "publish", "--from", "build-A", "--to", fresh, "--sign-key", "publisher"], { cwd: dir, stdio: "ignore" });
      await new Promise((ok) => setTimeout(ok, Math.floor(((trial + 0.5) / TRIALS) * firstDuration)));
      if (child.exitCode === null) killedMidway++;
      child.kill("SIGKILL");
      await new Promise((ok) => (child.exitCode !== null || child.signalCode !== null ? ok(undefined) : child.once("exit", ok)));
      const after = checkStore(join(dir, fresh));
      expect(after === 0 || after === 1).toBe(true);
      // Killed after manifests/1 but before `latest`: that manifest is never rewritten, the next one is serial 2.
      const leftover = after === 0 && existsSync(join(dir, fresh, "manifests", "1"));
      const again = run(["publish", "--from", "build-A", "--to", fresh, "--sign-key", "publisher"]);
      expect(again.status, again.stderr).toBe(0);
      expect(checkStore(join(dir, fresh))).toBe(leftover ? 2 : 1);
    }
    expect(killedMidway, "no first publish was killed before it ended").toBeGreaterThan(TRIALS / 2);
    // A publish that writes sweeps what the killed ones left.
    writeFileSync(join(dir, "env", "prod.ts"), ENV("C"));
    const last = run(["publish", "env/prod", "--to", "store", "--sign-key", "publisher"]);
    expect(last.status, last.stderr).toBe(0);
    const temps = ["", "bundles", "manifests"].flatMap((d) => readdirSync(join(store, d)).filter((n) => n.endsWith(".tmp")));
    expect(temps).toEqual([]);
  }, 600_000);
});
