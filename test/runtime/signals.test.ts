/**
 * SIGINT/SIGTERM/SIGHUP during a write leave no temp file next to the target
 * and no private temp dir, and exit 128+signal.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { availableShells } from "../support/shells.js";
import { hostRoot, leftoverTemps, writeBundle } from "./helpers.js";

const CONTENT = "partial\nrest\n";
const SHA = createHash("sha256").update(CONTENT).digest("hex");

const cases = [
  ["SIGTERM", 143],
  ["SIGINT", 130],
  ["SIGHUP", 129],
] as const;

describe.each(availableShells())("signals under $name", (shell) => {
  it.each(cases)("%s while a file is being written", async (signal, code) => {
    const root = hostRoot(shell.name);
    const target = `${root}/slow.txt`;
    // A content function that stalls half-way (the temp file exists by then).
    const bundle = writeBundle(root, {
      resources: [{ kind: "custom", key: "slow", body: `  depc_file '${target}' 0644 '' '' '${SHA}' depc_content_slow` }],
      extra: "depc_content_slow() {\n  printf 'partial\\n'\n  sleep 1\n  printf 'rest\\n'\n}",
    });
    const [cmd, ...lead] = shell.argv as [string, ...string[]];
    const child = spawn(cmd, [...lead, bundle.path], { env: { ...process.env, TMPDIR: bundle.tmp, DEPC_STATE_DIR: bundle.state, ...shell.env } });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    const deadline = Date.now() + 10_000;
    while (leftoverTemps(root).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(leftoverTemps(root)).toHaveLength(1);
    child.kill(signal);
    expect(await exited).toBe(code);
    expect(stderr).toContain("depc: test/host1: interrupted");
    expect(leftoverTemps(root)).toEqual([]);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(bundle.tmp)).toEqual([]);
    expect(existsSync(`${bundle.state}/lock`)).toBe(false);
  });
});
