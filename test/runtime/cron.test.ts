/**
 * CronJob with this machine's real crontab (Debian's cron package) in a
 * sandbox (an overlay of `/`: the machine's own crontabs are never
 * touched), under every shell of the matrix: one block per user that depc
 * owns, the lines around it kept byte for byte, --check diffs, removal of
 * one job and of the last one, and a missing crontab named in one line.
 * That cron really runs the written line with `%` as it was meant is
 * test/runtime/cron-daemon.test.ts (a real cron daemon).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CronJob, environment, File } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Sandbox } from "../support/sandbox.js";
import { availableShells, requireTool, which, type Shell } from "../support/shells.js";

const why = Sandbox.unavailable();
if (why !== undefined) {
  if (process.env.CI === "true") throw new Error(`the CronJob runtime test ${why}`);
  console.warn(`[cron runtime] skipping: the sandbox ${why}`);
}
const ready = why === undefined && requireTool("crontab");

const dir = mkdtempSync(join(tmpdir(), "depc-cron-rt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BEGIN = "# BEGIN depc cron (managed by depc: edits up to the END line are overwritten)";
const END = "# END depc cron";
/** root's crontab before depc: an environment line, a comment, a job with trailing blanks. */
const MINE = "MAILTO=ops@example.org\n# my own job\n0 1 * * *  /usr/local/bin/mine --flag   \n";

describe.runIf(ready).each(availableShells())("CronJob with the real crontab, under $name", (shellSpec) => {
  const tag = shellSpec.name.replace(/\W+/g, "-");
  // busybox sh runs with busybox's applets only; this machine's busybox has no crontab applet, so crontab alone is added.
  const shell: Shell = shellSpec.env?.PATH === undefined ? shellSpec : { ...shellSpec, env: { PATH: `${shellSpec.env.PATH}:/opt/depc-cron-bin` } };
  let step = 0;
  const sandbox = new Sandbox();
  afterAll(() => sandbox.remove());

  const write = (...jobs: ReturnType<typeof CronJob>[]) => {
    const path = join(dir, `${tag}-${++step}.sh`);
    writeFileSync(path, compileValue(environment({ hosts: { h: [File({ path: "/etc/depc-cron-test", content: "x\n" }), ...jobs] } }), "cron").bundles!.get("h")!);
    return path;
  };
  const crontab = (user: string) => sandbox.exec(["crontab", "-u", user, "-l"]);
  const backup = (schedule = "17 3 * * *") => CronJob({ name: "backup", schedule, command: "tar czf /var/backups/app-$(date +%F).tgz /srv/app 2>&1 | logger -t backup" });
  const report = CronJob({ name: "report", schedule: "@daily", command: "/usr/local/bin/report", user: "nobody" });
  const sweep = CronJob({ name: "sweep", schedule: "*/10 * * * 1-5", command: "find /tmp -mtime +7 -delete" });

  it("adds a block after the user's own lines, kept byte for byte; one crontab per user; --check first shows the diff", () => {
    mkdirSync(join(sandbox.upper, "opt/depc-cron-bin"), { recursive: true });
    symlinkSync("/usr/bin/crontab", join(sandbox.upper, "opt/depc-cron-bin/crontab"));
    const mine = join(dir, `${tag}-mine`);
    writeFileSync(mine, MINE);
    // The machine's /tmp is the sandbox's lower layer: the file is visible inside.
    const seeded = sandbox.exec(["crontab", "-u", "root", mine]);
    expect(seeded.status, seeded.stderr).toBe(0);
    expect(crontab("root").stdout).toBe(MINE);

    const bundle = write(backup(), report);
    const check = sandbox.run(shell, bundle, ["--check"]);
    expect(check.status, check.stdout + check.stderr).toBe(2);
    expect(check.stdout).toContain(
      "would change  cronjob root:backup (added to the crontab of root)\n" +
        "--- crontab of root\n+++ crontab of root (depc)\n@@ -1,3 +1,7 @@\n MAILTO=ops@example.org\n # my own job\n 0 1 * * *  /usr/local/bin/mine --flag   \n" +
        `+${BEGIN}\n+# depc cronjob backup\n+17 3 * * * tar czf /var/backups/app-$(date +\\%F).tgz /srv/app 2>&1 | logger -t backup\n+${END}\n`,
    );
    expect(check.stdout).toContain("would change  cronjob nobody:report (added to the crontab of nobody)\n");
    expect(crontab("root").stdout).toBe(MINE);

    const apply = sandbox.run(shell, bundle);
    expect(apply.status, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain("changed       cronjob root:backup (added to the crontab of root)\n");
    expect(apply.stdout).toContain("changed       cronjob nobody:report (added to the crontab of nobody)\n");
    expect(crontab("root").stdout).toBe(
      `${MINE}${BEGIN}\n# depc cronjob backup\n17 3 * * * tar czf /var/backups/app-$(date +\\%F).tgz /srv/app 2>&1 | logger -t backup\n${END}\n`,
    );
    expect(crontab("nobody").stdout).toBe(`${BEGIN}\n# depc cronjob report\n@daily /usr/local/bin/report\n${END}\n`);

    const again = sandbox.run(shell, bundle);
    expect(again.stdout).toContain("ok            cronjob root:backup\nok            cronjob nobody:report\n");
    expect(again.stdout).toContain("3 resources: 0 changed, 3 ok, 0 failed\n");
    expect(sandbox.run(shell, bundle, ["--check"]).status).toBe(0);
  });

  it("a changed schedule rewrites its line in place; a new job is appended to the block", () => {
    const apply = sandbox.run(shell, write(backup("17 4 * * *"), report, sweep));
    expect(apply.status, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain("changed       cronjob root:backup (changed in the crontab of root)\n");
    expect(apply.stdout).toContain("ok            cronjob nobody:report\n");
    expect(apply.stdout).toContain("changed       cronjob root:sweep (added to the crontab of root)\n");
    expect(crontab("root").stdout).toBe(
      `${MINE}${BEGIN}\n# depc cronjob backup\n17 4 * * * tar czf /var/backups/app-$(date +\\%F).tgz /srv/app 2>&1 | logger -t backup\n` +
        `# depc cronjob sweep\n*/10 * * * 1-5 find /tmp -mtime +7 -delete\n${END}\n`,
    );
  });

  it("a job that leaves the model leaves the block (diff in --check); the last one of a user takes the block, and an empty crontab goes", () => {
    const bundle = write(sweep);
    const check = sandbox.run(shell, bundle, ["--check"]);
    expect(check.status, check.stdout + check.stderr).toBe(2);
    expect(check.stdout).toContain("would remove  cronjob root:backup (removed from the crontab of root)\n--- crontab of root\n+++ crontab of root (depc)\n");
    expect(check.stdout).toContain("-# depc cronjob backup\n");
    expect(check.stdout).toContain("would remove  cronjob nobody:report (removed from the crontab of nobody)\n");
    const apply = sandbox.run(shell, bundle);
    expect(apply.status, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain("removed       cronjob root:backup (removed from the crontab of root)\n");
    expect(apply.stdout).toContain("removed       cronjob nobody:report (removed from the crontab of nobody)\n");
    expect(crontab("root").stdout).toBe(`${MINE}${BEGIN}\n# depc cronjob sweep\n*/10 * * * 1-5 find /tmp -mtime +7 -delete\n${END}\n`);
    expect(crontab("nobody").stderr).toContain("no crontab for nobody");

    const none = sandbox.run(shell, write());
    expect(none.status, none.stdout + none.stderr).toBe(0);
    expect(none.stdout).toContain("removed       cronjob root:sweep (removed from the crontab of root)\n");
    expect(crontab("root").stdout).toBe(MINE);
  });

  it("a block whose END line was deleted by hand fails the user's jobs with what to do, and changes nothing", () => {
    const broken = `${MINE}${BEGIN}\n# depc cronjob sweep\n*/10 * * * * true\n`;
    const path = join(dir, `${tag}-broken`);
    writeFileSync(path, broken);
    expect(sandbox.exec(["crontab", "-u", "root", path]).status).toBe(0);
    const run = sandbox.run(shell, write(sweep));
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      "failed        cronjob root:sweep: the crontab of root has the line '# BEGIN depc cron ...' but no '# END depc cron' after it; fix it by hand (crontab -e -u root)\n",
    );
    expect(crontab("root").stdout).toBe(broken);
    expect(sandbox.exec(["crontab", "-u", "root", "-r"]).status).toBe(0);
  });

  it("a host without crontab fails each job with one line naming the host, the job and the tool", () => {
    const bundle = write(sweep);
    mkdirSync(join(sandbox.upper, "opt/depc-no-cron"), { recursive: true });
    // Every tool the runtime may use, but crontab.
    for (const tool of ["cat", "mv", "rm", "mkdir", "chmod", "chown", "chgrp", "ln", "readlink", "mktemp", "stat", "awk", "diff", "sed", "tr", "sha256sum", "id", "date", "grep", "sort", "head", "tail", "wc", "cut", "sleep", "kill", "touch", "env", "printf", "echo", "test", "["]) {
      const target = which(tool);
      if (target !== undefined) symlinkSync(target, join(sandbox.upper, "opt/depc-no-cron", tool));
    }
    // (PATH is set inside the sandbox: the sandbox itself needs unshare and chroot.)
    const run = sandbox.exec(["/usr/bin/env", "PATH=/opt/depc-no-cron", which(shell.argv[0]!) ?? shell.argv[0]!, ...shell.argv.slice(1), bundle]);
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain("failed        cronjob root:sweep: 'crontab' not found on host h (PATH=/opt/depc-no-cron); install cron\n");
    expect(run.stderr).toContain("depc: cron/h: cronjob root:sweep: 'crontab' not found on host h (PATH=/opt/depc-no-cron); install cron\n");
  });
});
