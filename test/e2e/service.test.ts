// End-to-end: the Service resource against real systemd (PID 1 in a systemd-nspawn
// container of the test bed), reached over real ssh. Bundles run with the host's
// /bin/sh (dash), busybox sh, mksh and bash --posix (yash and posh are not in the
// systemd rootfs; the no-systemd case runs under them in test/runtime/service.test.ts). Needs root (see test/testbed/README.md):
// skipped with a message elsewhere, a failure in CI.
//
// The service's program is /bin/sh logging each start and each SIGHUP to a file,
// so "restarted exactly once" is counted by the program itself, and MainPID and
// /proc/<pid>/cmdline show what systemd really ran.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environment, File, Service, Command, type Resource } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Testbed, testbedPrerequisites, type ExecResult } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: true });
if (!pre.ok) {
  if (process.env.CI === "true") {
    throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  }
  console.warn(`[service e2e] skipping the Service e2e tests: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

/** Arguments that mean something to systemd (specifiers, $ expansion, quotes, `;`) or to a shell. */
const TRICKY = ["100%", "%n", "$HOME", "${HOME}", 'say "hi"', "back\\slash\\", "'single'", ";", "", "two  spaces", "ünïcödé", "$(id)"];
const ENV_VALUE = 'a "quoted" \\ back%slash $HOME %n;';
const PROGRAM = 'trap \'echo reload >> "$LOG"\' HUP; echo start >> "$LOG"; while :; do sleep 1000 & wait $!; done';

let bed: Testbed;
const timings: Record<string, number> = {};

beforeAll(async () => {
  if (!pre.ok) return;
  const t0 = Date.now();
  bed = await Testbed.start({ hosts: [{ name: "sd", systemd: true }, { name: "plain" }] });
  timings["test bed start"] = Date.now() - t0;
}, 600_000);

afterAll(async () => {
  await bed?.stop();
  if (Object.keys(timings).length > 0) console.log("[service e2e] timings (ms)", timings);
}, 120_000);

async function sh(host: string, command: string, input?: string): Promise<ExecResult> {
  return bed.exec(host, command, input === undefined ? {} : { input });
}

/** Copies the bundle to the host and runs it with SHELL; the time goes into `timings`. */
async function run(host: string, shell: string, bundle: string, args = "", label?: string): Promise<ExecResult> {
  const file = `/root/${host}-bundle.sh`;
  const put = await sh(host, `cat > ${file}`, bundle);
  expect(put.code, put.stderr).toBe(0);
  const t0 = Date.now();
  const result = await sh(host, `${shell} ${file} ${args}`);
  if (label !== undefined) timings[label] = Date.now() - t0;
  return result;
}

async function value(command: string): Promise<string> {
  const r = await sh("sd", command);
  return r.stdout.trim();
}

const mainPid = (unit: string) => value(`systemctl show -p MainPID --value ${unit}`);
const daemonReloads = async () => Number(await value("journalctl -q _PID=1 -o cat | grep -c '^Reloading' || true"));

for (const [tag, shell] of [
  ["dash", "sh"],
  ["busybox", "busybox sh"],
  ["mksh", "mksh"],
  ["bash", "bash --posix"],
] as const) {
  describe.skipIf(!pre.ok)(`Service on a real systemd host, bundle run by ${shell}`, () => {
    const name = `web-${tag}`;
    const unit = `${name}.service`;
    const log = `/run/depc-${name}.log`;
    const conf = `/etc/depc-${name}.conf`;
    const envName = `svc-${tag}`;

    /** The model of one version of the deployment; changes between steps are the test. */
    const build = (o: { confText?: string; extraArg?: string; enabled?: boolean; running?: boolean; gate?: boolean } = {}): string => {
      const file = File({ path: conf, content: o.confText ?? "version = 1\n" });
      const gate = o.gate ? Command({ name: "gate", command: ["test", "-e", `/run/depc-gate-${tag}`], always: true }) : undefined;
      const service = Service({
        name,
        description: `depc test service (${tag}) 100%`,
        execStart: ["/bin/sh", "-c", PROGRAM, "prog", ...TRICKY, ...(o.extraArg === undefined ? [] : [o.extraArg])],
        environment: { LOG: log, TRICKY: ENV_VALUE },
        workingDirectory: "/tmp",
        after: ["network.target", ...(gate ? [gate] : [])],
        whenChanged: [file],
        ...(o.enabled === undefined ? {} : { enabled: o.enabled }),
        ...(o.running === undefined ? {} : { running: o.running }),
      });
      const resources: Resource[] = [file, ...(gate ? [gate] : []), service];
      return compileValue(environment({ hosts: { sd: resources } }), envName).bundles!.get("sd")!;
    };

    it(`the host's /bin/sh is dash, and busybox is there`, async () => {
      expect(await value("readlink /bin/sh")).toBe("dash");
      expect(await value("busybox sh -c 'echo ok'")).toBe("ok");
    });

    it("--check on a fresh host reports the whole plan, with the unit's diff, and changes nothing", async () => {
      const r = await run("sd", shell, build(), "--check", `${tag}: check, fresh host`);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toContain(`would change  service ${unit} (unit created, enable, daemon-reload, start)\n`);
      expect(r.stdout).toContain(`--- /etc/systemd/system/${unit}\n+++ /etc/systemd/system/${unit} (depc)\n`);
      expect(r.stdout).toContain(`+Description=depc test service (${tag}) 100%%\n`);
      expect(r.stdout).toContain(`depc: ${envName}/sd (check): 2 resources: 2 would change, 0 ok\n`);
      expect((await sh("sd", `test -e /etc/systemd/system/${unit}`)).code).toBe(1);
      expect(await value(`systemctl is-active ${unit}`)).toBe("inactive");
    });

    it("apply installs the unit, enables and starts it, with one daemon-reload; systemd runs exactly the argv and environment given", async () => {
      const reloads = await daemonReloads();
      const r = await run("sd", shell, build(), "", `${tag}: first apply`);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toBe(
        `changed       file ${conf} (created)\n` +
          `changed       service ${unit} (unit created, enable, daemon-reload, start)\n` +
          `depc: ${envName}/sd: 2 resources: 2 changed, 0 ok, 0 failed\n`,
      );
      expect(await value(`systemctl is-active ${unit}`)).toBe("active");
      expect(await value(`systemctl is-enabled ${unit}`)).toBe("enabled");
      expect(await daemonReloads()).toBe(reloads + 1);
      expect(await value(`stat -c '%a %U %G' /etc/systemd/system/${unit}`)).toBe("644 root root");
      const pid = await mainPid(unit);
      const cmdline = (await sh("sd", `cat /proc/${pid}/cmdline`)).stdout;
      expect(cmdline.split("\0").slice(0, -1)).toEqual(["/bin/sh", "-c", PROGRAM, "prog", ...TRICKY]);
      const environ = (await sh("sd", `cat /proc/${pid}/environ`)).stdout.split("\0");
      expect(environ).toContain(`TRICKY=${ENV_VALUE}`);
      expect(await value(`systemctl show -p Description --value ${unit}`)).toBe(`depc test service (${tag}) 100%`);
      expect(await value(`readlink /proc/${pid}/cwd`)).toBe("/tmp");
      expect(await value(`cat ${log}`)).toBe("start");
    });

    it("a second apply changes nothing: same MainPID, no daemon-reload, 0 changed; --check exits 0", async () => {
      const pid = await mainPid(unit);
      const reloads = await daemonReloads();
      const r = await run("sd", shell, build(), "", `${tag}: second apply (converged)`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`ok            file ${conf}\nok            service ${unit}\ndepc: ${envName}/sd: 2 resources: 0 changed, 2 ok, 0 failed\n`);
      expect(await mainPid(unit)).toBe(pid);
      expect(await daemonReloads()).toBe(reloads);
      const c = await run("sd", shell, build(), "--check", `${tag}: check (converged)`);
      expect(c.code, c.stdout).toBe(0);
      expect(c.stdout).toContain(`depc: ${envName}/sd (check): 2 resources: 0 would change, 2 ok\n`);
    });

    it("a changed unit: --check shows the diff and the restart without doing them; apply daemon-reloads once and restarts (MainPID changes)", async () => {
      const pid = await mainPid(unit);
      const reloads = await daemonReloads();
      const bundle = build({ extraArg: "v2" });
      const c = await run("sd", shell, bundle, "--check");
      expect(c.code).toBe(2);
      expect(c.stdout).toContain(`would change  service ${unit} (unit content, daemon-reload, restart)\n`);
      expect(c.stdout).toMatch(/^-ExecStart=\/bin\/sh -c .* "\$\$\(id\)"$/m);
      expect(c.stdout).toMatch(/^\+ExecStart=\/bin\/sh -c .* "\$\$\(id\)" v2$/m);
      expect(await mainPid(unit)).toBe(pid);
      expect(await daemonReloads()).toBe(reloads);

      const r = await run("sd", shell, bundle, "", `${tag}: apply a changed unit`);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`changed       service ${unit} (unit content, daemon-reload, restart)\n`);
      const newPid = await mainPid(unit);
      expect(newPid).not.toBe(pid);
      expect(newPid).not.toBe("0");
      expect(await daemonReloads()).toBe(reloads + 1);
      expect((await sh("sd", `cat /proc/${newPid}/cmdline`)).stdout.split("\0").at(-2)).toBe("v2");
      expect(await value(`cat ${log}`)).toBe("start\nstart");

      const again = await run("sd", shell, bundle);
      expect(again.stdout).toContain(" 0 changed, 2 ok, 0 failed\n");
      expect(await mainPid(unit)).toBe(newPid);
    });

    it("a changed File in whenChanged restarts the service exactly once; --check first says it would", async () => {
      const pid = await mainPid(unit);
      const reloads = await daemonReloads();
      const bundle = build({ extraArg: "v2", confText: "version = 2\n" });
      const c = await run("sd", shell, bundle, "--check");
      expect(c.code).toBe(2);
      expect(c.stdout).toContain(`would change  file ${conf} (content)\n`);
      expect(c.stdout).toContain(`would change  service ${unit} (notified: restart)\n`);
      expect(await mainPid(unit)).toBe(pid);

      const r = await run("sd", shell, bundle, "", `${tag}: apply, notified restart`);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toBe(
        `changed       file ${conf} (content)\n` +
          `changed       service ${unit} (notified: restart)\n` +
          `depc: ${envName}/sd: 2 resources: 2 changed, 0 ok, 0 failed\n`,
      );
      expect(await mainPid(unit)).not.toBe(pid);
      expect(await daemonReloads()).toBe(reloads);
      expect(await value(`cat ${log}`)).toBe("start\nstart\nstart");

      const again = await run("sd", shell, bundle);
      expect(again.stdout).toContain(" 0 changed, 2 ok, 0 failed\n");
      expect(await value(`cat ${log}`)).toBe("start\nstart\nstart");
    });

    it("a restart owed by a run that failed before it is done by the next run", async () => {
      const pid = await mainPid(unit);
      const bundle = build({ extraArg: "v2", confText: "version = 3\n", gate: true });
      const failed = await run("sd", shell, bundle);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain(`changed       file ${conf} (content)\n`);
      expect(failed.stdout).toContain("failed        command gate: test -e /run/depc-gate-");
      expect(failed.stdout).toContain("1 not run");
      expect(await mainPid(unit)).toBe(pid);
      expect(await value(`cat /var/lib/depc/${envName}/owed`)).toContain(`service:${unit}`);

      expect((await sh("sd", `touch /run/depc-gate-${tag}`)).code).toBe(0);
      const r = await run("sd", shell, bundle);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`ok            file ${conf}\n`);
      expect(r.stdout).toContain(`changed       service ${unit} (notified: restart)\n`);
      expect(await mainPid(unit)).not.toBe(pid);
      expect(await value(`cat ${log}`)).toBe("start\nstart\nstart\nstart");
      expect(await value(`cat /var/lib/depc/${envName}/owed`)).not.toContain(`service:${unit}`);
    });

    it("enabled: false and running: false disable and stop it, once", async () => {
      const bundle = build({ extraArg: "v2", confText: "version = 3\n", enabled: false, running: false });
      const r = await run("sd", shell, bundle);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`changed       service ${unit} (disable, stop)\n`);
      expect(await value(`systemctl is-active ${unit}`)).toBe("inactive");
      expect(await value(`systemctl is-enabled ${unit}`)).toBe("disabled");
      const again = await run("sd", shell, bundle);
      expect(again.stdout).toContain(" 0 changed, 2 ok, 0 failed\n");
    });
  });
}

describe.skipIf(!pre.ok)("Service on a real systemd host: whole unit files, reload, failures", () => {
  const unitText = (marker: string) =>
    [
      "[Unit]",
      "Description=reloadable depc test service",
      "",
      "[Service]",
      "Type=exec",
      `ExecStart=/bin/sh -c 'trap "echo reload >> /run/depc-rl.log" HUP; echo start >> /run/depc-rl.log; while :; do sleep 1000 & wait $$!; done' ${marker}`,
      "ExecReload=/bin/kill -HUP $MAINPID",
      "",
      "[Install]",
      "WantedBy=multi-user.target",
      "",
    ].join("\n");

  it("reload: true reloads (ExecReload, same MainPID) when notified; a changed unit still restarts", async () => {
    const build = (confText: string, marker = "one") => {
      const file = File({ path: "/etc/depc-rl.conf", content: confText });
      return compileValue(environment({ hosts: { sd: [file, Service({ name: "rl", unit: unitText(marker), reload: true, whenChanged: [file] })] } }), "svc-rl").bundles!.get("sd")!;
    };
    const first = await run("sd", "sh", build("a\n"));
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain("changed       service rl.service (unit created, enable, daemon-reload, start)\n");
    const pid = await mainPid("rl.service");
    expect(await value("cat /etc/systemd/system/rl.service")).toBe(unitText("one").trimEnd());

    const notified = await run("sd", "sh", build("b\n"));
    expect(notified.stdout).toContain("changed       service rl.service (notified: reload)\n");
    expect(await mainPid("rl.service")).toBe(pid);
    await expect.poll(() => value("cat /run/depc-rl.log")).toBe("start\nreload");

    const changed = await run("sd", "busybox sh", build("b\n", "two"));
    expect(changed.stdout).toContain("changed       service rl.service (unit content, daemon-reload, restart)\n");
    expect(await mainPid("rl.service")).not.toBe(pid);
    expect(await value("cat /run/depc-rl.log")).toBe("start\nreload\nstart");
  });

  it("an enabled service whose wantedBy changes is re-enabled: its symlink moves to the new target", async () => {
    const build = (target: string) =>
      compileValue(environment({ hosts: { sd: [Service({ name: "wb", execStart: ["/bin/sleep", "1000"], wantedBy: target })] } }), "svc-wb").bundles!.get("sd")!;
    expect((await run("sd", "sh", build("multi-user.target"))).code).toBe(0);
    expect((await sh("sd", "test -L /etc/systemd/system/multi-user.target.wants/wb.service")).code).toBe(0);
    const c = await run("sd", "sh", build("graphical.target"), "--check");
    expect(c.stdout).toContain("would change  service wb.service (unit content, reenable, daemon-reload, restart)\n");
    const r = await run("sd", "busybox sh", build("graphical.target"));
    expect(r.stdout).toContain("changed       service wb.service (unit content, reenable, daemon-reload, restart)\n");
    expect((await sh("sd", "test -L /etc/systemd/system/graphical.target.wants/wb.service")).code).toBe(0);
    expect((await sh("sd", "test -e /etc/systemd/system/multi-user.target.wants/wb.service")).code).toBe(1);
    expect(await value("systemctl is-enabled wb.service")).toBe("enabled");
    const again = await run("sd", "sh", build("graphical.target"));
    expect(again.stdout).toContain(" 0 changed, 1 ok, 0 failed\n");
  });

  it("a unit file with the wrong mode and owner is fixed in place: no daemon-reload, no restart", async () => {
    const bundle = compileValue(environment({ hosts: { sd: [Service({ name: "attrs", execStart: ["/bin/sleep", "1000"] })] } }), "svc-attrs").bundles!.get("sd")!;
    expect((await run("sd", "sh", bundle)).code).toBe(0);
    const pid = await mainPid("attrs.service");
    expect((await sh("sd", "chmod 600 /etc/systemd/system/attrs.service && chown nobody /etc/systemd/system/attrs.service")).code).toBe(0);
    const reloads = await daemonReloads();
    const r = await run("sd", "busybox sh", bundle);
    expect(r.stdout).toContain("changed       service attrs.service (unit mode 0600 -> 0644, owner nobody -> root)\n");
    expect(await value("stat -c '%a %U' /etc/systemd/system/attrs.service")).toBe("644 root");
    expect(await mainPid("attrs.service")).toBe(pid);
    expect(await daemonReloads()).toBe(reloads);
  });

  it("two changed services in one run: one daemon-reload each (per changed unit)", async () => {
    const build = (marker: string) =>
      compileValue(
        environment({ hosts: { sd: ["a", "b"].map((n) => Service({ name: `pair-${n}`, execStart: ["/bin/sleep", "1000", marker], type: "simple" })) } }),
        "svc-pair",
      ).bundles!.get("sd")!;
    expect((await run("sd", "sh", build("1"))).code).toBe(0);
    const reloads = await daemonReloads();
    const r = await run("sd", "sh", build("2"), "", "two changed services");
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.match(/\(unit content, daemon-reload, restart\)/g)).toHaveLength(2);
    expect(await daemonReloads()).toBe(reloads + 2);
  });

  it("a service that leaves the model (renamed): stopped, disabled, its unit removed with one daemon-reload, before its successor starts", async () => {
    const build = (name: string) =>
      compileValue(environment({ hosts: { sd: [Service({ name, execStart: ["/bin/sleep", "1000"], wantedBy: "multi-user.target" })] } }), "svc-rm").bundles!.get("sd")!;
    expect((await run("sd", "sh", build("old-name"))).code).toBe(0);
    expect(await value("systemctl is-active old-name.service")).toBe("active");
    const check = await run("sd", "busybox sh", build("new-name"), "--check");
    expect(check.code, check.stdout + check.stderr).toBe(2);
    expect(check.stdout).toContain("would remove  service old-name.service (stopped, disabled, unit removed)\n");
    expect(await value("systemctl is-active old-name.service")).toBe("active");
    const reloads = await daemonReloads();
    const r = await run("sd", "busybox sh", build("new-name"));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.startsWith("removed       service old-name.service (stopped, disabled, unit removed)\n")).toBe(true);
    expect(r.stdout).toContain("changed       service new-name.service (unit created, enable, daemon-reload, start)\n");
    expect(await value("systemctl is-active old-name.service")).not.toBe("active");
    expect((await sh("sd", "test -e /etc/systemd/system/old-name.service")).code).toBe(1);
    expect((await sh("sd", "test -e /etc/systemd/system/multi-user.target.wants/old-name.service")).code).toBe(1);
    expect(await value("systemctl is-active new-name.service")).toBe("active");
    // One for the removal, one for the new unit.
    expect(await daemonReloads()).toBe(reloads + 2);
    const again = await run("sd", "sh", build("new-name"));
    expect(again.stdout).toContain(" 0 changed, 1 ok, 0 failed\n");
  });

  it("a service that cannot start fails the run with systemctl's message and the unit's journal", async () => {
    const bundle = compileValue(environment({ hosts: { sd: [Service({ name: "broken", execStart: ["/nonexistent/program", "--flag"] })] } }), "svc-broken").bundles!.get("sd")!;
    const r = await run("sd", "sh", bundle);
    expect(r.code).toBe(1);
    // systemctl's message as lines under the failed line (then the unit's journal).
    expect(r.stdout).toMatch(/^failed {8}service broken\.service: systemctl start broken\.service failed:\n {4}Job for broken\.service failed/m);
    expect(r.stdout).toMatch(/\/nonexistent\/program/);
    expect(r.stderr).toContain("depc: svc-broken/sd: service broken.service: systemctl start broken.service failed");
  });

  for (const shell of ["sh", "busybox sh"]) {
    it(`a host without systemd fails with a message naming the host (${shell} on a plain test host)`, async () => {
      const bundle = compileValue(environment({ hosts: { plain: [Service({ name: "web", execStart: ["/bin/true"] })] } }), "svc-plain").bundles!.get("plain")!;
      for (const args of ["", "--check"]) {
        const r = await run("plain", shell, bundle, args);
        expect(r.code).toBe(1);
        expect(r.stdout).toContain(
          "failed        service web.service: host plain does not run systemd (there is no /run/systemd/system), so it cannot run service web.service\n",
        );
        expect(r.stderr).toContain("depc: svc-plain/plain: service web.service: host plain does not run systemd");
      }
      expect((await sh("plain", "test -e /etc/systemd/system/web.service")).code).toBe(1);
    });
  }
});
