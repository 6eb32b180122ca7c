/**
 * Removing what left the model (runtime/ledger.sh), on a real
 * filesystem under every shell of the matrix. Bundles come from the
 * compiler's own emitter (compileValue), so the ledger table they carry is
 * the one `depc build` writes.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Command, Directory, File, Symlink, VirtualEnv, component, environment } from "../../model/index.js";
import type { Placeable } from "../../model/component.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, runScript, type Shell } from "../support/shells.js";
import { SYSTEM_PYTHON, pythonUnavailable } from "../python/fixtures.js";

const made: string[] = [];
afterAll(() => {
  if (process.env.DEPC_KEEP_TMP === "1") return;
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function temp(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `depc-rm-${label}-`));
  made.push(dir);
  return dir;
}

interface Host {
  readonly root: string;
  readonly state: string;
  /** Build `items` for host h and run the bundle under the shell. */
  run(items: readonly Placeable[], args?: readonly string[], options?: { removal?: "remove" | "report" }): ReturnType<typeof runScript>;
  ledger(): string;
}

function host(shell: Shell): Host {
  const root = temp("root");
  const state = join(temp("state"), "state");
  const work = temp("work");
  let n = 0;
  return {
    root,
    state,
    run(items, args = [], options = {}) {
      const result = compileValue(environment({ hosts: { h: [...items] }, ...(options.removal ? { removal: options.removal } : {}) }), "prod");
      const path = join(work, `b${++n}.sh`);
      writeFileSync(path, result.bundles!.get("h")!);
      return runScript(shell, path, args, { env: { DEPC_STATE_DIR: state, TMPDIR: work } });
    },
    ledger: () => readFileSync(join(state, "ledger"), "utf8"),
  };
}

const lines = (stdout: string) => stdout.split("\n").filter((l) => /^(ok|changed|would change|failed|removed|would remove|left|kept|not removed) /.test(l));
const notOk = (stdout: string) => lines(stdout).filter((l) => !l.startsWith("ok "));

describe.each(availableShells().map((s) => [s.name, s] as const))("removal under %s", (_name, shell) => {
  it("removes a file, a directory tree and a symlink that left the model, after showing them in --check", () => {
    const h = host(shell);
    const r = h.root;
    const keepFile = File({ path: `${r}/app.ini`, content: "a = 1\n" });
    const tree = [
      Directory({ path: `${r}/t` }),
      Directory({ path: `${r}/t/a` }),
      File({ path: `${r}/t/a/f.txt`, content: "one\ntwo\n" }),
      Symlink({ path: `${r}/link`, target: `${r}/t` }),
    ];
    const first = h.run([keepFile, ...tree]);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);

    const check = h.run([keepFile], ["--check"]);
    expect(check.stderr).toBe("");
    expect(check.status).toBe(2);
    expect(check.stdout).toBe(
      [
        `ok            file ${r}/app.ini`,
        `would remove  symlink ${r}/link`,
        `would remove  file ${r}/t/a/f.txt`,
        `--- ${r}/t/a/f.txt`,
        `+++ ${r}/t/a/f.txt (depc)`,
        "@@ -1,2 +0,0 @@",
        "-one",
        "-two",
        `would remove  directory ${r}/t/a`,
        `would remove  directory ${r}/t`,
        "depc: prod/h (check): 1 resources: 0 would change, 1 ok, 4 would remove",
        "",
      ].join("\n"),
    );
    expect(existsSync(`${r}/t/a/f.txt`)).toBe(true);

    const apply = h.run([keepFile], ["--report", join(h.root, "..", "report.json")]);
    expect(apply.stderr).toBe("");
    expect(apply.status).toBe(0);
    expect(notOk(apply.stdout)).toEqual([
      `removed       symlink ${r}/link`,
      `removed       file ${r}/t/a/f.txt`,
      `removed       directory ${r}/t/a`,
      `removed       directory ${r}/t`,
    ]);
    expect(apply.stdout).toMatch(/depc: prod\/h: 1 resources: 0 changed, 1 ok, 0 failed, 4 removed\n$/);
    expect(readdirSync(r)).toEqual(["app.ini"]);
    const report = readFileSync(join(h.root, "..", "report.json"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(report[1]).toEqual({ removal: true, kind: "symlink", key: `${r}/link`, status: "removed", changes: ["removed"] });
    expect(report.at(-1).summary).toMatchObject({ removed: 4, would_remove: 0, removal_failed: 0, exit: 0 });
    expect(h.ledger()).toBe(`depc-ledger 1\nfile\t${r}/app.ini\t${r}/app.ini\t-\tdepc_file_remove\t${r}/app.ini\t0\ndepc-ledger-end 1\n`);

    const again = h.run([keepFile]);
    expect(again.status).toBe(0);
    expect(notOk(again.stdout)).toEqual([]);
    expect(again.stdout).toMatch(/1 resources: 0 changed, 1 ok, 0 failed\n$/);
  });

  it("keeps a file that moved to another component, and a path that another kind now claims", () => {
    const h = host(shell);
    const r = h.root;
    const one = component({ name: "one", build: () => void File({ path: `${r}/shared.conf`, content: "x\n" }) });
    const two = component({ name: "two", build: () => void File({ path: `${r}/shared.conf`, content: "x\n" }) });
    expect(h.run([one, File({ path: `${r}/was-a-file`, content: "f\n" })]).status).toBe(0);
    rmSync(`${r}/was-a-file`);
    const second = h.run([two, Symlink({ path: `${r}/was-a-file`, target: "/nowhere" })]);
    expect(second.stderr).toBe("");
    expect(second.status).toBe(0);
    expect(notOk(second.stdout)).toEqual([`changed       symlink ${r}/was-a-file (created)`]);
    expect(readFileSync(`${r}/shared.conf`, "utf8")).toBe("x\n");
    expect(lstatSync(`${r}/was-a-file`).isSymbolicLink()).toBe(true);
  });

  it("leaves keep: true resources, directories it did not create, and directories with unmanaged content", () => {
    const h = host(shell);
    const r = h.root;
    mkdirSync(`${r}/pre`);
    const items = [
      File({ path: `${r}/kept.txt`, content: "k\n", keep: true }),
      Directory({ path: `${r}/pre` }),
      Directory({ path: `${r}/logs` }),
    ];
    expect(h.run(items).status).toBe(0);
    writeFileSync(`${r}/logs/app.log`, "x");
    writeFileSync(`${r}/logs/.hidden`, "x");
    const second = h.run([]);
    expect(second.status).toBe(0);
    expect(notOk(second.stdout)).toEqual([
      `left          directory ${r}/logs (not empty: app.log, .hidden)`,
      `left          directory ${r}/pre (it existed before depc managed it)`,
      `kept          file ${r}/kept.txt (keep: true)`,
    ]);
    expect(second.stderr).toBe(`depc: prod/h: warning: directory ${r}/logs left in place: not empty: app.log, .hidden\n`);
    expect(existsSync(`${r}/kept.txt`) && existsSync(`${r}/pre`) && existsSync(`${r}/logs/app.log`)).toBe(true);
    expect(h.ledger()).toBe("depc-ledger 1\ndepc-ledger-end 0\n");
    const third = h.run([]);
    expect(third.stdout).toBe("depc: prod/h: 0 resources: 0 changed, 0 ok, 0 failed\n");
  });

  it("only reports removals in an environment whose removal is report-only, until it is switched on", () => {
    const h = host(shell);
    const r = h.root;
    expect(h.run([File({ path: `${r}/old.txt`, content: "o\n" })]).status).toBe(0);
    const check = h.run([], ["--check"], { removal: "report" });
    expect(check.status).toBe(0);
    const apply = h.run([], [], { removal: "report" });
    expect(apply.stderr).toBe("");
    expect(apply.status).toBe(0);
    const line = `not removed   file ${r}/old.txt (left the model; removal is report-only in environment prod)`;
    expect(notOk(check.stdout)).toEqual([line]);
    expect(notOk(apply.stdout)).toEqual([line]);
    expect(apply.stdout).toMatch(/0 resources: 0 changed, 0 ok, 0 failed, 1 not removed \(report-only\)\n$/);
    expect(existsSync(`${r}/old.txt`)).toBe(true);
    const on = h.run([]);
    expect(notOk(on.stdout)).toEqual([`removed       file ${r}/old.txt`]);
    expect(existsSync(`${r}/old.txt`)).toBe(false);
  });

  it("runs a command's undo when the command leaves the model; a failing undo fails the run and stays pending", () => {
    const h = host(shell);
    const r = h.root;
    const cmd = Command({
      name: "register",
      command: ["sh", "-c", 'printf "%s\\n" "$0" > registered', "on"],
      undo: ["sh", "-c", 'test -e allow || { echo "not yet" >&2; exit 3; }; printf "%s %s\\n" "$0" "$WHO" > unregistered', "off	tab\nnewline \\ back"],
      cwd: r,
      env: { WHO: "me 'quoted'" },
      creates: `${r}/registered`,
    });
    expect(h.run([cmd]).status).toBe(0);
    const failed = h.run([]);
    expect(failed.status).toBe(1);
    expect(notOk(failed.stdout)).toEqual([`failed        command register: sh -c "test -e allow || { echo \\"not yet\\" >&2; exit 3; }; printf \\"%s %s\\\\n\\" \\"$0\\" \\"$WHO\\" > unregistered" "off\\ttab\\nnewline \\\\ back" exited with status 3: not yet`]);
    expect(failed.stdout).toMatch(/0 resources: 0 changed, 0 ok, 0 failed, 1 removal failed\n$/);
    expect(h.ledger()).toContain("depc_command_remove");
    writeFileSync(`${r}/allow`, "");
    const second = h.run([]);
    expect(second.stderr).toBe("");
    expect(second.status).toBe(0);
    expect(notOk(second.stdout)).toHaveLength(1);
    expect(readFileSync(`${r}/unregistered`, "utf8")).toBe("off\ttab\nnewline \\ back me 'quoted'\n");
    expect(h.ledger()).toBe("depc-ledger 1\ndepc-ledger-end 0\n");
  });

  it("removes nothing without a ledger: silently on a first run, with a warning when the state directory was lost", () => {
    const h = host(shell);
    const r = h.root;
    const a = File({ path: `${r}/a.txt`, content: "a\n" });
    const b = File({ path: `${r}/b.txt`, content: "b\n" });
    const first = h.run([a, b]);
    expect(first.stderr).toBe("");
    rmSync(h.state, { recursive: true });
    const lost = h.run([a]);
    expect(lost.status).toBe(0);
    expect(lost.stderr).toBe(
      `depc: prod/h: warning: the state directory ${h.state} is new, but 1 of this bundle's files are already in place with their exact content: if it was lost, what earlier runs put on this host and the model no longer declares is not removed (depc does not guess); from now on depc keeps track\n`,
    );
    expect(existsSync(`${r}/b.txt`)).toBe(true);
    rmSync(join(h.state, "ledger"));
    const upgraded = h.run([]);
    expect(upgraded.stderr).toBe(
      `depc: prod/h: warning: no ledger in ${h.state} yet (its runs were made by an older depc, or it was deleted): nothing that left the model is removed by this run; from now on depc keeps track\n`,
    );
    expect(existsSync(`${r}/a.txt`)).toBe(true);
  });

  it("refuses a ledger from another version or a damaged one, naming the host and the file, and changes nothing", () => {
    const h = host(shell);
    const r = h.root;
    const f = File({ path: `${r}/a.txt`, content: "a\n" });
    expect(h.run([f]).status).toBe(0);
    const ledger = join(h.state, "ledger");
    writeFileSync(ledger, "depc-ledger 2\nwhatever\n");
    const other = h.run([]);
    expect(other.status).toBe(1);
    expect(other.stdout).toBe("");
    expect(other.stderr).toBe(
      `depc: prod/h: the ledger ${ledger} was written by another depc version (it starts with 'depc-ledger 2'); nothing was changed (deploy with that version, or move the file away to deploy without removing anything)\n`,
    );
    writeFileSync(ledger, `depc-ledger 1\nfile\t${r}/a.txt\t${r}/a.txt\t-\tdepc_file_remove\t${r}/a.txt\t0\n`);
    const cut = h.run([]);
    expect(cut.status).toBe(1);
    expect(cut.stderr).toBe(`depc: prod/h: the ledger ${ledger} is damaged (it has no end line (cut short?)); nothing was changed (move it away to deploy without removing anything)\n`);
    writeFileSync(ledger, `depc-ledger 1\nfile\t${r}/a.txt\t${r}/a.txt\t-\trm -rf /\t${r}/a.txt\ndepc-ledger-end 1\n`);
    const evil = h.run([], ["--check"]);
    expect(evil.status).toBe(1);
    expect(evil.stderr).toBe(`depc: prod/h: the ledger ${ledger} is damaged (line 2 is not a ledger entry); nothing was changed (move it away to deploy without removing anything)\n`);
    expect(readFileSync(`${r}/a.txt`, "utf8")).toBe("a\n");
  });

  it("never follows a symbolic link out of a managed path", () => {
    const h = host(shell);
    const r = h.root;
    const outside = temp("outside");
    writeFileSync(`${outside}/precious`, "p\n");
    expect(h.run([Directory({ path: `${r}/d` }), File({ path: `${r}/d/precious`, content: "p\n" })]).status).toBe(0);
    // Someone replaced the directory by a link to elsewhere.
    rmSync(`${r}/d`, { recursive: true });
    symlinkSync(outside, `${r}/d`);
    const run = h.run([]);
    expect(run.status).toBe(0);
    expect(notOk(run.stdout)).toEqual([
      `left          file ${r}/d/precious (a symbolic link is on the way: ${r}/d is ${outside})`,
      `left          directory ${r}/d (it is no longer a directory)`,
    ]);
    expect(readFileSync(`${outside}/precious`, "utf8")).toBe("p\n");
  });
});

const noPython = pythonUnavailable(false);
describe.runIf(noPython === undefined).each(availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh").map((s) => [s.name, s] as const))(
  "removing a virtualenv under %s (Debian's python3 -m venv)",
  (_name, shell) => {
    it("removes the virtualenv's directory, but not one that holds a declared path", () => {
      const h = host(shell);
      const r = h.root;
      const venv = VirtualEnv({ path: `${r}/venv`, python: SYSTEM_PYTHON });
      const first = h.run([venv, VirtualEnv({ path: `${r}/venv2`, python: SYSTEM_PYTHON })]);
      expect(first.status, first.stdout + first.stderr).toBe(0);
      expect(existsSync(`${r}/venv/bin/python`)).toBe(true);
      const second = h.run([File({ path: `${r}/venv2/notes.txt`, content: "mine\n" })]);
      expect(second.status, second.stdout + second.stderr).toBe(0);
      expect(notOk(second.stdout)).toEqual([
        `changed       file ${r}/venv2/notes.txt (created)`,
        `left          virtualenv ${r}/venv2 (the model declares ${r}/venv2/notes.txt)`,
        `removed       virtualenv ${r}/venv`,
      ]);
      expect(existsSync(`${r}/venv`)).toBe(false);
      expect(existsSync(`${r}/venv2/pyvenv.cfg`)).toBe(true);
    }, 300_000);
  },
);

describe.each(availableShells().map((s) => [s.name, s] as const))("kill -9 during removals under %s", (_name, shell) => {
  it("converges on the rerun with nothing left over, wherever the kill lands", async () => {
    const { spawn } = await import("node:child_process");
    const setup = () => {
      const h = host(shell);
      const r = h.root;
      const items = [Directory({ path: `${r}/many` }), ...Array.from({ length: 50 }, (_, i) => File({ path: `${r}/many/f${i}.txt`, content: `${i}\n` }))];
      expect(h.run(items).status).toBe(0);
      const result = compileValue(environment({ hosts: { h: [File({ path: `${r}/stay.txt`, content: "s\n" })] } }), "prod");
      const path = join(h.root, "..", `${r.split("/").pop()}-kill.sh`);
      writeFileSync(path, result.bundles!.get("h")!);
      made.push(path);
      return { h, r, path };
    };
    // How long the removing run takes here: kills land anywhere in it.
    const calibration = setup();
    const t0 = performance.now();
    expect(runScript(shell, calibration.path, [], { env: { DEPC_STATE_DIR: calibration.h.state } }).status).toBe(0);
    const duration = performance.now() - t0;
    const trials = shell.name === "dash" || shell.name === "busybox sh" ? 10 : 4;
    let midRemoval = 0;
    for (let trial = 0; trial < trials; trial++) {
      const { h, r, path } = setup();
      const [command, ...leading] = shell.argv;
      const child = spawn(command!, [...leading, path], { env: { ...process.env, DEPC_STATE_DIR: h.state, ...shell.env }, stdio: "ignore", detached: true });
      const exited = new Promise((resolve) => child.on("exit", resolve));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * duration * 1.1));
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* it had finished */
      }
      await exited;
      const entries = Number(/depc-ledger-end (\d+)/.exec(h.ledger())?.[1] ?? "-1");
      // The kill may land after `many` itself went and before the ledger says so.
      if (entries > 1 && entries < 52 && (!existsSync(`${r}/many`) || readdirSync(`${r}/many`).length < 50)) midRemoval++;
      const rerun = runScript(shell, path, [], { env: { DEPC_STATE_DIR: h.state } });
      expect(rerun.status, rerun.stdout + rerun.stderr).toBe(0);
      // A kill inside stay.txt's own write can leave its temp file (.depc.*): the
      // resource side's business (temp-file leftovers), not the removals'.
      expect(readdirSync(r).filter((n) => !n.startsWith(".depc."))).toEqual(["stay.txt"]);
      expect(h.ledger()).toBe(`depc-ledger 1\nfile\t${r}/stay.txt\t${r}/stay.txt\t-\tdepc_file_remove\t${r}/stay.txt\t0\ndepc-ledger-end 1\n`);
      expect(readdirSync(h.state).filter((n) => n.startsWith("ledger."))).toEqual([]);
    }
    console.log(`kill -9 under ${shell.name}: ${trials} trials, ${midRemoval} landed among the removals (a run takes ${Math.round(duration)} ms)`);
  }, 300_000);
});

