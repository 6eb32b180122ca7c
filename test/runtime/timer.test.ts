/**
 * Timer on a host without systemd, under every shell of the matrix: the run
 * fails at the timer with a message that names the host, in apply and in
 * --check, and writes no unit file; its removal without systemd removes the
 * unit files only. (This machine's sandbox has no /run/systemd/system; the
 * behaviour with systemd is test/e2e/timer.test.ts, on real systemd.)
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { environment, File, Timer } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Sandbox } from "../support/sandbox.js";
import { availableShells } from "../support/shells.js";

const why = Sandbox.unavailable();
if (why !== undefined) {
  if (process.env.CI === "true") throw new Error(`the Timer runtime test ${why}`);
  console.warn(`[timer runtime] skipping: the sandbox ${why}`);
}

const dir = mkdtempSync(join(tmpdir(), "depc-timer-rt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(why !== undefined).each(availableShells())("Timer without systemd, under $name", (shell) => {
  it("fails naming the host, in apply and --check, writing no unit; leaving the model removes stale unit files", () => {
    const tag = shell.name.replace(/\W+/g, "-");
    const conf = File({ path: "/etc/depc-nosd-timer.conf", content: "a\n" });
    const timer = Timer({ name: "backup", onCalendar: "daily", command: ["/bin/true"] });
    const bundle = compileValue(environment({ hosts: { "app-7": [conf, timer] } }), "nosd").bundles!.get("app-7")!;
    const gone = compileValue(environment({ hosts: { "app-7": [conf] } }), "nosd").bundles!.get("app-7")!;
    const path = join(dir, `${tag}.sh`);
    const gonePath = join(dir, `${tag}-gone.sh`);
    writeFileSync(path, bundle);
    writeFileSync(gonePath, gone);
    const sandbox = new Sandbox();
    try {
      const message = "host app-7 does not run systemd (there is no /run/systemd/system), so it cannot run timer backup.timer";
      const check = sandbox.run(shell, path, ["--check"]);
      expect(check.status).toBe(1);
      expect(check.stdout).toContain(`failed        timer backup.timer: ${message}\n`);

      const apply = sandbox.run(shell, path);
      expect(apply.status).toBe(1);
      expect(apply.stdout).toBe(`changed       file /etc/depc-nosd-timer.conf (created)\nfailed        timer backup.timer: ${message}\ndepc: nosd/app-7: 2 resources: 1 changed, 0 ok, 1 failed\n`);
      expect(apply.stderr).toContain(`depc: nosd/app-7: timer backup.timer: ${message}\n`);
      expect(existsSync(join(sandbox.upper, "etc/systemd/system/backup.timer"))).toBe(false);

      // Unit files left behind (a host that lost systemd): the removal takes the files.
      mkdirSync(join(sandbox.upper, "etc/systemd/system"), { recursive: true });
      for (const unit of ["backup.timer", "backup.service"]) writeFileSync(join(sandbox.upper, "etc/systemd/system", unit), "[Unit]\n");
      const removal = sandbox.run(shell, gonePath);
      expect(removal.status, removal.stdout + removal.stderr).toBe(0);
      expect(removal.stdout).toContain("removed       timer backup.timer (units removed)\n");
      expect(existsSync(join(sandbox.upper, "etc/systemd/system/backup.timer"))).toBe(false);
      expect(existsSync(join(sandbox.upper, "etc/systemd/system/backup.service"))).toBe(false);
    } finally {
      sandbox.remove();
    }
  });
});
