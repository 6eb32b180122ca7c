/**
 * The processes a converged (no-op) apply starts. Each costs about a
 * millisecond of CPU on the host, and a deploy's hosts may share cores (the
 * test bed's ten hosts share this machine's two: test/bench/rollout.mjs), so
 * the no-op path starts none it can do without. Counted with strace (execve)
 * under dash; the leftover the cut guards is tested under every shell.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Directory, File, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, requireTool, runScript, type Shell } from "../support/shells.js";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A two-resource host (the rollout bench's), converged by a first apply. */
function converged(shell: Shell) {
  const dir = mkdtempSync(join(tmpdir(), "depc-noop-procs-"));
  made.push(dir);
  const state = join(dir, "state");
  const result = compileValue(environment({ hosts: { h: [Directory({ path: `${dir}/srv` }), File({ path: `${dir}/srv/i.conf`, content: "host = h\n" })] } }), "prod");
  const bundle = join(dir, "h.sh");
  writeFileSync(bundle, result.bundles!.get("h")!);
  const env = { DEPC_STATE_DIR: state, TMPDIR: dir, USER: "depc-test" };
  const first = runScript(shell, bundle, ["--quiet"], { env });
  expect(first.stderr).toBe("");
  expect(first.status).toBe(0);
  return { dir, state, bundle, env };
}

describe.each(availableShells())("the ledger's temp copy under $name", (shell) => {
  it("a ledger.new left by a run killed while it wrote the ledger is removed by the next apply (a symlink too); --check leaves it", () => {
    const h = converged(shell);
    const leftover = join(h.state, "ledger.new");
    for (const make of [() => writeFileSync(leftover, "half a ledger\n"), () => symlinkSync("/nonexistent", leftover)]) {
      make();
      const check = runScript(shell, h.bundle, ["--check", "--quiet"], { env: h.env });
      expect(check.status, check.stderr).toBe(0);
      expect(existsSync(leftover) || spawnSync("test", ["-L", leftover]).status === 0).toBe(true);
      const apply = runScript(shell, h.bundle, ["--quiet"], { env: h.env });
      expect(apply.stderr).toBe("");
      expect(apply.status).toBe(0);
      expect(spawnSync("test", ["-e", leftover]).status === 0 || spawnSync("test", ["-L", leftover]).status === 0).toBe(false);
      expect(readFileSync(join(h.state, "ledger"), "utf8")).toContain(`${h.dir}/srv/i.conf`);
    }
  });
});

describe("the processes of a no-op apply (dash)", () => {
  it("start no rm for a ledger.new that is not there; the count is printed", () => {
    if (!requireTool("strace")) return;
    const dash = availableShells().find((s) => s.name === "dash");
    if (dash === undefined) return;
    const h = converged(dash);
    const log = join(h.dir, "strace.log");
    const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=execve", "-o", log, ...dash.argv, h.bundle, "--quiet"], { env: { ...process.env, ...h.env }, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // Successful execs after the shell's own: the commands the run started.
    const started = readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => / execve\(/.test(l) && / = 0$/.test(l))
      .slice(1)
      .map((l) => /execve\("[^"]*", \[([^\]]*)\]/.exec(l)![1]!.split(", ").slice(0, 3).join(" "));
    console.log(`no-op apply of a 2-resource bundle under dash: ${started.length} processes:\n  ${started.join("\n  ")}`);
    expect(started.filter((c) => c.includes("ledger.new"))).toEqual([]);
  });
});
