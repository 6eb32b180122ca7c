// End-to-end: Timer against real systemd (PID 1 in a systemd-nspawn container
// of the test bed), reached over real ssh. The whole life of a timer under
// the host's /bin/sh (dash); converge, fire, converge again and removal under
// busybox sh, mksh and bash --posix (yash and posh are not in the systemd
// rootfs; the no-systemd case runs under all six in test/runtime/timer.test.ts).
// Needs root (see test/testbed/README.md): skipped with a message elsewhere,
// a failure in CI.
//
// The timer fires every 2 s (AccuracySec=1s); its command appends one line
// of its arguments and its user to a file, so "it fired, as that user, with
// exactly these arguments" is read from what the job itself wrote.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environment, File, Timer, type Resource } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Testbed, testbedPrerequisites, type ExecResult } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: true });
if (!pre.ok) {
  if (process.env.CI === "true") {
    throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  }
  console.warn(`[timer e2e] skipping the Timer e2e tests: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

/** Arguments that mean something to systemd (specifiers, $ expansion, quotes) or to a shell. */
const TRICKY = ["100%", "%n", "$HOME", 'say "hi"', "", "two  spaces"];
const JOB = 'printf "%s|" "$(id -un)" "$@" >> "$OUT"; echo >> "$OUT"';

let bed: Testbed;

beforeAll(async () => {
  if (!pre.ok) return;
  bed = await Testbed.start({ hosts: [{ name: "sd", systemd: true }] });
}, 600_000);

afterAll(async () => {
  await bed?.stop();
}, 120_000);

const sh = (command: string, input?: string): Promise<ExecResult> => bed.exec("sd", command, input === undefined ? {} : { input });
const value = async (command: string) => (await sh(command)).stdout.trim();
const daemonReloads = async () => Number(await value("journalctl -q _PID=1 -o cat | grep -c '^Reloading' || true"));

/** Copies the bundle to the host and runs it with SHELL. */
async function run(shell: string, bundle: string, args = ""): Promise<ExecResult> {
  const put = await sh("cat > /root/timer-bundle.sh", bundle);
  expect(put.code, put.stderr).toBe(0);
  return sh(`${shell} /root/timer-bundle.sh ${args}`);
}

/** Waits until FILE has at least one line; its first line. */
async function firstLine(file: string, seconds = 20): Promise<string> {
  for (let i = 0; i < seconds * 4; i++) {
    const r = await sh(`head -n 1 ${file} 2>/dev/null`);
    if (r.stdout.endsWith("\n")) return r.stdout.slice(0, -1);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${file} got no line in ${seconds} s; journal: ${(await sh("journalctl -q -n 20 --no-pager")).stdout}`);
}

for (const [tag, shell] of [
  ["dash", "sh"],
  ["busybox", "busybox sh"],
  ["mksh", "mksh"],
  ["bash", "bash --posix"],
] as const) {
  describe.skipIf(!pre.ok)(`Timer on a real systemd host, bundle run by ${shell}`, () => {
    const name = `tick-${tag}`;
    const unit = `${name}.timer`;
    const out = `/tmp/depc-${name}.out`;
    const envName = `timer-${tag}`;
    const build = (o: { calendar?: string; marker?: string; gone?: boolean } = {}): string => {
      const resources: Resource[] = [File({ path: `/etc/depc-${name}.conf`, content: "x\n" })];
      if (!o.gone) {
        resources.push(
          Timer({
            name,
            onCalendar: o.calendar ?? "*:*:0/2",
            accuracySec: 1,
            command: ["/bin/sh", "-c", JOB, "job", ...TRICKY, ...(o.marker === undefined ? [] : [o.marker])],
            user: "nobody",
            environment: { OUT: out },
            workingDirectory: "/tmp",
          }),
        );
      }
      return compileValue(environment({ hosts: { sd: resources } }), envName).bundles!.get("sd")!;
    };

    it.runIf(tag === "dash")("--check on a fresh host shows both units and the whole plan, and changes nothing", async () => {
      const r = await run(shell, build(), "--check");
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toContain(`would change  timer ${unit} (service created, timer created, enable, daemon-reload, start)\n`);
      expect(r.stdout).toContain(`--- /etc/systemd/system/${name}.service\n+++ /etc/systemd/system/${name}.service (depc)\n`);
      expect(r.stdout).toContain(`--- /etc/systemd/system/${name}.timer\n+++ /etc/systemd/system/${name}.timer (depc)\n`);
      expect(r.stdout).toContain("+OnCalendar=*:*:0/2\n");
      expect((await sh(`test -e /etc/systemd/system/${unit}`)).code).toBe(1);
    });

    it("apply writes both units, enables and starts the timer with one daemon-reload; it fires as its user with exactly its arguments", async () => {
      const reloads = await daemonReloads();
      const r = await run(shell, build());
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`changed       timer ${unit} (service created, timer created, enable, daemon-reload, start)\n`);
      expect(await daemonReloads()).toBe(reloads + 1);
      expect(await value(`systemctl is-active ${unit}`)).toBe("active");
      expect(await value(`systemctl is-enabled ${unit}`)).toBe("enabled");
      expect(await value(`systemctl list-timers --all --no-legend ${unit}`)).toContain(`${unit}`);
      expect(await value(`stat -c '%a %U' /etc/systemd/system/${name}.service /etc/systemd/system/${unit}`)).toBe("644 root\n644 root");
      expect(await firstLine(out)).toBe(["nobody", ...TRICKY, ""].join("|"));
    });

    it("a second apply changes nothing: no daemon-reload, 0 changed; --check exits 0", async () => {
      const reloads = await daemonReloads();
      const r = await run(shell, build());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`ok            timer ${unit}\n`);
      expect(r.stdout).toContain(": 2 resources: 0 changed, 2 ok, 0 failed\n");
      expect(await daemonReloads()).toBe(reloads);
      expect((await run(shell, build(), "--check")).code).toBe(0);
    });

    it.runIf(tag === "dash")("a new command and a new schedule: one daemon-reload, the timer restarted, the job runs the new command", async () => {
      const reloads = await daemonReloads();
      const bundle = build({ calendar: "*:*:1/2", marker: "v2" });
      const c = await run(shell, bundle, "--check");
      expect(c.code).toBe(2);
      expect(c.stdout).toContain(`would change  timer ${unit} (service content, timer content, daemon-reload, restart)\n`);
      expect(c.stdout).toContain("-OnCalendar=*:*:0/2\n+OnCalendar=*:*:1/2\n");
      const r = await run(shell, bundle);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`changed       timer ${unit} (service content, timer content, daemon-reload, restart)\n`);
      expect(await daemonReloads()).toBe(reloads + 1);
      await sh(`rm -f ${out}`);
      expect(await firstLine(out)).toBe(["nobody", ...TRICKY, "v2", ""].join("|"));
      expect((await run(shell, bundle)).stdout).toContain(": 2 resources: 0 changed, 2 ok, 0 failed\n");
    });

    it.runIf(tag === "dash")("a calendar expression systemd does not understand fails before anything is written", async () => {
      const before = await value(`cat /etc/systemd/system/${unit}`);
      const r = await run(shell, build({ calendar: "every day", marker: "v2" }));
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`failed        timer ${unit}: onCalendar 'every day' is not a calendar expression systemd understands (systemd-analyze calendar):\n`);
      expect(r.stdout).toMatch(/Failed to parse calendar specification 'every day'/);
      expect(await value(`cat /etc/systemd/system/${unit}`)).toBe(before);
    });

    it("leaving the model: stopped, disabled, both units removed, one daemon-reload", async () => {
      const reloads = await daemonReloads();
      const c = await run(shell, build({ gone: true }), "--check");
      expect(c.code).toBe(2);
      expect(c.stdout).toContain(`would remove  timer ${unit} (stopped, disabled, units removed)\n`);
      const r = await run(shell, build({ gone: true }));
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`removed       timer ${unit} (stopped, disabled, units removed)\n`);
      expect(await daemonReloads()).toBe(reloads + 1);
      expect((await sh(`ls /etc/systemd/system/${name}.service /etc/systemd/system/${unit} 2>&1`)).code).not.toBe(0);
      expect(await value(`systemctl list-timers --all --no-legend ${unit}`)).toBe("");
      expect(await value(`systemctl is-enabled ${unit} 2>&1 || true`)).not.toBe("enabled");
      // It no longer fires.
      await sh(`rm -f ${out}`);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect((await sh(`test -e ${out}`)).code).toBe(1);
    });
  });
}
