import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Command, Directory, File, Program, Supervisor, component, environment, type Placeable } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Sandbox } from "../support/sandbox.js";
import { requireTool, which } from "../support/shells.js";
import { Session } from "./session.js";

// Program({ cold: true }), batou's cold deployment, against a real
// supervisord (Debian's `supervisor`) in a sandbox that persists across
// runs (see session.ts). The program is /bin/sh writing one line to an
// events file when it starts and one when it gets SIGTERM, each with the
// content of the files it depends on *at that moment*: "stop v1 o1" then
// "start v2 o1" proves it was stopped before app.ini changed and started
// after; a hot program would write "stop v2 o1".

const why = Sandbox.unavailable();
if (why !== undefined && process.env.CI === "true") throw new Error(`cold supervisor tests: sandbox ${why} (CI=true)`);
const ready = why === undefined && requireTool("supervisord") && requireTool("nsenter") && requireTool("busybox");
if (why !== undefined) console.warn(`depc tests: skipping cold supervisor tests: sandbox ${why}`);

interface SandboxShell {
  readonly name: string;
  readonly argv: readonly string[];
  readonly path: string;
}
const GNU = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** The six shells; busybox sh with only its applets on PATH. */
const SHELLS: readonly SandboxShell[] = [
  { name: "dash", argv: [which("dash") ?? "dash"], path: GNU },
  { name: "busybox sh", argv: [which("busybox") ?? "busybox", "sh"], path: "/opt/bb" },
  { name: "bash --posix", argv: [which("bash") ?? "bash", "--posix"], path: GNU },
  { name: "mksh", argv: [which("mksh") ?? "mksh"], path: GNU },
  { name: "yash", argv: [which("yash") ?? "yash"], path: GNU },
  { name: "posh", argv: [which("posh") ?? "posh"], path: GNU },
].filter((s) => requireTool(s.argv[0]!.split("/").pop()!));

describe.runIf(ready)("Program({ cold: true }) on a real supervisord", () => {
  const session = new Session();
  const pidfiles: string[] = [];
  let bundleCount = 0;

  beforeAll(async () => {
    await session.start();
    const setup = session.exec(["sh", "-c", "mkdir -p /opt/bb && busybox --install -s /opt/bb"]);
    expect(setup.status, setup.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const p of pidfiles) await session.stopDaemon(p);
    await session.stop();
  });

  function bundle(resources: readonly Placeable[]): string {
    const text = compileValue(environment({ hosts: { h: [...resources] } })).bundles!.get("h")!;
    const name = `cold${++bundleCount}.sh`;
    writeFileSync(join(session.shared, name), text, { mode: 0o755 });
    return `/depc-test/${name}`;
  }

  describe.each(SHELLS.map((s) => [s.name, s] as const))("under %s", (_name, shell) => {
    const tag = shell.name.split(" ")[0]!;
    const root = `/srv/cold-${tag}`;
    const base = `${root}/sv`;
    const conf = `${base}/supervisord.conf`;
    const programConf = `${base}/conf.d/worker.conf`;
    const events = `${root}/events`;
    const state = `/var/lib/depc-cold-${tag}`;
    const pidfile = `/run/cold-${tag}.pid`;
    // Each line reads the files it depends on when the event happens.
    const script =
      `now() { echo "$1 $(cat ${root}/app/app.ini) $(cat ${root}/outside.conf)" >> ${events}; }; ` +
      `now start; trap 'now stop; exit 0' TERM; while :; do sleep 1 & wait $!; done`;

    interface Version {
      readonly app: string;
      readonly outside: string;
      readonly cold?: boolean;
      /** A Command after app.ini that kills the bundle with SIGKILL. */
      readonly crash?: boolean;
    }
    const model = (v: Version): Placeable[] => {
      const sup = Supervisor({ flavour: "user", base, bin: "/usr/bin" });
      const outside = File({ path: `${root}/outside.conf`, content: `${v.outside}\n` });
      const app = component({
        name: "app",
        build() {
          Directory({ path: `${root}/app` });
          File({ path: `${root}/app/app.ini`, content: `${v.app}\n` });
          // Always checked in full (no fact decides it): a no-op run still asks whether it would run.
          Command({ name: "probe", command: ["/bin/false"], unless: ["/bin/true"] });
          if (v.crash) Command({ name: "crash", command: ["/bin/sh", "-c", `kill -9 "$(cat ${pidfile})"`], always: true });
          Program({ supervisor: sup, name: "worker", command: ["/bin/sh", "-c", script], cold: v.cold ?? true, whenChanged: [outside] });
        },
      });
      return [Directory({ path: root }), sup, outside, app];
    };
    /** Runs the bundle as root, its shell's pid in `pidfile` (for the crash command). */
    const apply = (path: string, ...args: string[]) =>
      session.execAsync(["/bin/sh", "-c", `echo $$ > ${pidfile} && exec "$@"`, "sh", ...shell.argv, path, "--state-dir", state, ...args], { PATH: shell.path });
    const eventLines = () => (session.read(events) ?? "").trim().split("\n");
    const ctl = (...args: string[]) => session.exec(["supervisorctl", "-c", conf, ...args]);
    const pid = () => Number(ctl("pid", "worker").stdout.trim());

    it("first apply starts it (nothing to stop yet); a run that changes nothing stops nothing", async () => {
      pidfiles.push(`${base}/supervisord.pid`);
      const first = await apply(bundle(model({ app: "v1", outside: "o1" })));
      expect(first.status, first.stdout + first.stderr).toBe(0);
      expect(first.stdout).toContain(`changed       program ${programConf} (config created, started)\n`);
      expect(eventLines()).toEqual(["start v1 o1"]);
      const before = pid();

      const again = await apply(bundle(model({ app: "v1", outside: "o1" })));
      expect(again.status, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain("ok            command probe\n");
      expect(again.stdout).toContain("7 resources: 0 changed, 7 ok, 0 failed\n");
      expect(pid()).toBe(before);
      expect(eventLines()).toEqual(["start v1 o1"]);
    });

    it("a change in its component: --check says so and stops nothing; apply stops it before the file changes and starts it after", async () => {
      const before = pid();
      const next = bundle(model({ app: "v2", outside: "o1" }));
      const check = await apply(next, "--check");
      expect(check.status, check.stdout + check.stderr).toBe(2);
      expect(check.stdout).toContain(`would change  file ${root}/app/app.ini (content)\n`);
      expect(check.stdout).toContain(`would change  program ${programConf} (stop while its dependencies change, start)\n`);
      expect(pid()).toBe(before);
      expect(eventLines()).toEqual(["start v1 o1"]);

      const applied = await apply(next);
      expect(applied.status, applied.stdout + applied.stderr).toBe(0);
      expect(applied.stdout).toContain(`changed       file ${root}/app/app.ini (content)\n`);
      expect(applied.stdout).toContain(`changed       program ${programConf} (stopped while its dependencies changed, started)\n`);
      expect(eventLines()).toEqual(["start v1 o1", "stop v1 o1", "start v2 o1"]);
      expect(pid()).not.toBe(before);
      expect(session.read(`${state}/owed`) ?? "").toBe("");
    });

    it("a change of a whenChanged source outside its component stops it first too; one start, not a restart after the start", async () => {
      const applied = await apply(bundle(model({ app: "v2", outside: "o2" })));
      expect(applied.status, applied.stdout + applied.stderr).toBe(0);
      expect(applied.stdout).toContain(`changed       program ${programConf} (stopped while its dependencies changed, started)\n`);
      expect(eventLines().slice(3)).toEqual(["stop v2 o1", "start v2 o2"]);
    });

    it("killed with -9 between the stop and the start: the next run starts it", async () => {
      const crashed = await apply(bundle(model({ app: "v3", outside: "o2", crash: true })));
      expect(crashed.signal ?? crashed.status, crashed.stdout + crashed.stderr).not.toBe(0);
      expect(crashed.stdout).toContain(`changed       file ${root}/app/app.ini (content)\n`);
      expect(crashed.stdout).not.toContain(`program ${programConf}`);
      expect(ctl("status", "worker").stdout).toMatch(/^worker +STOPPED/);
      expect(session.read(`${state}/owed`)).toContain(`program-cold:${programConf}\n`);
      expect(eventLines().slice(5)).toEqual(["stop v2 o2"]);

      const next = await apply(bundle(model({ app: "v3", outside: "o2" })));
      expect(next.status, next.stdout + next.stderr).toBe(0);
      expect(next.stdout).toContain(`changed       program ${programConf} (stopped while its dependencies changed, started)\n`);
      expect(eventLines().slice(5)).toEqual(["stop v2 o2", "start v3 o2"]);
      expect(session.read(`${state}/owed`) ?? "").toBe("");
      expect((await apply(bundle(model({ app: "v3", outside: "o2" })))).stdout).toContain("0 changed, 7 ok, 0 failed\n");
    });

    it.runIf(tag === "dash")("the same change to a hot program (cold: false) restarts it after the file changed", async () => {
      expect((await apply(bundle(model({ app: "v3", outside: "o2", cold: false })))).status).toBe(0);
      const applied = await apply(bundle(model({ app: "v4", outside: "o2", cold: false })));
      expect(applied.status, applied.stdout + applied.stderr).toBe(0);
      // Not notified by app.ini, so a hot program keeps running on the old settings.
      expect(applied.stdout).toContain(`ok            program ${programConf}\n`);
      const restarted = await apply(bundle(model({ app: "v4", outside: "o3", cold: false })));
      expect(restarted.stdout).toContain(`changed       program ${programConf} (restarted)\n`);
      expect(eventLines().slice(7)).toEqual(["stop v4 o3", "start v4 o3"]);
    });

    it("a program started again after its cold stop is health-checked: a failing check fails the run and keeps the start owed", async () => {
      const gate = `${root}/gate`;
      const gated = (release: string) => {
        const sup = Supervisor({ flavour: "user", base, bin: "/usr/bin" });
        const app = component({
          name: "gated",
          build() {
            Directory({ path: gate });
            File({ path: `${gate}/release`, content: `${release}\n` });
            // autostart: false: only the cold start brings it back after the stop.
            Program({ supervisor: sup, name: "gated", command: ["/bin/sh", "-c", "while :; do sleep 1 & wait $!; done"], cold: true, autostart: false,
              health: { command: ["/bin/sh", "-c", `test -e ${gate}/healthy || { echo 'not healthy yet'; exit 1; }`], retries: 2, interval: 0 } });
          },
        });
        return [Directory({ path: root }), sup, app];
      };
      const gatedConf = `${base}/conf.d/gated.conf`;
      const first = await apply(bundle(gated("r1")));
      expect(first.status, first.stdout + first.stderr).toBe(0);
      expect(ctl("start", "gated").status).toBe(0);

      const failing = await apply(bundle(gated("r2")));
      expect(failing.status, failing.stdout + failing.stderr).toBe(1);
      expect(failing.stdout.replace(/in \d+(\.\d+)?s/, "in Ns")).toContain(
        `failed        program ${gatedConf}: health check of gated failed after 2 attempts in Ns: /bin/sh -c "test -e ${gate}/healthy || { echo 'not healthy yet'; exit 1; }" exited with status 1:\n    not healthy yet\n`,
      );
      expect(session.read(`${state}/owed`)).toContain(`program-cold:${gatedConf}\n`);

      session.exec(["touch", `${gate}/healthy`]);
      const healed = await apply(bundle(gated("r2")));
      expect(healed.status, healed.stdout + healed.stderr).toBe(0);
      // Still running from the failed run: checked again, not restarted.
      expect(healed.stdout).toMatch(/changed +program .*gated\.conf \(stopped while its dependencies changed; health passed: 1 attempt in \d+(\.\d+)?s\)\n/);
      expect(session.read(`${state}/owed`) ?? "").toBe("");
    });
  });
});
