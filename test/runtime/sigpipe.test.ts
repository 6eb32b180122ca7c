/**
 * A bundle whose stdout goes away mid-run (the ssh connection closed: its next
 * line raises SIGPIPE) cleans up like on HUP/TERM: exit 141, the lock
 * released, "interrupted" in runs.log, no private temp dir left (issue 13,
 * finding 3). Before, SIGPIPE ended the shell on the spot. mksh and posh
 * have no printf builtin: there the external printf takes the signal and the
 * run goes on to its end (depc's remote program stops it with TERM).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { availableShells } from "../support/shells.js";
import { hostRoot, writeBundle } from "./helpers.js";

const EXTERNAL_PRINTF = new Set(["mksh", "posh"]);

describe.each(availableShells())("SIGPIPE under $name", (shell) => {
  it("stdout closed while the bundle runs: its next line ends it through the signal trap", async () => {
    const external = EXTERNAL_PRINTF.has(shell.name);
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, {
      resources: [
        // Waits until the test has closed the bundle's stdout.
        { kind: "custom", key: "wait", body: `  : >'${root}/waiting'\n  while [ ! -e '${root}/go' ]; do sleep 0.05; done` },
        { kind: "file", path: `${root}/after.txt`, content: "after\n" },
        { kind: "file", path: `${root}/never.txt`, content: "never\n" },
      ],
    });
    const [cmd, ...lead] = shell.argv as [string, ...string[]];
    const child = spawn(cmd, [...lead, bundle.path], { env: { ...process.env, TMPDIR: bundle.tmp, DEPC_STATE_DIR: bundle.state, ...shell.env } });
    child.stdout.resume();
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
    const deadline = Date.now() + 10_000;
    while (!existsSync(`${root}/waiting`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(`${root}/waiting`)).toBe(true);
    child.stdout.destroy();
    writeFileSync(`${root}/go`, "");
    expect(await exited).toEqual([external ? 0 : 141, null]);
    expect(existsSync(`${root}/never.txt`)).toBe(external);
    expect(readdirSync(bundle.tmp)).toEqual([]);
    expect(existsSync(`${bundle.state}/lock`)).toBe(false);
    expect(readFileSync(`${bundle.state}/runs.log`, "utf8")).toMatch(external ? / apply converged / : / apply interrupted ok=\d+ changed=\d+ failed=0 not_run=\d+ /);
  });
});
