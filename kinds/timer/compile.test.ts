/**
 * Timer (systemd), compiler side: one test per diagnostic with the exact
 * text a user sees, the two unit files rendered from typed fields, and the
 * claim of both unit names. Its behaviour on real systemd is
 * test/e2e/timer.test.ts; without systemd, test/runtime/timer.test.ts.
 */
import { describe, expect, it } from "vitest";
import { environment, Timer } from "../../model/index.js";
import { compileValue } from "../../test/support/inmemory.js";
import { compileFiles } from "../../test/support/project.js";

const header = `import { environment, Service, Timer } from "depc";\n`;

async function printed(call: string): Promise<string> {
  const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  ${call},\n] } });\n` });
  expect(result.ok).toBe(false);
  return result.printed;
}

/** The content functions' heredocs of a bundle, in order. */
function contents(bundle: string): string[] {
  return [...bundle.matchAll(/^depc_content_\d+(?:_\d+)?\(\) \{\n  cat <<'DEPC_EOF'\n([\s\S]*?)DEPC_EOF\n\}/gm)].map((m) => m[1]!);
}

describe("Timer diagnostics", () => {
  const cases: [string, string, string][] = [
    ["DEPC2420", `Timer({ name: "backup.timer", onCalendar: "daily", command: ["/bin/true"] })`, 'Timer name "backup.timer" cannot be used: give it without .timer or .service: "backup" names both units.'],
    ["DEPC2420", `Timer({ name: "back up", onCalendar: "daily", command: ["/bin/true"] })`, 'Timer name "back up" cannot be used: it may only contain letters, digits and _ . : - (starting with a letter, digit or _).'],
    ["DEPC2420", `Timer({ name: "", onCalendar: "daily", command: ["/bin/true"] })`, 'Timer name "" cannot be used: it must be a name like "backup" (for backup.timer and backup.service).'],
    ["DEPC2421", `Timer({ name: "backup", onCalendar: "", command: ["/bin/true"] })`, 'Timer "backup": onCalendar "" must be a systemd calendar expression such as "daily" or "*-*-* 03:17:00".'],
    ["DEPC2421", `Timer({ name: "backup", onCalendar: "daily\\nhourly", command: ["/bin/true"] })`, 'Timer "backup": onCalendar "daily\\nhourly" contains a newline: a unit file setting is one line.'],
    ["DEPC2422", `Timer({ name: "backup", onCalendar: "daily", command: ["bin/backup"] })`, 'Timer "backup": command runs "bin/backup": systemd needs an absolute path or a bare program name.'],
    ["DEPC2422", `Timer({ name: "backup", onCalendar: "daily", command: ["+/bin/backup"] })`, `Timer "backup": command starts with '+' ("+/bin/backup"), which systemd reads as a prefix, not a program.`],
    ["DEPC2422", `Timer({ name: "backup", onCalendar: "daily", command: "/bin/backup --all" as any })`, 'Timer "backup": command must be a list: the program and its arguments, not "/bin/backup --all".'],
    ["DEPC2423", `Timer({ name: "backup", onCalendar: "daily", command: ["/bin/true"], description: "two\\nlines" })`, 'Timer "backup": description "two\\nlines" contains a newline: a unit file setting is one line.'],
    ["DEPC2424", `Timer({ name: "backup", onCalendar: "daily", command: ["/bin/true"], environment: { "A-B": "1" } })`, 'Timer "backup": environment variable "A-B" is not a valid name.'],
    ["DEPC2425", `Timer({ name: "backup", onCalendar: "daily", command: ["/bin/true"], accuracySec: 0 })`, 'Timer "backup": accuracySec 0 is not a whole number of seconds from 1 to 86400.'],
    ["DEPC2425", `Timer({ name: "backup", onCalendar: "daily", command: ["/bin/true"], randomizedDelaySec: 1.5 })`, 'Timer "backup": randomizedDelaySec 1.5 is not a whole number of seconds from 0 to 86400.'],
    ["DEPC2426", `Timer({ name: "backup", onCalendar: "daily", command: ["/bin/true"], persistent: "yes" as any })`, 'Timer "backup": persistent must be true or false, not "yes".'],
  ];
  it.each(cases)("%s: %s", async (code, call, message) => {
    const out = await printed(call);
    expect(out).toContain(`env/prod.ts:3:3 - error ${code}: ${message}\n`);
  });

  it("DEPC2005: a Service of the same name would write the timer's service unit", async () => {
    const out = await printed(`Service({ name: "backup", execStart: "/bin/true" }),\n  Timer({ name: "backup", onCalendar: "daily", command: ["/bin/true"] })`);
    expect(out).toContain('env/prod.ts:4:3 - error DEPC2005: "backup.service" is declared twice on host "web1": as timer here and as service elsewhere.\n');
  });
});

describe("Timer units", () => {
  it("writes a oneshot service with the command quoted for systemd, and an installable timer", () => {
    const bundle = compileValue(
      environment({
        hosts: {
          h: [
            Timer({
              name: "backup",
              onCalendar: "*-*-* 03:17:00",
              command: ["/bin/sh", "-c", 'printf "%s|" "$@"', "prog", "100%", "$HOME", 'say "hi"', ""],
              user: "app",
              workingDirectory: "/srv/app",
              environment: { B: "2 %n", A: "x" },
              randomizedDelaySec: 600,
              persistent: true,
            }),
          ],
        },
      }),
    ).bundles!.get("h")!;
    expect(bundle).toContain("depc_step 1 timer 'backup.timer' depc_timer 'backup' '*-*-* 03:17:00' ");
    const [service, timer] = contents(bundle);
    expect(service).toBe(
      [
        "# Written by depc from the deployment model: edits here are overwritten by the next run.",
        "[Unit]",
        "Description=backup: run on a schedule (depc Timer)",
        "",
        "[Service]",
        "Type=oneshot",
        'ExecStart=/bin/sh -c "printf \\"%%s|\\" \\"$$@\\"" prog 100%% $$HOME "say \\"hi\\"" ""',
        "User=app",
        "WorkingDirectory=/srv/app",
        'Environment="A=x"',
        'Environment="B=2 %%n"',
        "",
      ].join("\n"),
    );
    expect(timer).toBe(
      [
        "# Written by depc from the deployment model: edits here are overwritten by the next run.",
        "[Unit]",
        "Description=backup: run on a schedule (depc Timer)",
        "",
        "[Timer]",
        "OnCalendar=*-*-* 03:17:00",
        "RandomizedDelaySec=600s",
        "Persistent=true",
        "Unit=backup.service",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
      ].join("\n"),
    );
    expect(bundle).toContain("timer\tbackup.timer\t/etc/systemd/system/backup.timer\t-\tdepc_timer_remove\tbackup");
  });
});
