/**
 * The pull agent's tool probes (each fetch tool alone on PATH), its own lock,
 * its config errors and kill -9 at random points of fetch, decryption and
 * apply (under dash and busybox sh: no temp file or plain bundle is left after
 * the next run, which converges). Same store, server and real bundles as
 * agent.test.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { availableShells, requireTool, which } from "../support/shells.js";
import { buildBundle } from "../runtime/bundle.js";
import { toolPath } from "../runtime/fetch-support.js";
import { fixture } from "./fixture.js";
import { AGENT, sha256, sshKey } from "./support.js";

const base = mkdtempSync(join(tmpdir(), "depc-pull-robust-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const tools = requireTool("ssh-keygen") && requireTool("age") && requireTool("curl") && requireTool("wget") && requireTool("busybox");
const shells = availableShells();
const dash = shells.find((s) => s.name === "dash")!;

/** PATH with busybox wget as the only download tool (and everything else of /usr/bin). */
function busyboxWgetPath(): string {
  const dir = join(base, "busybox-wget");
  if (!existsSync(dir)) {
    mkdirSync(dir);
    symlinkSync(which("busybox")!, join(dir, "wget"));
  }
  return `${toolPath(base)}:${dir}`;
}

/** A PATH directory with every program of /usr/bin but `tool`. */
function pathWithout(tool: string): string {
  const path = join(base, `path-without-${tool}`);
  if (!existsSync(path)) {
    mkdirSync(path);
    for (const name of readdirSync("/usr/bin")) if (name !== tool) symlinkSync(join("/usr/bin", name), join(path, name));
  }
  return path;
}

describe.skipIf(!tools)("pull agent tool probes (dash)", () => {
  it("stops with one line naming the host when ssh-keygen is missing", async () => {
    const f = await fixture(dash, "probe-nokeygen");
    try {
      f.publish({ serial: 1 });
      const path = pathWithout("ssh-keygen");
      const run = await f.run({ path });
      expect(run).toMatchObject({ code: 1, stdout: "", stderr: `pull-agent: host web1: required tool 'ssh-keygen' not found (PATH=${path})\n` });
      expect(f.markerText()).toBeUndefined();
    } finally {
      await f.close();
    }
  });

  const cases = [
    { tool: "curl", path: () => toolPath(base, "curl"), puts: true },
    { tool: "GNU wget", path: () => toolPath(base, "wget"), puts: true },
    { tool: "busybox wget", path: busyboxWgetPath, puts: false },
  ];
  it.each(cases)("fetches and applies with $tool alone on PATH; the report is PUT when the tool can", async ({ tool, path, puts }) => {
    const f = await fixture(dash, `probe-${tool.replace(/\W/g, "")}`);
    try {
      f.publish({ serial: 1 });
      const run = await f.run({ path: path() });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(f.markerText()).toBe("serial 1\n");
      expect(f.events()).toEqual(["serial 1: applied"]);
      expect(f.server.requests.includes("PUT /reports/web1")).toBe(puts);
      expect(existsSync(join(f.store, "reports", "web1"))).toBe(puts);
      expect(readFileSync(join(f.state, "pull", "report"), "utf8")).toMatch(/^result ok$/m);
      // Busybox wget cannot PUT: the report stays marked unsent (the log is the report).
      expect(existsSync(join(f.state, "pull", "report.unsent"))).toBe(!puts);
    } finally {
      await f.close();
    }
  });

  it("stops with one line naming the host when neither curl nor wget is on PATH", async () => {
    const f = await fixture(dash, "probe-none");
    try {
      f.publish({ serial: 1 });
      const path = toolPath(base);
      const run = await f.run({ path });
      expect(run).toMatchObject({ code: 1, stdout: "", stderr: `pull-agent: host web1: neither 'curl' nor 'wget' found (PATH=${path})\n` });
      expect(f.markerText()).toBeUndefined();
    } finally {
      await f.close();
    }
  });

  it("fails with one line naming the host and age when an .age bundle comes and age is missing", async () => {
    const hostKey = sshKey(base, "hostkey-noage");
    const f = await fixture(dash, "probe-noage", { identity: hostKey.path });
    try {
      f.publish({ serial: 1, hosts: [{ name: "web1", bundle: f.bundle(1), encryptTo: `${hostKey.path}.pub` }] });
      const object = readdirSync(join(f.store, "bundles"))[0]!;
      const path = pathWithout("age");
      const run = await f.run({ path });
      expect(run.code).toBe(1);
      expect(f.markerText()).toBeUndefined();
      expect(f.events()).toEqual([`serial 1: failed: host web1 has no 'age' to decrypt bundles/${object} (PullAgent's decrypt: true installs it; PATH=${path})`]);
    } finally {
      await f.close();
    }
  });

  it("sends a report that could not be sent at the next run, even when there is nothing to apply", async () => {
    const f = await fixture(dash, "resend");
    try {
      f.publish({ serial: 1 });
      f.server.readOnly = true;
      expect((await f.run()).code).toBe(0);
      expect(f.server.requests).toContain("PUT /reports/web1");
      expect(existsSync(join(f.state, "pull", "report.unsent"))).toBe(true);
      f.server.readOnly = false;
      const again = await f.run();
      expect(again).toMatchObject({ code: 0, stdout: "" });
      expect(readFileSync(join(f.store, "reports", "web1"), "utf8")).toMatch(/^serial 1\n/m);
      expect(existsSync(join(f.state, "pull", "report.unsent"))).toBe(false);
    } finally {
      await f.close();
    }
  });
});

describe.skipIf(!tools)("pull agent lock and config (dash)", () => {
  it("is shellcheck-clean as POSIX sh", () => {
    if (!requireTool("shellcheck")) return;
    const r = spawnSync("shellcheck", ["-s", "sh", AGENT], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("exits 3 while another agent run holds its lock, and takes over a lock whose run is gone", async () => {
    const f = await fixture(dash, "agentlock");
    try {
      f.publish({ serial: 1 });
      mkdirSync(join(f.state, "pull"), { recursive: true });
      const ticks = readFileSync(`/proc/${process.pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ")[19];
      symlinkSync(`pid=${process.pid} start=${ticks}`, join(f.state, "pull", "lock"));
      const held = await f.run();
      expect(held).toMatchObject({ code: 3, stdout: "", stderr: `pull-agent: another run holds the lock ${f.state}/pull/lock (pid=${process.pid})\n` });
      expect(f.markerText()).toBeUndefined();

      // A run killed with -9: its pid is gone.
      const gone = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
      rmSync(join(f.state, "pull", "lock"));
      symlinkSync(`pid=${gone} start=1`, join(f.state, "pull", "lock"));
      writeFileSync(join(f.state, "pull", ".tmp.AbC123"), "#!/bin/sh\n# a plain bundle a killed run left\n");
      const taken = await f.run();
      expect(taken.stderr).toBe(`pull-agent: warning: took over a stale lock: the run that held it (pid=${gone}) is gone\n`);
      expect(taken.code).toBe(0);
      expect(f.markerText()).toBe("serial 1\n");
      expect(readdirSync(join(f.state, "pull")).filter((n) => n.startsWith(".tmp.") || n.startsWith("lock"))).toEqual([]);
    } finally {
      await f.close();
    }
  });

  it("reports serial 0 and no digest when a killed run wrote the digest but not the serial", async () => {
    const f = await fixture(dash, "halfrecord");
    try {
      f.publish({ serial: 1, env: "staging" });
      mkdirSync(join(f.state, "pull"), { recursive: true });
      writeFileSync(join(f.state, "pull", "digest"), `${"a".repeat(64)}\n`);
      expect((await f.run()).code).toBe(1);
      expect(f.report()).toMatch(/^serial 0\ndigest -\nresult refused\n/m);
    } finally {
      await f.close();
    }
  });

  it.each([
    ["a missing setting", "environment prod\nhost web1\nstore http://127.0.0.1:1/\n", "CONFIG: the setting 'signers' is missing"],
    ["a store that is not http(s) with a trailing /", "environment prod\nhost web1\nstore ftp://x/\nsigners /x\n", "CONFIG: store 'ftp://x/' is not an http(s) URL ending in /"],
    ["an unknown setting", "environment prod\nhost web1\nstor http://x/\n", "CONFIG line 3: unknown setting 'stor'"],
    ["a host name with a slash", "environment prod\nhost ../x\nstore http://x/\nsigners /x\n", "CONFIG: host '../x' is not a host name"],
    ["a splay that is not a number", "environment prod\nhost web1\nstore http://x/\nsigners /x\nsplay 5m\n", "CONFIG: splay '5m' is not a number of seconds"],
  ])("refuses a config with %s (exit 64, one line)", async (_what, text, message) => {
    const dir = mkdtempSync(join(base, "config-"));
    const config = join(dir, "pull.conf");
    writeFileSync(config, text);
    const { runAgent } = await import("./support.js");
    const run = await runAgent(dash, config);
    expect(run).toMatchObject({ code: 64, stdout: "", stderr: `pull-agent: ${message.replace("CONFIG", config)}\n` });
  });
});

const killShells = shells.filter((s) => s.name === "dash" || s.name === "busybox sh");
const TRIALS = 20;

describe.skipIf(!tools).each(killShells)("pull agent killed with -9 under $name", (shell) => {
  it(`leaves no temp file or plain bundle after the next run, which converges (${TRIALS} trials at random points of fetch, decrypt and apply)`, async () => {
    const hostKey = sshKey(join(base), `hostkey-${shell.name.replace(/\W/g, "")}`);
    const f = await fixture(shell, "kill", { identity: hostKey.path });
    try {
      const files = join(f.dir, "files");
      // Forty files to write make the apply long enough to be killed in; a stalled download, the fetch.
      const bundleOf = (n: number) =>
        buildBundle({
          env: "prod",
          host: "web1",
          resources: [
            { kind: "directory", path: files },
            ...Array.from({ length: 40 }, (_, i) => ({ kind: "file" as const, path: join(files, `f${i}`), content: `serial ${n} file ${i}\n` })),
            { kind: "file", path: f.marker, content: `serial ${n}\n` },
          ],
        });
      const publishSecret = (n: number) => {
        const bundle = bundleOf(n);
        f.publish({ serial: n, hosts: [{ name: "web1", bundle, encryptTo: `${hostKey.path}.pub` }] });
        return bundle;
      };
      f.server.stallMs = 150;
      publishSecret(1);
      const started = Date.now();
      expect((await f.run()).code).toBe(0);
      const full = Date.now() - started;
      const outcomes: string[] = [];
      for (let n = 2; n <= TRIALS + 1; n++) {
        const bundle = publishSecret(n);
        const at = Math.floor(Math.random() * full);
        const killed = await f.run({ killAfterMs: at });
        outcomes.push(`${at}ms:${killed.signal ?? killed.code}`);
        const next = await f.run();
        expect(next.code, `trial ${n}, killed after ${at} ms: ${next.stdout}${next.stderr}`).toBe(0);
        expect(f.applied(), `trial ${n}, killed after ${at} ms: ${next.stdout}${next.stderr}`).toBe(`${n}\n`);
        expect(f.markerText()).toBe(`serial ${n}\n`);
        expect(readFileSync(join(files, "f39"), "utf8")).toBe(`serial ${n} file 39\n`);
        expect(readFileSync(join(f.state, "pull", "digest"), "utf8")).toBe(`${sha256(bundle)}\n`);
        expect(f.leftovers(), `trial ${n}`).toEqual([]);
        for (const name of readdirSync(join(f.state, "pull"))) {
          expect(readFileSync(join(f.state, "pull", name), "utf8"), `${name} after trial ${n}`).not.toContain("depc bundle for host");
        }
      }
      // Most trials must have been killed before the end, or they prove nothing.
      expect(outcomes.filter((o) => o.endsWith(":SIGKILL")).length, outcomes.join(" ")).toBeGreaterThanOrEqual(TRIALS / 2);
    } finally {
      await f.close();
    }
  }, 600_000);
});
