/**
 * CronJob, compiler side: one test per diagnostic with the exact text a
 * user sees, the line written for cron (`%` escaped), and the grouping per
 * user (one depc_cronjob call each). On the host: test/runtime/cron.test.ts
 * (the real crontab) and test/runtime/cron-daemon.test.ts (the real cron).
 */
import { describe, expect, it } from "vitest";
import { CronJob, environment } from "../../model/index.js";
import { compileValue } from "../../test/support/inmemory.js";
import { compileFiles } from "../../test/support/project.js";

const header = `import { environment, Command, CronJob } from "depc";\n`;

async function printed(call: string): Promise<string> {
  const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  ${call},\n] } });\n` });
  expect(result.ok).toBe(false);
  return result.printed;
}

describe("CronJob diagnostics", () => {
  const cases: [string, string, string][] = [
    ["DEPC2430", `CronJob({ name: "clear sessions", schedule: "@daily", command: "true" })`, 'CronJob name "clear sessions" cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]* (it labels the job\'s line in the crontab).'],
    ["DEPC2431", `CronJob({ name: "x", schedule: "17 3 * *", command: "true" })`, 'CronJob "x": schedule "17 3 * *" has 4 fields; cron needs 5 (minute hour day-of-month month day-of-week) or one of @reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.'],
    ["DEPC2431", `CronJob({ name: "x", schedule: "@fortnightly", command: "true" })`, 'CronJob "x": schedule "@fortnightly" is not one of @reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.'],
    ["DEPC2431", `CronJob({ name: "x", schedule: "60 3 * * *", command: "true" })`, 'CronJob "x": schedule "60 3 * * *" has the minute "60", which is out of range 0-59.'],
    ["DEPC2431", `CronJob({ name: "x", schedule: "0 3 0 * *", command: "true" })`, 'CronJob "x": schedule "0 3 0 * *" has the day of month "0", which is out of range 1-31.'],
    ["DEPC2431", `CronJob({ name: "x", schedule: "0 5-2 * * *", command: "true" })`, 'CronJob "x": schedule "0 5-2 * * *" has the hour "5-2", which is a range that ends before it starts.'],
    ["DEPC2431", `CronJob({ name: "x", schedule: "*/0 * * * *", command: "true" })`, 'CronJob "x": schedule "*/0 * * * *" has the minute "*/0", which has a step of 0.'],
    ["DEPC2431", `CronJob({ name: "x", schedule: "0 3 * * mon-fri", command: "true" })`, 'CronJob "x": schedule "0 3 * * mon-fri" has the day of week "mon-fri", which is not a number, a range, a step or a list (or one name such as sun).'],
    ["DEPC2432", `CronJob({ name: "x", schedule: "@daily", command: "a\\nb" })`, 'CronJob "x": command contains a newline: a cron job is one line (put several commands in a script).'],
    ["DEPC2432", `CronJob({ name: "x", schedule: "@daily", command: "" })`, 'CronJob "x": command must be a command line (a non-empty string), not "".'],
    ["DEPC2432", `CronJob({ name: "x", schedule: "@daily", command: "printf '\\\\%s'" })`, 'CronJob "x": command has a backslash right before %, which cron cannot pass on (write the % without it, or use a script).'],
    ["DEPC2432", `CronJob({ name: "x", schedule: "@daily", command: "echo " + "y".repeat(1000) })`, 'CronJob "x": command makes a crontab line of 1012 characters; cron reads at most 998 (put the work in a script).'],
    ["DEPC2433", `CronJob({ name: "x", schedule: "@daily", command: "true", user: "0" })`, 'CronJob "x": user "0" is not a user name (like www-data; crontab -u takes names, not ids).'],
  ];
  it.each(cases)("%s: %s", async (code, call, message) => {
    expect(await printed(call)).toContain(`env/prod.ts:3:3 - error ${code}: ${message}\n`);
  });

  it("DEPC2005: two jobs of one name in one user's crontab", async () => {
    const out = await printed(`CronJob({ name: "x", schedule: "@daily", command: "true" }),\n  CronJob({ name: "x", schedule: "@hourly", command: "false", user: "root" })`);
    expect(out).toContain('env/prod.ts:4:3 - error DEPC2005: "root:x" is declared twice on host "web1": as cronjob here and as cronjob elsewhere.\n');
  });
});

describe("CronJob lowering", () => {
  it("one call per user with each job's name and line (% written \\%, fields single-spaced); each job its own step and ledger entry", () => {
    const bundle = compileValue(
      environment({
        hosts: {
          h: [
            CronJob({ name: "backup", schedule: " 17  3 * * * ", command: "tar czf /b/$(date +%F).tgz /srv 2>&1" }),
            CronJob({ name: "report", schedule: "@daily", command: "/usr/local/bin/report", user: "app" }),
            CronJob({ name: "sweep", schedule: "*/10 * * * 1-5", command: "find /tmp -mtime +7 -delete" }),
          ],
        },
      }),
    ).bundles!.get("h")!;
    expect(bundle).toContain(
      "  depc_collect '1 2' depc_cronjob 'root' 'backup' '17 3 * * * tar czf /b/$(date +\\%F).tgz /srv 2>&1' 'sweep' '*/10 * * * 1-5 find /tmp -mtime +7 -delete'\n" +
        "  depc_step 1 cronjob 'root:backup' depc_collected 1 1\n",
    );
    expect(bundle).toContain("  depc_step 2 cronjob 'root:sweep' depc_collected 1 2\n");
    expect(bundle).toContain("  depc_collect '3' depc_cronjob 'app' 'report' '@daily /usr/local/bin/report'\n");
    expect(bundle).toContain("cronjob\troot:backup\t-\t-\tdepc_cronjob_remove\troot\tbackup\n");
  });
});
