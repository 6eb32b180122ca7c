// Issue 13, finding 5: bytes a host controls — a managed file's current
// content in plan's diffs, a failing command's stderr — reached the
// operator's terminal raw: a hostile host could set the window title, clear
// the screen, move the cursor (CR) or reorder text (bidi). depc deploy and
// plan now show them escaped (\x1b, \r, \u202e), terminal or not. A real
// host of the test bed over real ssh; needs root (skipped elsewhere, fails in CI).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: false });
if (!pre.ok) {
  if (process.env.CI === "true") throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[terminal escapes e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

/** What must never reach a terminal raw: C0 but \t and \n, DEL, C1, bidi controls. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

const model = (withCommand: boolean) => `import { environment, Command, Directory, File } from "depc";
export default environment({ hosts: { web1: [
  Directory({ path: "/srv/esc" }),
  File({ path: "/srv/esc/motd", content: "hello\\n" }),
  ${withCommand ? `Command({ name: "boom", command: ["sh", "-c", "printf 'bad \\\\033]0;pwned\\\\007\\\\033[2J\\\\342\\\\200\\\\256txt.exe\\\\r\\\\n' >&2; exit 3"], always: true }),` : ""}
] } });
`;

describe.skipIf(!pre.ok)("host bytes on the operator's terminal", () => {
  let bed: Testbed;
  let project: { dir: string; cleanup: () => void };
  const depc = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(repoRoot, "bin", "depc.js"), ...args, "env/bed", "-F", bed.sshConfigFile], {
      cwd: project.dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}` };
  };

  beforeAll(async () => {
    bed = await Testbed.start({ hosts: [{ name: "web1" }] });
    project = makeProject({ "env/bed.ts": model(false) });
  }, 600_000);
  afterAll(async () => {
    project?.cleanup();
    await bed?.stop();
  }, 120_000);

  it("plan shows a hostile file's current content escaped in its diff", async () => {
    expect(depc("deploy").code).toBe(0);
    const edit = await bed.rootExec("web1", "printf 'hello\\033]0;pwned\\007\\033[2J\\r\\342\\200\\256gnp.exe\\n' >/srv/esc/motd");
    expect(edit.code).toBe(0);
    const plan = depc("plan");
    expect(plan.code, plan.all).toBe(2);
    expect(RAW.exec(plan.stdout + plan.stderr), plan.all).toBeNull();
    expect(plan.stdout).toContain("web1  would change file /srv/esc/motd (content)\n");
    expect(plan.stdout).toContain(`web1${" ".repeat(17)}-hello\\x1b]0;pwned\\x07\\x1b[2J\\r\\u202egnp.exe\n`);
    expect(plan.stdout).toContain(`web1${" ".repeat(17)}+hello\n`);
  });

  it("deploy shows a failing command's stderr escaped", () => {
    project.cleanup();
    project = makeProject({ "env/bed.ts": model(true) });
    const run = depc("deploy");
    expect(run.code, run.all).toBe(1);
    expect(RAW.exec(run.stdout + run.stderr), run.all).toBeNull();
    // The resource's line with the output as lines below it, then the table's cause column.
    expect(run.stdout).toContain(`exited with status 3:\nweb1${" ".repeat(19)}bad \\x1b]0;pwned\\x07\\x1b[2J\\u202etxt.exe\\r\n`);
    expect(run.stdout).toMatch(/ {2}command boom: .* exited with status 3: bad \\x1b\]0;pwned\\x07\\x1b\[2J\\u202etxt\.exe(\\r)?\n/);
  });
});
