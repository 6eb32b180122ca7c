/**
 * Logrotate with this machine's real logrotate in a sandbox (an overlay of
 * `/`: the machine's own /etc/logrotate.d is never touched), under every
 * shell of the matrix: the host's one file /etc/logrotate.d/depc-ENV, a real
 * rotation by `logrotate -f -s STATE FILE` of what depc wrote (compressed,
 * postrotate run), --check diffs, config errors caught by `logrotate -d`
 * before anything is written, removal of one entry and of the last one, and
 * a missing logrotate named in one line.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { environment, File, Logrotate } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Sandbox } from "../support/sandbox.js";
import { availableShells, requireTool, which, type Shell } from "../support/shells.js";

const why = Sandbox.unavailable();
if (why !== undefined) {
  if (process.env.CI === "true") throw new Error(`the Logrotate runtime test ${why}`);
  console.warn(`[logrotate runtime] skipping: the sandbox ${why}`);
}
const ready = why === undefined && requireTool("logrotate") && requireTool("gzip");

const dir = mkdtempSync(join(tmpdir(), "depc-logrotate-rt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONF = "/etc/logrotate.d/depc-lr";
const HEADER = "# Written by depc for environment lr: one entry per Logrotate of the model. Edits are overwritten.\n";
const APP =
  "# depc logrotate app\n/var/log/depc-app/*.log {\n    daily\n    rotate 2\n    missingok\n    notifempty\n    compress\n" +
  "    postrotate\n        touch /var/log/depc-app/rotated\n        echo \"100% done\" > /var/log/depc-app/said\n    endscript\n}\n";
const WEB = '# depc logrotate web\n"/var/log/depc web/access.log" {\n    weekly\n    rotate 4\n    missingok\n    notifempty\n    copytruncate\n    su nobody nogroup\n}\n';

describe.runIf(ready).each(availableShells())("Logrotate with the real logrotate, under $name", (shellSpec) => {
  const tag = shellSpec.name.replace(/\W+/g, "-");
  // busybox sh runs with busybox's applets only; logrotate (and the gzip it runs) are added alone.
  const shell: Shell = shellSpec.env?.PATH === undefined ? shellSpec : { ...shellSpec, env: { PATH: `${shellSpec.env.PATH}:/opt/depc-lr-bin` } };
  let step = 0;
  const sandbox = new Sandbox();
  afterAll(() => sandbox.remove());

  const write = (...entries: ReturnType<typeof Logrotate>[]) => {
    const path = join(dir, `${tag}-${++step}.sh`);
    writeFileSync(path, compileValue(environment({ hosts: { h: [File({ path: "/etc/depc-lr-test", content: "x\n" }), ...entries] } }), "lr").bundles!.get("h")!);
    return path;
  };
  const app = (rotate = 2) =>
    Logrotate({ name: "app", paths: ["/var/log/depc-app/*.log"], frequency: "daily", rotate, compress: true, postrotate: 'touch /var/log/depc-app/rotated\necho "100% done" > /var/log/depc-app/said\n' });
  const web = (su: [string, string] = ["nobody", "nogroup"]) => Logrotate({ name: "web", paths: ["/var/log/depc web/access.log"], copytruncate: true, su });
  const read = (path: string) => {
    try {
      return readFileSync(join(sandbox.upper, path), "utf8");
    } catch {
      return undefined;
    }
  };

  it("writes one file for the host's entries (--check first shows it); the host's logrotate rotates with it", () => {
    mkdirSync(join(sandbox.upper, "opt/depc-lr-bin"), { recursive: true });
    for (const tool of ["logrotate", "gzip"]) symlinkSync(which(tool)!, join(sandbox.upper, "opt/depc-lr-bin", tool));
    const bundle = write(app(), web());
    const check = sandbox.run(shell, bundle, ["--check"]);
    expect(check.status, check.stdout + check.stderr).toBe(2);
    expect(check.stdout).toContain(`would change  logrotate app (added to ${CONF})\n--- ${CONF}\n+++ ${CONF} (depc)\n@@ -0,0 +1,22 @@\n+${HEADER}+# depc logrotate app\n`);
    expect(check.stdout).toContain(`would change  logrotate web (added to ${CONF})\n`);
    expect(read(CONF)).toBeUndefined();

    const apply = sandbox.run(shell, bundle);
    expect(apply.status, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain(`changed       logrotate app (added to ${CONF})\nchanged       logrotate web (added to ${CONF})\n`);
    expect(read(CONF)).toBe(HEADER + APP + WEB);
    expect(sandbox.exec(["stat", "-c", "%a %U", CONF]).stdout).toBe("644 root\n");

    // The real thing: a log rotated by what depc wrote.
    const rotated = sandbox.exec([
      "sh",
      "-c",
      'mkdir -p /var/log/depc-app && echo "line 1" > /var/log/depc-app/a.log && logrotate -f -s /tmp/depc-lr.state /etc/logrotate.d/depc-lr && gzip -dc /var/log/depc-app/a.log.1.gz && cat /var/log/depc-app/said && test -e /var/log/depc-app/rotated',
    ]);
    expect(rotated.status, rotated.stdout + rotated.stderr).toBe(0);
    expect(rotated.stdout).toBe("line 1\n100% done\n");

    const again = sandbox.run(shell, bundle);
    expect(again.stdout).toContain("ok            logrotate app\nok            logrotate web\n");
    expect(again.stdout).toContain("3 resources: 0 changed, 3 ok, 0 failed\n");
  });

  it("a changed entry is rewritten in place; a config logrotate rejects (an unknown su user) fails the entries and writes nothing", () => {
    const changed = sandbox.run(shell, write(app(3), web()));
    expect(changed.status, changed.stdout + changed.stderr).toBe(0);
    expect(changed.stdout).toContain(`changed       logrotate app (changed in ${CONF})\nok            logrotate web\n`);
    expect(read(CONF)).toBe(HEADER + APP.replace("rotate 2", "rotate 3") + WEB);

    const bad = sandbox.run(shell, write(app(3), web(["nosuchuser", "nogroup"])));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`failed        logrotate app: logrotate rejects the new ${CONF} (logrotate -d):\n    error: ${CONF}:21 unknown user 'nosuchuser'\n`);
    expect(read(CONF)).toBe(HEADER + APP.replace("rotate 2", "rotate 3") + WEB);
  });

  it("an entry that leaves the model leaves the file (diff in --check); the last one takes the file", () => {
    const bundle = write(app(3));
    const check = sandbox.run(shell, bundle, ["--check"]);
    expect(check.status, check.stdout + check.stderr).toBe(2);
    expect(check.stdout).toContain(`would remove  logrotate web (removed from ${CONF})\n--- ${CONF}\n+++ ${CONF} (depc)\n`);
    expect(check.stdout).toContain('-"/var/log/depc web/access.log" {\n');
    const apply = sandbox.run(shell, bundle);
    expect(apply.status, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain(`removed       logrotate web (removed from ${CONF})\n`);
    expect(read(CONF)).toBe(HEADER + APP.replace("rotate 2", "rotate 3"));

    const none = sandbox.run(shell, write());
    expect(none.status, none.stdout + none.stderr).toBe(0);
    expect(none.stdout).toContain(`removed       logrotate app (removed from ${CONF})\n`);
    expect(sandbox.exec(["test", "-e", CONF]).status).toBe(1);
  });

  it("a host without logrotate fails each entry with one line naming the host, the entry and the tool", () => {
    const bundle = write(app());
    mkdirSync(join(sandbox.upper, "opt/depc-no-lr"), { recursive: true });
    // Every tool the runtime may use, but logrotate.
    for (const tool of ["cat", "mv", "rm", "mkdir", "chmod", "chown", "chgrp", "ln", "readlink", "mktemp", "stat", "awk", "diff", "sed", "tr", "sha256sum", "id", "date", "grep", "sort", "head", "tail", "wc", "cut", "sleep", "kill", "touch", "env", "printf", "echo", "test", "["]) {
      const target = which(tool);
      if (target !== undefined) symlinkSync(target, join(sandbox.upper, "opt/depc-no-lr", tool));
    }
    // (PATH is set inside the sandbox: the sandbox itself needs unshare and chroot.)
    const run = sandbox.exec(["/usr/bin/env", "PATH=/opt/depc-no-lr", which(shell.argv[0]!) ?? shell.argv[0]!, ...shell.argv.slice(1), bundle]);
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain("failed        logrotate app: 'logrotate' not found on host h (PATH=/opt/depc-no-lr); install logrotate\n");
  });
});
