import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/project.js";
import { availableShells } from "../support/shells.js";

// depc_fail's choice of the one line that stands for a failure's output
// (stderr, the run log, the report, deploy's table), and pip's output cut
// so that its ERROR lines survive, under every shell of the matrix.

const dir = mkdtempSync(join(tmpdir(), "depc-failout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A pip build failure: the cause near the top, notes and hints below it.
const pipOutput = [
  "Processing ./wheels/broken-1.0.tar.gz",
  "  Preparing metadata (setup.py): started",
  "  error: subprocess-exited-with-error",
  "  python setup.py egg_info did not run successfully.",
  "  ModuleNotFoundError: No module named 'numpy'",
  "ERROR: Could not build wheels for broken, which is required to install pyproject.toml-based projects",
  ...Array.from({ length: 12 }, (_, i) => `  hint line ${i + 1}`),
  "note: This error originates from a subprocess, and is likely not a problem with pip.",
].join("\n");

function run(shell: { argv: readonly string[]; env?: Record<string, string> }, script: string): string {
  const [command, ...leading] = shell.argv;
  const r = spawnSync(command!, [...leading, "-c", script, "test", repoRoot, dir], { encoding: "utf8", env: { ...process.env, ...shell.env } });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
}

const prelude = `. "$1/runtime/core.sh"; . "$1/kinds/virtualenv/virtualenv.sh"; depc_tmp=$2; `;

describe.each(availableShells())("failure output under $name", (shell) => {
  it("pip: the ERROR line is kept and stands for the failure, not the closing note", () => {
    writeFileSync(join(dir, "out"), `${pipOutput}\n`);
    const printed = run(shell, `${prelude}depc_venv_pip_cause; depc_fail "pip install exited with status 1" "$depc_tmp/err"; printf '%s\\n' "$depc_error"; cat "$depc_tmp/failout"`);
    const lines = printed.split("\n");
    expect(lines[0]).toBe("pip install exited with status 1: ERROR: Could not build wheels for broken, which is required to install pyproject.toml-based projects");
    // The cause first, then pip's last 10 lines, each once, in order.
    expect(lines.slice(1, -1)).toEqual([
      "  error: subprocess-exited-with-error",
      "ERROR: Could not build wheels for broken, which is required to install pyproject.toml-based projects",
      ...Array.from({ length: 9 }, (_, i) => `  hint line ${i + 4}`),
      "note: This error originates from a subprocess, and is likely not a problem with pip.",
    ]);
  });

  it("a command's output without an error word: its last line; no output: the message alone", () => {
    writeFileSync(join(dir, "plain"), "starting\n\nstopping\n");
    expect(run(shell, `${prelude}depc_fail "x exited with status 3" "$depc_tmp/plain" || printf '%s|%s\\n' "$depc_error" "$depc_error_head"`)).toBe("x exited with status 3: stopping|x exited with status 3\n");
    expect(run(shell, `${prelude}depc_fail "x exited with status 3" || printf '%s|%s\\n' "$depc_error" "$depc_error_head"`)).toBe("x exited with status 3|\n");
  });
});
