// Command({ timeout }) under the six shells, with GNU `timeout` and then
// busybox's applet as the only `timeout` on PATH. GNU timeout exits 124;
// busybox's kills the command with TERM, which most shells report as 143
// and yash as 399: each must read as a timeout, not as "exited with status".
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Command, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, requireTool, which } from "../support/shells.js";

const shells = availableShells();
const ready = requireTool("timeout") && requireTool("busybox");
const root = mkdtempSync(join(tmpdir(), "depc-command-timeout-"));
const BASE = ["printf", "cat", "mv", "rm", "mkdir", "chmod", "chown", "chgrp", "ln", "readlink", "mktemp", "stat", "awk", "diff", "sed", "tr", "sha256sum", "date", "sleep", "id", "tail", "env"];

/** A PATH directory with the machine's tools and `timeout` from `provider`. */
function pathDir(provider: "gnu" | "busybox"): string {
  const dir = join(root, `path-${provider}`);
  mkdirSync(dir, { recursive: true });
  for (const tool of BASE) symlinkSync(which(tool)!, join(dir, tool));
  symlinkSync(provider === "gnu" ? which("timeout")! : which("busybox")!, join(dir, "timeout"));
  return dir;
}

describe.runIf(ready)("Command timeout under each shell", () => {
  const paths = { gnu: pathDir("gnu"), busybox: pathDir("busybox") };
  const bundle = join(root, "slow.sh");
  writeFileSync(bundle, compileValue(environment({ hosts: { h: [Command({ name: "slow", command: ["sleep", "5"], timeout: 1, always: true })] } })).bundles!.get("h")!);
  let runs = 0;
  describe.each(shells.map((s) => [s.name, s] as const))("under %s", (_name, shell) => {
    it.each(["gnu", "busybox"] as const)("with %s timeout: the line says it timed out", (provider) => {
      const [command, ...leading] = shell.argv;
      const r = spawnSync(command!, [...leading, bundle, "--state-dir", join(root, `s${++runs}`)], {
        env: { PATH: paths[provider], HOME: root, TMPDIR: root },
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(r.status, r.stdout + r.stderr).toBe(1);
      // busybox's applet leaves the shell's "Terminated" in the output shown below the line.
      expect(r.stdout).toMatch(/^failed {8}command slow: sleep 5 timed out after 1s(\n|:\n {4}Terminated *\n)/m);
      expect(r.stdout).not.toContain("exited with status");
    });
  });
});
