import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheck, Program, Supervisor, environment, type Argv, type Placeable } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Sandbox } from "../support/sandbox.js";
import { requireTool, which } from "../support/shells.js";
import { Session, freePort, httpGet } from "./session.js";

// Health checks and crash loops of Programs on a real supervisord (Debian's
// `supervisor`), run by a non-root user in a sandbox that persists across
// runs (see session.ts), under dash (curl on PATH) and busybox sh (busybox
// applets only: its wget and nc). Issue 11: a program that lives past
// startsecs and then dies was reported `started`, exit 0.

const why = Sandbox.unavailable();
if (why !== undefined && process.env.CI === "true") throw new Error(`supervisor health tests: sandbox ${why} (CI=true)`);
const ready = why === undefined && requireTool("supervisord") && requireTool("nsenter") && requireTool("setpriv") && requireTool("busybox") && requireTool("dash");
if (why !== undefined) console.warn(`depc tests: skipping supervisor health tests: sandbox ${why}`);

interface SandboxShell {
  readonly name: string;
  readonly argv: readonly string[];
  readonly path: string;
}
const SHELLS: readonly SandboxShell[] = [
  { name: "dash", argv: [which("dash") ?? "dash"], path: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
  { name: "busybox sh", argv: [which("busybox") ?? "busybox", "sh"], path: "/opt/bb" },
];

const PY = "/usr/bin/python3";
const serve = (port: number): Argv => [PY, "-m", "http.server", String(port), "--bind", "127.0.0.1"];
/** Serves HTTP for 2 s, then dies (exit 124): longer than startsecs, so supervisord says RUNNING first. */
const serveBriefly = (port: number): Argv => ["/usr/bin/timeout", "2", PY, "-m", "http.server", String(port), "--bind", "127.0.0.1"];
/** Timings and pids vary. */
const plain = (text: string) => text.replace(/ in [0-9]+\.[0-9]s/g, " in Ns").replace(/pid [0-9]+/g, "pid N");

describe.runIf(ready)("Program health checks on a real supervisord", () => {
  const session = new Session();
  const pidfiles: string[] = [];
  let bundleCount = 0;

  beforeAll(async () => {
    await session.start();
    const setup = session.exec(["sh", "-c", "useradd -m -s /bin/sh app && mkdir -p /opt/bb && busybox --install -s /opt/bb"]);
    expect(setup.status, setup.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const p of pidfiles) await session.stopDaemon(p);
    await session.stop();
  });

  function bundle(resources: readonly Placeable[]): string {
    const text = compileValue(environment({ hosts: { h: [...resources] } })).bundles!.get("h")!;
    const name = `b${++bundleCount}.sh`;
    writeFileSync(join(session.shared, name), text, { mode: 0o755 });
    return `/depc-test/${name}`;
  }

  /** Each shell its own state directory: the other shell's programs are not in its bundles (they would be removed). */
  const run = (shell: SandboxShell, script: string, ...args: string[]) =>
    session.execAs("app", [...shell.argv, script, "--state-dir", `/home/app/state-${shell.name === "dash" ? "dash" : "bb"}`, ...args], { PATH: shell.path });
  const ctl = (conf: string, ...args: string[]) => session.exec(["supervisorctl", "-c", conf, ...args]);
  const pidOf = (conf: string, name: string) => Number(ctl(conf, "pid", name).stdout.trim());

  describe.each(SHELLS.map((s) => [s.name, s] as const))("under %s", (_name, shell) => {
    const tag = shell.name === "dash" ? "dash" : "bb";
    const base = `/home/app/svh-${tag}`;
    const conf = `${base}/supervisord.conf`;
    const sup = () => Supervisor({ flavour: "user", base, bin: "/usr/bin" });

    it("a program that crash-loops after startsecs fails its first run, and every run after (no health check: stableSeconds)", () => {
      pidfiles.push(`${base}/supervisord.pid`);
      const s = sup();
      const script = bundle([s, Program({ supervisor: s, name: "loop", command: ["/bin/sh", "-c", "echo 'starting up'; sleep 2; echo 'lost the database' >&2; exit 1"] })]);
      for (const attempt of [1, 2]) {
        const t0 = Date.now();
        const r = run(shell, script);
        const ms = Date.now() - t0;
        expect(r.status, `run ${attempt}\n${r.stdout}${r.stderr}`).toBe(1);
        const line = plain(r.stdout.split("\n").find((l) => l.startsWith("failed"))!);
        // Run 1 starts it (config created); run 2 restarts it: the restart stayed owed.
        // (On a loaded machine depc may see it only after it died: then the wait for RUNNING says so.)
        expect(line).toMatch(/^failed        program \/home\/app\/svh-(dash|bb)\/conf\.d\/loop\.conf: loop (did not stay up: it was RUNNING as pid N, then [A-Z]+( as pid N)? within 3s|is [A-Z]+, not RUNNING); its last log lines:$/);
        expect(r.stdout).toContain("    lost the database\n");
        expect(r.stdout).toMatch(/\ndepc: test\/h: 2 resources: \d changed, \d ok, 1 failed\n$/);
        // Far below what waiting for RUNNING could take (startsecs + 15 s), also on a loaded machine.
        expect(ms).toBeLessThan(25_000);
        expect(session.read(`/home/app/state-${tag}/owed`)).toContain(`program:${base}/conf.d/loop.conf`);
      }
      const check = run(shell, script, "--check");
      expect(check.stdout).toContain(`would change  program ${base}/conf.d/loop.conf (restart (notified))`);
    });

    it("a health check gates the start: passes (result on the line and in the report), then a failing check fails the run and keeps the restart owed", async () => {
      const port = await freePort();
      const s = sup();
      const web = Program({ supervisor: s, name: "web", command: serve(port), directory: "/tmp", health: { http: { url: `http://127.0.0.1:${port}/`, body: "Directory listing" }, interval: 1 }, stableSeconds: 1 });
      // A standalone check after it, run on every apply.
      const good = bundle([s, web, HealthCheck({ name: "web-listens", tcp: { port }, after: [web] })]);
      const first = run(shell, good, "--report", `/home/app/r-${tag}.json`);
      expect(first.status, first.stdout + first.stderr).toBe(0);
      expect(plain(first.stdout)).toMatch(new RegExp(`changed       program ${base}/conf\\.d/web\\.conf \\(config created, started; health passed: \\d+ attempts? in Ns\\)\\n`));
      expect(plain(first.stdout)).toContain("ok            healthcheck web-listens (health passed: 1 attempt in Ns)\n");
      expect(await httpGet(port)).toContain("Directory listing");
      const report = session.read(`/home/app/r-${tag}.json`)!.trim().split("\n").map((l) => JSON.parse(l));
      expect(report.find((r) => r.kind === "program" && r.index !== undefined).health).toMatchObject({ result: "passed" });

      // The same program, but its check wants a page it does not serve.
      const pid = pidOf(conf, "web");
      // A changed environment restarts it; the check of that restart fails.
      const bad = bundle([s, Program({ supervisor: s, name: "web", command: serve(port), directory: "/tmp", environment: { RELEASE: "2" }, health: { http: { url: `http://127.0.0.1:${port}/health` }, retries: 2, interval: 0 }, stableSeconds: 1 })]);
      for (const attempt of [1, 2]) {
        const r = run(shell, bad);
        expect(r.status, `run ${attempt}\n${r.stdout}${r.stderr}`).toBe(1);
        expect(plain(r.stdout)).toContain(
          `failed        program ${base}/conf.d/web.conf: health check of web failed after 2 attempts in Ns: GET http://127.0.0.1:${port}/health: status 404, expected 200:\n`,
        );
        // Each run restarted it again: the owed restart was not settled.
        const now = pidOf(conf, "web");
        expect(now).not.toBe(pid);
      }
      // Back to the good check: the owed restart is done and settled.
      const healed = run(shell, good);
      expect(healed.status, healed.stdout + healed.stderr).toBe(0);
      expect(plain(healed.stdout)).toMatch(/\(config content, restarted; health passed: \d+ attempts? in Ns\)/);
      const settled = run(shell, good);
      expect(plain(settled.stdout)).toContain("ok            healthcheck web-listens (health passed: 1 attempt in Ns)\n");
      expect(settled.stdout).toContain("0 changed, 3 ok, 0 failed");
      // Stopped behind depc's back: started again, and checked again, before the standalone check runs.
      expect(ctl(conf, "stop", "web").status).toBe(0);
      const restarted = run(shell, good);
      expect(restarted.status, restarted.stdout + restarted.stderr).toBe(0);
      expect(plain(restarted.stdout)).toMatch(new RegExp(`changed       program ${base}/conf\\.d/web\\.conf \\(started; health passed: \\d+ attempts? in Ns\\)\\nok            healthcheck web-listens \\(health passed: 1 attempt in Ns\\)\\n`));
      expect(ctl(conf, "stop", "web").status).toBe(0);
    });

    it("a run killed -9 during the check of a start leaves the start owed: the next run restarts and checks it", async () => {
      const port = await freePort();
      const s = sup();
      const web = (path: string) => Program({ supervisor: s, name: "web", command: serve(port), directory: "/tmp", health: { http: { url: `http://127.0.0.1:${port}${path}` }, retries: 120, interval: 1 }, stableSeconds: 1 });
      const good = bundle([s, web("/")]);
      const first = run(shell, good);
      expect(first.status, first.stdout + first.stderr).toBe(0);
      // Stopped: the next run starts it (config unchanged, nothing owed), and its check waits for a page that never comes.
      expect(ctl(conf, "stop", "web").status).toBe(0);
      const waiting = bundle([s, web("/never")]);
      const state = `/home/app/state-${tag}`;
      const bg = session.execAs("app", ["/bin/sh", "-c", `${shell.argv.join(" ")} ${waiting} --state-dir ${state} </dev/null >/tmp/killed-${tag}.out 2>&1 & echo $!`], { PATH: shell.path });
      const pid = Number(bg.stdout.trim());
      expect(pid, bg.stderr).toBeGreaterThan(1);
      // Until the check is under way (the program is RUNNING and its check has failed a few times).
      for (let i = 0; i < 120 && !/RUNNING/.test(ctl(conf, "status", "web").stdout); i++) await new Promise((r) => setTimeout(r, 250));
      await new Promise((r) => setTimeout(r, 3000));
      expect(session.exec(["kill", "-9", String(pid)]).status).toBe(0);
      // Gone for good (reaped by init): a zombie still holds the lock (kill -0 succeeds on it).
      for (let i = 0; i < 200 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
      expect(session.read(`${state}/owed`)).toContain(`program:${base}/conf.d/web.conf`);
      const next = run(shell, good);
      expect(next.status, next.stdout + next.stderr).toBe(0);
      expect(plain(next.stdout)).toMatch(new RegExp(`changed       program ${base}/conf\\.d/web\\.conf \\(restarted; health passed: \\d+ attempts? in Ns\\)\\n`));
      expect(session.read(`${state}/owed`) ?? "").not.toContain(`program:${base}/conf.d/web.conf`);
      expect(ctl(conf, "stop", "web").status).toBe(0);
    });

    it("a program that answers its health check, then dies, fails its first run: the stability window follows the check", async () => {
      const port = await freePort();
      const s = sup();
      const script = bundle([s, Program({ supervisor: s, name: "brief", command: serveBriefly(port), directory: "/tmp", health: { tcp: { port } } })]);
      const r = run(shell, script);
      expect(r.status, r.stdout + r.stderr).toBe(1);
      // On a loaded machine depc may see it only after it died: then the wait for RUNNING says so.
      expect(plain(r.stdout)).toMatch(
        new RegExp(`failed        program ${base}/conf\\.d/brief\\.conf: brief (did not stay up: it was RUNNING as pid N, then [A-Z]+( as pid N)? within 3s|is [A-Z]+, not RUNNING); its last log lines:\\n`),
      );
      expect(ctl(conf, "stop", "brief").status).toBe(0);
    });
  });
});
