import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Command, File, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, runScript } from "../support/shells.js";

// Notifications on a real host filesystem: a command that reacts to file
// changes runs once per run after its triggers, only when one changed, and
// a reaction owed by a run that failed before it is done by the next run.
const shells = availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh");
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function setup(withBlocker: boolean) {
  const root = mkdtempSync(join(tmpdir(), "depc-notify-"));
  const state = mkdtempSync(join(tmpdir(), "depc-notify-state-"));
  dirs.push(root, state);
  const a = File({ path: `${root}/a.conf`, content: "a = 1\n" });
  const b = File({ path: `${root}/b.conf`, content: "b = 1\n" });
  const react = Command({
    name: "reload",
    command: ["sh", "-c", `printf 'reload\\n' >> "$0"`, `${root}/reloads.log`],
    whenChanged: [a, b],
  });
  // Ordered between the triggers and the reaction; fails while its directory is missing.
  const blocker = File({ path: `${root}/missing/blocker`, content: "x\n", after: [a, b], before: [react] });
  const result = compileValue(environment({ hosts: { h: withBlocker ? [a, b, blocker, react] : [a, b, react] } }));
  const bundle = join(root, "..", `${root.split("/").pop()}.sh`);
  writeFileSync(bundle, result.bundles!.get("h")!);
  dirs.push(bundle);
  return {
    root,
    reloads: () => (existsSync(`${root}/reloads.log`) ? readFileSync(`${root}/reloads.log`, "utf8").split("\n").filter(Boolean).length : 0),
    owed: () => (existsSync(`${state}/owed`) ? readFileSync(`${state}/owed`, "utf8") : ""),
    run: (shell: (typeof shells)[number], ...args: string[]) => runScript(shell, bundle, args, { env: { DEPC_STATE_DIR: state } }),
  };
}

describe.each(shells.map((s) => [s.name, s] as const))("notifications under %s", (_name, shell) => {
  it("two triggers changing cause exactly one reaction; no change, none", () => {
    const host = setup(false);
    const first = host.run(shell);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain("changed       command reload (ran sh -c");
    expect(host.reloads()).toBe(1);
    const second = host.run(shell);
    expect(second.stdout).toContain("ok            command reload\n");
    expect(host.reloads()).toBe(1);
    writeFileSync(`${host.root}/b.conf`, "b = 2\n");
    const check = host.run(shell, "--check");
    expect(check.status).toBe(2);
    expect(check.stdout).toContain("would change  command reload (runs sh -c");
    expect(host.reloads()).toBe(1);
    const third = host.run(shell);
    expect(third.stdout).toMatch(/changed       file .*b\.conf \(content\)\n(.*\n)*changed       command reload/);
    expect(host.reloads()).toBe(2);
    expect(host.owed()).toBe("");
  });

  it("a failure after the change leaves the reaction owed; the next run performs it", () => {
    const host = setup(true);
    const first = host.run(shell);
    expect(first.status).toBe(1);
    expect(first.stdout).toContain("changed       file");
    expect(first.stdout).toMatch(/failed        file .*missing\/blocker: parent directory .*missing does not exist/);
    expect(host.reloads()).toBe(0);
    expect(host.owed()).toBe("command:reload\n");

    const check = host.run(shell, "--check");
    expect(check.stdout).toContain("would change  command reload");

    mkdirSync(`${host.root}/missing`);
    const second = host.run(shell);
    expect(second.status, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toMatch(/ok            file .*a\.conf\n/);
    expect(second.stdout).toContain("changed       command reload");
    expect(host.reloads()).toBe(1);
    expect(host.owed()).toBe("");

    const third = host.run(shell);
    expect(third.stdout).toContain("0 changed");
    expect(host.reloads()).toBe(1);
  });
});
