import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Directory, File, Program, Supervisor, environment, type Argv, type Placeable } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Sandbox } from "../support/sandbox.js";
import { requireTool, which } from "../support/shells.js";
import { Session, freePort, httpGet } from "./session.js";

// Supervisor and Program against a real supervisord (Debian's `supervisor`
// package), in a sandbox that persists across runs (an overlay of this
// machine's `/` in a private mount namespace): the deployment-owned
// flavour run by a non-root user made with useradd, and the system flavour
// run by root. Programs are real HTTP servers, checked from here.

const why = Sandbox.unavailable();
if (why !== undefined && process.env.CI === "true") throw new Error(`supervisor tests: sandbox ${why} (CI=true)`);
const ready = why === undefined && requireTool("supervisord") && requireTool("nsenter") && requireTool("setpriv") && requireTool("busybox") && requireTool("dash");
if (why !== undefined) console.warn(`depc tests: skipping supervisor tests: sandbox ${why}`);

/** The shells of the matrix, as the sandbox runs them; busybox with only its applets on PATH. */
interface SandboxShell {
  readonly name: string;
  readonly argv: readonly string[];
  readonly path: string;
}
const SHELLS: readonly [SandboxShell, SandboxShell] = [
  { name: "dash", argv: [which("dash") ?? "dash"], path: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
  { name: "busybox sh", argv: [which("busybox") ?? "busybox", "sh"], path: "/opt/bb" },
];

const PY = "/usr/bin/python3";
const serve = (port: number): Argv => [PY, "-m", "http.server", String(port), "--bind", "127.0.0.1"];

describe.runIf(ready)("Supervisor on a real supervisord", () => {
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

  /** Writes the bundle of `hostResources` and returns its path inside the sandbox. */
  function bundle(hostResources: readonly Placeable[]): string {
    const text = compileValue(environment({ hosts: { h: [...hostResources] } })).bundles!.get("h")!;
    const name = `b${++bundleCount}.sh`;
    writeFileSync(join(session.shared, name), text, { mode: 0o755 });
    return `/depc-test/${name}`;
  }

  function apply(shell: SandboxShell, user: string | undefined, script: string, ...args: string[]) {
    const argv = [...shell.argv, script, ...args];
    const env = { PATH: shell.path };
    return user === undefined ? session.exec(argv, env) : session.execAs(user, argv, env);
  }

  const uidOf = (user: string) => Number(session.exec(["id", "-u", user]).stdout.trim());
  const ctl = (conf: string, ...args: string[]) => session.exec(["supervisorctl", "-c", conf, ...args]);
  const pidOf = (conf: string, name: string) => Number(ctl(conf, "pid", name).stdout.trim());

  describe.each(SHELLS.map((s) => [s.name, s] as const))("deployment-owned supervisord as user 'app' under %s", (_name, shell) => {
    const tag = shell.name === "dash" ? "dash" : "bb";
    const base = `/home/app/sv-${tag}`;
    const conf = `${base}/supervisord.conf`;
    const www = `/home/app/www-${tag}`;
    let port = 0;
    const model = (p: number, page: string) => {
      const sup = Supervisor({ flavour: "user", base, bin: "/usr/bin" });
      const dir = Directory({ path: www });
      const index = File({ path: `${www}/index.html`, content: page });
      const web = Program({ supervisor: sup, name: "web", command: serve(p), directory: www, whenChanged: [index] });
      return [sup, dir, index, web];
    };

    it("first apply starts supervisord and the program, which serves HTTP; second apply changes nothing", async () => {
      pidfiles.push(`${base}/supervisord.pid`);
      port = await freePort();
      const script = bundle(model(port, "hello\n"));

      const check = apply(shell, "app", script, "--check");
      expect(check.status, check.stdout + check.stderr).toBe(2);
      expect(check.stdout).toContain(`would change  supervisor ${base} (created ${base}, config created, supervisord started)`);
      expect(check.stdout).toContain(`would change  program ${base}/conf.d/web.conf (config created, reread/update)`);
      expect(check.stdout).toContain(`+command = ${PY} -m http.server ${port} --bind 127.0.0.1`);
      expect(session.read(base)).toBeUndefined();

      const t0 = Date.now();
      const first = apply(shell, "app", script);
      const firstMs = Date.now() - t0;
      expect(first.status, first.stdout + first.stderr).toBe(0);
      expect(first.stdout).toContain(`changed       supervisor ${base} (created ${base}, config created, supervisord started)`);
      expect(first.stdout).toContain(`changed       program ${base}/conf.d/web.conf (config created, started)`);
      expect(await httpGet(port)).toBe("hello\n");
      // supervisord and the program run as app, not root.
      const daemon = Number(session.read(`${base}/supervisord.pid`)!.trim());
      const app = uidOf("app");
      expect([uidOfProcess(daemon), uidOfProcess(pidOf(conf, "web"))]).toEqual([app, app]);

      const pid = pidOf(conf, "web");
      const t1 = Date.now();
      const second = apply(shell, "app", script);
      const secondMs = Date.now() - t1;
      expect(second.status, second.stdout + second.stderr).toBe(0);
      expect(second.stdout).toContain("depc: test/h: 4 resources: 0 changed, 4 ok, 0 failed");
      expect(pidOf(conf, "web")).toBe(pid);
      const quiet = apply(shell, "app", script, "--check");
      expect(quiet.status, quiet.stdout).toBe(0);
      console.log(`supervisor (${shell.name}, user): first apply ${firstMs} ms, second ${secondMs} ms`);
    });

    it("a changed config (port) restarts the program exactly once; --check first reports it without doing it", async () => {
      const before = pidOf(conf, "web");
      const newPort = await freePort();
      const script = bundle(model(newPort, "hello\n"));
      const check = apply(shell, "app", script, "--check");
      expect(check.status, check.stdout + check.stderr).toBe(2);
      expect(check.stdout).toContain(`would change  program ${base}/conf.d/web.conf (config content, reread/update)`);
      expect(check.stdout).toContain(`-command = ${PY} -m http.server ${port} --bind 127.0.0.1\n+command = ${PY} -m http.server ${newPort} --bind 127.0.0.1`);
      expect(pidOf(conf, "web")).toBe(before);

      const applied = apply(shell, "app", script);
      expect(applied.status, applied.stdout + applied.stderr).toBe(0);
      expect(applied.stdout).toContain(`changed       program ${base}/conf.d/web.conf (config content, restarted)`);
      const after = pidOf(conf, "web");
      expect(after).not.toBe(before);
      expect(await httpGet(newPort)).toBe("hello\n");
      expect(await httpGet(port)).toBeUndefined();

      const again = apply(shell, "app", script);
      expect(again.stdout).toContain("0 changed, 4 ok");
      expect(pidOf(conf, "web")).toBe(after);
      // One start per config: the log shows two servers so far (first port, new port).
      expect(session.read(`${base}/logs/web.log`)!.match(/Serving HTTP/g)).toHaveLength(2);
      port = newPort;
    });

    it("a change in whenChanged restarts it once; a stopped program is started again", async () => {
      const before = pidOf(conf, "web");
      const script = bundle(model(port, "hello again\n"));
      const check = apply(shell, "app", script, "--check");
      expect(check.stdout).toContain(`would change  program ${base}/conf.d/web.conf (restart (notified))`);
      expect(pidOf(conf, "web")).toBe(before);
      const applied = apply(shell, "app", script);
      expect(applied.status, applied.stdout + applied.stderr).toBe(0);
      expect(applied.stdout).toContain(`changed       file ${www}/index.html (content)`);
      expect(applied.stdout).toContain(`changed       program ${base}/conf.d/web.conf (restarted)`);
      const after = pidOf(conf, "web");
      expect(after).not.toBe(before);
      expect(await httpGet(port)).toBe("hello again\n");
      expect(session.read(`${base}/logs/web.log`)!.match(/Serving HTTP/g)).toHaveLength(3);

      expect(ctl(conf, "stop", "web").status).toBe(0);
      const restarted = apply(shell, "app", script);
      expect(restarted.stdout).toContain(`changed       program ${base}/conf.d/web.conf (started)`);
      expect(await httpGet(port)).toBe("hello again\n");
    });

    it("a renamed program takes over the port: the old one is stopped and removed first, no 'Address already in use'", async () => {
      const old = pidOf(conf, "web");
      const sup = Supervisor({ flavour: "user", base, bin: "/usr/bin" });
      const dir = Directory({ path: www });
      const index = File({ path: `${www}/index.html`, content: "renamed\n" });
      const web2 = Program({ supervisor: sup, name: "web2", command: serve(port), directory: www, whenChanged: [index] });
      const script = bundle([sup, dir, index, web2]);
      const check = apply(shell, "app", script, "--check");
      expect(check.status, check.stdout + check.stderr).toBe(2);
      expect(check.stdout).toContain(`would remove  program ${base}/conf.d/web.conf (stopped, config removed)\n`);
      expect(pidOf(conf, "web")).toBe(old);
      const applied = apply(shell, "app", script);
      expect(applied.status, applied.stdout + applied.stderr).toBe(0);
      // Removed before the resources run, so its port is free for web2.
      expect(applied.stdout.indexOf(`removed       program ${base}/conf.d/web.conf (stopped, config removed)`)).toBe(0);
      expect(applied.stdout).toContain(`changed       program ${base}/conf.d/web2.conf (config created, started)`);
      expect(await httpGet(port)).toBe("renamed\n");
      expect(session.exec(["test", "-e", `${base}/conf.d/web.conf`]).status).toBe(1);
      expect(ctl(conf, "status", "web").stdout).toMatch(/no such process/);
      expect(session.read(`${base}/logs/web2.log`) ?? "").not.toMatch(/Address already in use/);
      const again = apply(shell, "app", script);
      expect(again.stdout).toContain("0 changed, 4 ok, 0 failed\n");
    });

    it("the whole supervisor leaving the model: its programs stopped, supervisord shut down, its base removed", async () => {
      const script = bundle([Directory({ path: www }), File({ path: `${www}/index.html`, content: "renamed\n" })]);
      const applied = apply(shell, "app", script);
      expect(applied.status, applied.stdout + applied.stderr).toBe(0);
      expect(applied.stdout).toContain(`removed       program ${base}/conf.d/web2.conf (stopped, config removed)\n`);
      expect(applied.stdout).toContain(`removed       supervisor ${base}\n`);
      expect(session.exec(["test", "-e", base]).status).toBe(1);
      expect(await httpGet(port)).toBeUndefined();
    });
  });

  it("a stopped deployment-owned supervisord is started again, with its programs", async () => {
    const base = "/home/app/sv-restart";
    pidfiles.push(`${base}/supervisord.pid`);
    const port = await freePort();
    const sup = Supervisor({ flavour: "user", base, bin: "/usr/bin" });
    const script = bundle([sup, Program({ supervisor: sup, name: "web", command: serve(port) })]);
    expect(apply(SHELLS[0], "app", script).status).toBe(0);
    expect(await httpGet(port)).toBeDefined();
    await session.stopDaemon(`${base}/supervisord.pid`);
    expect(await httpGet(port)).toBeUndefined();
    const again = apply(SHELLS[0], "app", script);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(`changed       supervisor ${base} (supervisord started)`);
    expect(again.stdout).toContain(`ok            program ${base}/conf.d/web.conf`);
    expect(await httpGet(port)).toBeDefined();
  });

  it("argv words and environment values reach the program exactly (quotes, ';', '#', '%', spaces, unicode)", async () => {
    const base = "/home/app/sv-quote";
    pidfiles.push(`${base}/supervisord.pid`);
    const words = ["a ;b", "#c", "d#e", "100%", "%(here)s", "it's", '"q"', " sp ", "", "tab\there", "ü €", "back\\slash", "$HOME", "`x`"];
    const env = { A: "x;y,z#w", B: "it's 100%", C: 'say "hi" now', D: "a,b=c", E: "" };
    const sup = Supervisor({ flavour: "user", base, bin: "/usr/bin" });
    const script = bundle([
      sup,
      Program({
        supervisor: sup,
        name: "echo",
        command: [PY, "-c", "import json,os,sys,time; print(json.dumps([sys.argv[1:], {k: os.environ.get(k) for k in 'ABCDE'}]), flush=True); time.sleep(600)", ...words],
        environment: env,
      }),
    ]);
    const first = apply(SHELLS[1], "app", script);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    const line = session.read(`${base}/logs/echo.log`)!.split("\n")[0]!;
    expect(JSON.parse(line)).toEqual([words, env]);
    expect(apply(SHELLS[1], "app", script).stdout).toContain("0 changed, 2 ok");
  });

  it("a program that does not stay up fails the run with its last log lines; the restart stays owed", async () => {
    const base = "/home/app/sv-fail";
    pidfiles.push(`${base}/supervisord.pid`);
    const sup = Supervisor({ flavour: "user", base, bin: "/usr/bin" });
    const script = bundle([
      sup,
      Program({ supervisor: sup, name: "crash", command: [PY, "-c", "print('boom: no database', flush=True); raise SystemExit(3)"], options: { startretries: 0 } }),
    ]);
    const run = apply(SHELLS[0], "app", script);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/failed        program \/home\/app\/sv-fail\/conf\.d\/crash\.conf: crash is FATAL, not RUNNING; its last log lines:\n    boom: no database\n/);
    expect(session.read("/home/app/.local/state/depc/test/owed")).toContain(`program:${base}/conf.d/crash.conf`);
    const check = apply(SHELLS[0], "app", script, "--check");
    expect(check.stdout).toContain(`would change  program ${base}/conf.d/crash.conf (restart (notified))`);
  });

  it("a program whose command does not exist fails with supervisord's own reason, not 'ERROR (no log file)'", async () => {
    const base = "/home/app/sv-nocmd";
    pidfiles.push(`${base}/supervisord.pid`);
    const sup = Supervisor({ flavour: "user", base, bin: "/usr/bin" });
    const script = bundle([sup, Program({ supervisor: sup, name: "ghost", command: ["/opt/none/bin/ghost", "--serve"], options: { startretries: 0 } })]);
    const run = apply(SHELLS[0], "app", script);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`failed        program ${base}/conf.d/ghost.conf: ghost is FATAL, not RUNNING; supervisord says:\n    can't find command '/opt/none/bin/ghost'\n`);
    expect(run.stderr).toContain(`program ${base}/conf.d/ghost.conf: ghost is FATAL, not RUNNING; supervisord says: can't find command '/opt/none/bin/ghost'\n`);
    expect(run.stdout + run.stderr).not.toContain("no log file");
  });

  // The rest of the shell matrix: converge, then nothing to do.
  const OTHERS = [
    { name: "bash --posix", argv: [which("bash") ?? "bash", "--posix"], path: SHELLS[0].path },
    { name: "mksh", argv: [which("mksh") ?? "mksh"], path: SHELLS[0].path },
    { name: "yash", argv: [which("yash") ?? "yash"], path: SHELLS[0].path },
    { name: "posh", argv: [which("posh") ?? "posh"], path: SHELLS[0].path },
  ].filter((s) => requireTool(s.argv[0]!.split("/").pop()!));
  it.each(OTHERS.map((s) => [s.name, s] as const))("converges under %s as user 'app'; a second apply and --check have nothing to do", async (_name, shell) => {
    const tag = shell.name.split(" ")[0]!;
    const base = `/home/app/sv-${tag}`;
    pidfiles.push(`${base}/supervisord.pid`);
    const port = await freePort();
    const sup = Supervisor({ flavour: "user", base, bin: "/usr/bin" });
    const script = bundle([sup, Program({ supervisor: sup, name: "web", command: serve(port) })]);
    const first = apply(shell, "app", script);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(`changed       program ${base}/conf.d/web.conf (config created, started)`);
    expect(await httpGet(port)).toBeDefined();
    const pid = pidOf(`${base}/supervisord.conf`, "web");
    expect(apply(shell, "app", script).stdout).toContain("0 changed, 2 ok");
    expect(apply(shell, "app", script, "--check").status).toBe(0);
    expect(pidOf(`${base}/supervisord.conf`, "web")).toBe(pid);
  });

  describe.each(SHELLS.map((s) => [s.name, s] as const))("the system supervisord (root) under %s", (_name, shell) => {
    const conf = "/etc/supervisor/supervisord.conf";
    const name = shell.name === "dash" ? "web-dash" : "web-bb";
    const www = `/srv/${name}`;
    const model = (p: number, page: string) => {
      const sup = Supervisor({ flavour: "system", bin: "/usr/bin" });
      const index = File({ path: `${www}/index.html`, content: page });
      const web = Program({ supervisor: sup, name, command: serve(p), directory: www, user: "www-data", whenChanged: [index], stopasgroup: true });
      return [sup, Directory({ path: www }), index, web];
    };

    beforeAll(() => {
      // The distribution's service, started as its init script would (once for both shells).
      if (session.exec(["supervisorctl", "-c", conf, "pid"]).status === 0) return;
      pidfiles.push("/run/supervisord.pid");
      const started = session.exec(["supervisord", "-c", conf]);
      expect(started.status, started.stderr).toBe(0);
      for (let i = 0; i < 100 && session.exec(["supervisorctl", "-c", conf, "pid"]).status !== 0; i++) pause100ms();
    });

    it("installs the program in /etc/supervisor/conf.d, serves HTTP as www-data, converges, restarts once per change", async () => {
      const port = await freePort();
      const script = bundle(model(port, "system\n"));
      const check = apply(shell, undefined, script, "--check");
      expect(check.status, check.stdout + check.stderr).toBe(2);
      expect(check.stdout).toContain(`ok            supervisor /etc/supervisor/conf.d\n`);
      expect(check.stdout).toContain(`would change  program /etc/supervisor/conf.d/${name}.conf (config created, reread/update)`);

      const first = apply(shell, undefined, script);
      expect(first.status, first.stdout + first.stderr).toBe(0);
      expect(first.stdout).toContain(`changed       program /etc/supervisor/conf.d/${name}.conf (config created, started)`);
      expect(await httpGet(port)).toBe("system\n");
      const pid = pidOf(conf, name);
      expect(uidOfProcess(pid)).toBe(uidOf("www-data"));
      expect(session.exec(["stat", "-c", "%a %U", `/etc/supervisor/conf.d/${name}.conf`]).stdout.trim()).toBe("600 root");

      const second = apply(shell, undefined, script);
      expect(second.stdout).toContain("0 changed, 4 ok");
      expect(pidOf(conf, name)).toBe(pid);

      const newPort = await freePort();
      const changed = bundle(model(newPort, "system 2\n"));
      const both = apply(shell, undefined, changed);
      expect(both.status, both.stdout + both.stderr).toBe(0);
      // The page and the config changed: one restart (by update), not two.
      expect(both.stdout).toContain(`changed       program /etc/supervisor/conf.d/${name}.conf (config content, restarted)`);
      const after = pidOf(conf, name);
      expect(after).not.toBe(pid);
      expect(await httpGet(newPort)).toBe("system 2\n");
      const log = session.exec(["sh", "-c", `cat /var/log/supervisor/${name}-stdout---supervisor-*.log`]).stdout;
      expect(log.match(/Serving HTTP/g)).toHaveLength(2);
      expect(apply(shell, undefined, changed).stdout).toContain("0 changed, 4 ok");
      expect(pidOf(conf, name)).toBe(after);
    });
  });

  it("missing supervisor tools fail --check and apply alike, naming the tool and the host", () => {
    const sup = Supervisor({ flavour: "user", base: "/home/app/sv-missing", bin: "/opt/none" });
    const script = bundle([sup]);
    for (const args of [["--check"], []]) {
      const run = apply(SHELLS[1], "app", script, ...args);
      expect(run.status, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toContain("failed        supervisor /home/app/sv-missing: '/opt/none/supervisorctl' not found on host h (PATH=/opt/bb); install supervisor or give the Supervisor's bin\n");
    }
    expect(session.read("/home/app/sv-missing")).toBeUndefined();
  });

  it("the system flavour fails clearly when the system supervisord is not running", () => {
    const sup = Supervisor({ flavour: "system", config: "/etc/supervisor/none.conf", bin: "/usr/bin" });
    const script = bundle([sup]);
    const run = apply(SHELLS[0], undefined, script);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      "failed        supervisor /etc/supervisor/conf.d: the system supervisord is not running or not reachable (supervisorctl -c /etc/supervisor/none.conf pid); start it with the host's service manager",
    );
  });
});

function pause100ms(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
}

/** The real uid of a process (the sandbox shares the machine's pid namespace). */
function uidOfProcess(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("Uid:"));
  return Number(line!.split(/\s+/)[1]);
}
