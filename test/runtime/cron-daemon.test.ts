/**
 * CronJob's line as the real cron daemon (Debian's cron) runs it: `%` in
 * the command reaches the shell as `%` (depc writes `\%`; an unescaped `%`
 * would end the command and become its stdin). The daemon runs in a sandbox
 * that persists across commands (test/supervisor/session.ts: an overlay of
 * `/` in a private mount namespace) with the machine's system crontabs
 * removed inside it, so only this job runs. Waits for cron's next minute.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CronJob, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Sandbox } from "../support/sandbox.js";
import { requireTool } from "../support/shells.js";
import { Session } from "../supervisor/session.js";

const why = Sandbox.unavailable();
if (why !== undefined && process.env.CI === "true") throw new Error(`the cron daemon test: sandbox ${why} (CI=true)`);
const ready = why === undefined && requireTool("cron") && requireTool("crontab") && requireTool("nsenter");

describe.runIf(ready)("a CronJob run by the real cron daemon", () => {
  const session = new Session();
  beforeAll(async () => {
    await session.start();
    // Only depc's job: no /etc/crontab, no /etc/cron.d (inside the sandbox).
    const setup = session.exec(["sh", "-c", "rm -f /etc/crontab /etc/cron.d/* && ln -sfn /run /var/run"]);
    expect(setup.status, setup.stderr).toBe(0);
  });
  afterAll(async () => {
    await session.stopDaemon("/run/crond.pid");
    await session.stop();
  });

  it("runs the command with its % intact, every minute, as written by depc", async () => {
    const out = "/tmp/depc-cron-percent.out";
    const job = CronJob({ name: "percent", schedule: "* * * * *", command: `printf '%s|%s|%s\\n' "100%" "$(date +%Y)" "$(id -un)" >> ${out}` });
    writeFileSync(join(session.shared, "cron.sh"), compileValue(environment({ hosts: { h: [job] } }), "cron").bundles!.get("h")!);
    const applied = session.exec(["sh", "/depc-test/cron.sh"]);
    expect(applied.status, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toContain("changed       cronjob root:percent (added to the crontab of root)\n");
    expect(session.exec(["crontab", "-l"]).stdout).toContain(`* * * * * printf '\\%s|\\%s|\\%s\\n' "100\\%" "$(date +\\%Y)" "$(id -un)" >> ${out}\n`);
    const started = session.exec(["cron"]);
    expect(started.status, started.stderr).toBe(0);
    let text: string | undefined;
    for (let i = 0; i < 140 && text === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      text = session.read(out);
    }
    expect(text, "cron did not run the job within 140 s").toBe(`100%|${new Date().getUTCFullYear()}|root\n`);
  }, 180_000);
});
