/**
 * The state directory on the host: the lock against concurrent runs (exit 3,
 * stale locks taken over), kept bundles, runs.log, and recovery from kill -9.
 * Real processes under every shell of the matrix: a run blocked in a slow
 * step holds the lock while the test starts a second one.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appliedFromLog, chooseRollback } from "../../tools/deploy/rollback.js";
import { Command, File, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, runScript, type Shell } from "../support/shells.js";
import { buildBundle } from "./bundle.js";
import { type Bundle, hostRoot, leftoverTemps, stateDir, statusLines, writeBundle } from "./helpers.js";

const LOG_LINE =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ([0-9a-f]{64}|-) (apply|check) (converged|failed|interrupted|clean|pending) ok=(\d+) changed=(\d+) failed=(\d+) not_run=(\d+) env=(\S+) host=(\S+) user=(\S+)$/;

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/** Start a bundle in the background (same environment as Bundle.run). */
function start(shell: Shell, bundle: Bundle, args: readonly string[] = []): Running {
  const [cmd, ...lead] = shell.argv as [string, ...string[]];
  const child = spawn(cmd, [...lead, bundle.path, ...args], {
    env: { ...process.env, TMPDIR: bundle.tmp, DEPC_STATE_DIR: bundle.state, ...shell.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  if (child.pid === undefined) throw new Error(`could not start ${shell.name}`);
  return { child, pid: child.pid, exited, stderr: () => err };
}

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A custom step that marks `started` and then waits while `hold` exists. */
function slowStep(started: string, hold: string): string {
  return `  : >'${started}'\n  while [ -e '${hold}' ]; do sleep 0.05; done`;
}

function logLines(state: string): string[] {
  const path = join(state, "runs.log");
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((l) => l !== "") : [];
}

function kept(state: string): string[] {
  const dir = join(state, "bundles");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".sh")).sort() : [];
}

/** Field 22 of /proc/PID/stat (the start time in clock ticks). */
function procStart(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[19] ?? "";
}

describe.each(availableShells())("state directory under $name", (shell) => {
  it("a second run exits 3 at once naming the holder; --check too; the lock goes with the run", async () => {
    const root = hostRoot(shell.name);
    const started = `${root}/started`;
    const hold = `${root}/hold`;
    writeFileSync(hold, "");
    const bundle = writeBundle(root, {
      env: "prod",
      host: "web1",
      resources: [
        { kind: "file", path: `${root}/a.txt`, content: "a\n" },
        { kind: "custom", key: "slow", body: slowStep(started, hold) },
      ],
    });
    const first = start(shell, bundle);
    try {
      await waitFor("the first run's slow step", () => existsSync(started));
      const lock = join(bundle.state, "lock");
      expect(lstatSync(lock).isSymbolicLink()).toBe(true);
      expect(readlinkSync(lock)).toMatch(new RegExp(`^pid=${first.pid} start=\\S+ user=\\S+ since=\\S+Z mode=apply tmp=`));

      const t0 = Date.now();
      const second = bundle.run(shell);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(second.status).toBe(3);
      expect(second.stdout).toBe("");
      expect(second.stderr).toMatch(
        new RegExp(`^depc: prod/web1: another run holds the lock \\S+/lock: pid ${first.pid}, started \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ, user \\S+ \\(apply\\)\\n$`),
      );
      const check = bundle.run(shell, ["--check"]);
      expect(check.status).toBe(3);
      expect(check.stderr).toContain(`pid ${first.pid}`);
      // The refused runs left the holder's lock alone and wrote no log line.
      expect(readlinkSync(lock)).toMatch(new RegExp(`^pid=${first.pid} `));
      expect(logLines(bundle.state)).toEqual([]);
    } finally {
      rmSync(hold, { force: true });
    }
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toBe("");
    expect(existsSync(join(bundle.state, "lock"))).toBe(false);
    expect(existsSync(join(bundle.state, "lock.break"))).toBe(false);
    const again = bundle.run(shell);
    expect(again.status).toBe(0);
    expect(again.stderr).toBe("");
    expect(statusLines(again.stdout)).toEqual(["ok            file " + `${root}/a.txt`, "ok            custom slow"]);
    expect(readdirSync(bundle.tmp)).toEqual([]);
  });

  it("--check takes the lock too: an apply during a check exits 3 naming the check", async () => {
    const root = hostRoot(shell.name);
    const started = `${root}/started`;
    const hold = `${root}/hold`;
    writeFileSync(hold, "");
    const bundle = writeBundle(root, { resources: [{ kind: "custom", key: "slow", body: slowStep(started, hold) }] });
    // Check does not create the state directory: with none, it runs without a lock.
    rmSync(bundle.state, { recursive: true });
    rmSync(hold);
    const fresh = bundle.run(shell, ["--check"]);
    expect(fresh.status).toBe(0);
    expect(existsSync(bundle.state)).toBe(false);
    expect(bundle.run(shell).status).toBe(0);
    expect(statSync(bundle.state).mode & 0o777).toBe(0o700);

    writeFileSync(hold, "");
    rmSync(started);
    const check = start(shell, bundle, ["--check"]);
    try {
      await waitFor("the check's slow step", () => existsSync(started));
      const apply = bundle.run(shell);
      expect(apply.status).toBe(3);
      expect(apply.stderr).toContain(`pid ${check.pid}`);
      expect(apply.stderr).toContain("(check)");
    } finally {
      rmSync(hold, { force: true });
    }
    expect(await check.exited).toBe(0);
    expect(existsSync(join(bundle.state, "lock"))).toBe(false);
    const lines = logLines(bundle.state);
    expect(lines.map((l) => LOG_LINE.exec(l)?.slice(3, 5).join(" "))).toEqual(["apply converged", "check clean"]);
    // A check keeps no bundle (the one kept is the apply's).
    expect(kept(bundle.state)).toEqual([`${sha256(readFileSync(bundle.path))}.sh`]);
  });

  it("kill -9 mid-write: no partial file, a stale lock that the next run takes over, then it converges", async () => {
    const root = hostRoot(shell.name);
    const target = `${root}/app.conf`;
    const started = `${root}/started`;
    const hold = `${root}/hold`;
    const content = "partial\nrest\n";
    writeFileSync(hold, "");
    // The content function stalls half-way while `hold` exists: the temp file
    // next to the target exists by then.
    const bundle = writeBundle(root, {
      resources: [
        { kind: "file", path: `${root}/first.txt`, content: "1\n" },
        {
          kind: "custom",
          key: target,
          body: `  depc_file '${target}' 0644 '' '' '${sha256(content)}' depc_content_slow`,
        },
      ],
      extra: `depc_content_slow() {\n  printf 'partial\\n'\n${slowStep(started, hold)}\n  printf 'rest\\n'\n}`,
    });
    const run = start(shell, bundle);
    try {
      await waitFor("the write to stall", () => existsSync(started));
      expect(leftoverTemps(root)).toHaveLength(1);
      run.child.kill("SIGKILL");
      expect(await run.exited).toBe(null);
      await waitFor("the killed run to be gone", () => !isAlive(run.pid));
    } finally {
      rmSync(hold, { force: true });
    }
    // What kill -9 leaves: the lock (naming a dead pid), the temp file next
    // to the target, the private temp dir. Never a partial target.
    expect(existsSync(target)).toBe(false);
    expect(readlinkSync(join(bundle.state, "lock"))).toMatch(new RegExp(`^pid=${run.pid} `));
    expect(leftoverTemps(root)).toHaveLength(1);
    expect(readdirSync(bundle.tmp)).toHaveLength(1);

    const next = bundle.run(shell);
    expect(next.stderr).toMatch(
      new RegExp(`^depc: test/host1: warning: took over a stale lock: the run that held it \\(pid ${run.pid}, started \\S+Z, user \\S+ \\(apply\\)\\) is gone\\n$`),
    );
    expect(next.status).toBe(0);
    expect(statusLines(next.stdout)).toEqual([`ok            file ${root}/first.txt`, `changed       custom ${target} (created)`]);
    expect(readFileSync(target, "utf8")).toBe(content);
    // The dead run's leftovers are gone, and so is the lock.
    expect(leftoverTemps(root)).toEqual([]);
    expect(readdirSync(bundle.tmp)).toEqual([]);
    expect(existsSync(join(bundle.state, "lock"))).toBe(false);
    // The killed run wrote no log line; the next one did.
    expect(logLines(bundle.state).map((l) => LOG_LINE.exec(l)?.slice(3, 9).join(" "))).toEqual(["apply converged 1 1 0 0"]);

    const third = bundle.run(shell);
    expect(third.status).toBe(0);
    expect(third.stderr).toBe("");
    expect(third.stdout).toContain(": 2 resources: 0 changed, 2 ok, 0 failed");
  });

  it("SIGTERM: the run logs 'interrupted' and releases the lock", async () => {
    const root = hostRoot(shell.name);
    const started = `${root}/started`;
    const hold = `${root}/hold`;
    writeFileSync(hold, "");
    const bundle = writeBundle(root, {
      resources: [
        { kind: "file", path: `${root}/a.txt`, content: "a\n" },
        { kind: "custom", key: "slow", body: slowStep(started, hold) },
        { kind: "file", path: `${root}/b.txt`, content: "b\n" },
      ],
    });
    const run = start(shell, bundle);
    try {
      await waitFor("the slow step", () => existsSync(started));
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(143);
    } finally {
      rmSync(hold, { force: true });
    }
    expect(existsSync(join(bundle.state, "lock"))).toBe(false);
    const [line] = logLines(bundle.state);
    expect(LOG_LINE.exec(line ?? "")?.slice(3, 9).join(" ")).toBe("apply interrupted 0 1 0 2");
    const next = bundle.run(shell);
    expect(next.stderr).toBe("");
    expect(next.status).toBe(0);
  });

  it("a lock is stale when its pid is gone or was reused (other start time), alive otherwise", async () => {
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, { resources: [{ kind: "file", path: `${root}/a.txt`, content: "a\n" }] });
    const lock = join(bundle.state, "lock");
    const since = "2026-01-02T03:04:05Z";
    // A process that is certainly gone: a child that has exited.
    const gone = spawn("true");
    const gonePid = gone.pid ?? 0;
    await new Promise((resolve) => gone.on("close", resolve));
    const cases: [string, string][] = [
      ["gone", `pid=999999999 start=1 user=ghost since=${since} mode=apply tmp=/nonexistent/depc.x`],
      ["exited child", `pid=${gonePid} start=- user=ghost since=${since} mode=apply tmp=/nonexistent/depc.x`],
    ];
    let reaper: ReturnType<typeof spawn> | undefined;
    if (existsSync("/proc/self/stat")) {
      cases.push(["reused pid", `pid=${process.pid} start=${Number(procStart(process.pid)) + 1} user=ghost since=${since} mode=apply tmp=/x`]);
      // A run that was killed but not yet reaped (a slow pid 1, a parent that is busy): a zombie with its
      // own start time. It has exited: its lock is stale. (kill -0 succeeds on a zombie.)
      const pidFile = join(root, "zombie.pid");
      reaper = spawn("/bin/sh", ["-c", `/bin/sh -c 'echo $$ > "$1"' sh '${pidFile}' & exec sleep 30`]);
      await waitFor("the zombie", () => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n") &&
        readFileSync(`/proc/${readFileSync(pidFile, "utf8").trim()}/stat`, "utf8").split(") ")[1]?.startsWith("Z") === true);
      const zombie = Number(readFileSync(pidFile, "utf8").trim());
      cases.push(["zombie", `pid=${zombie} start=${procStart(zombie)} user=ghost since=${since} mode=apply tmp=/x`]);
    }
    for (const [what, info] of cases) {
      symlinkSync(info, lock);
      const r = bundle.run(shell);
      expect(r.status, what).toBe(0);
      expect(r.stderr, what).toMatch(/^depc: test\/host1: warning: took over a stale lock: the run that held it \(pid \d+, started 2026-01-02T03:04:05Z, user ghost \(apply\)\) is gone\n$/);
      expect(existsSync(lock), what).toBe(false);
    }
    reaper?.kill("SIGKILL");
    // A live process with its own start time holds the lock (and so does one
    // recorded where /proc was missing: start=-).
    const live = [`pid=${process.pid} start=- user=other since=${since} mode=apply tmp=/x`];
    if (existsSync("/proc/self/stat")) live.push(`pid=${process.pid} start=${procStart(process.pid)} user=other since=${since} mode=apply tmp=/x`);
    for (const info of live) {
      symlinkSync(info, lock);
      const r = bundle.run(shell);
      expect(r.status).toBe(3);
      expect(r.stderr).toBe(`depc: test/host1: another run holds the lock ${lock}: pid ${process.pid}, started ${since}, user other (apply)\n`);
      expect(readlinkSync(lock)).toBe(info);
      rmSync(lock);
    }
    // Something at the lock's name that is not a lock: an error, not a takeover.
    writeFileSync(lock, "");
    const r = bundle.run(shell);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${lock} exists and is not a depc lock`);
    expect(existsSync(lock)).toBe(true);
  });

  it("keeps the last N applied bundles by recency of use, as <sha256>.sh mode 0600", () => {
    const root = hostRoot(shell.name);
    const state = stateDir();
    const bundles = Array.from({ length: 7 }, (_, i) =>
      writeBundle(root, { resources: [{ kind: "file", path: `${root}/v.txt`, content: `version ${i}\n` }] }, `v${i}.sh`, { state }),
    );
    const digest = (b: Bundle): string => sha256(readFileSync(b.path));
    for (const b of bundles.slice(0, 6)) expect(b.run(shell).status).toBe(0);
    // Six runs, five kept: the first is gone.
    expect(kept(state)).toEqual(bundles.slice(1, 6).map((b) => `${digest(b)}.sh`).sort());
    for (const b of bundles.slice(1, 6)) {
      const file = join(state, "bundles", `${digest(b)}.sh`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(sha256(readFileSync(file))).toBe(digest(b));
    }
    // Re-running the oldest kept bundle makes it the newest: the next new
    // bundle pushes out the one after it instead.
    expect(bundles[1]!.run(shell).status).toBe(0);
    expect(bundles[6]!.run(shell).status).toBe(0);
    expect(kept(state)).toEqual([1, 3, 4, 5, 6].map((i) => `${digest(bundles[i]!)}.sh`).sort());
    expect(readFileSync(join(state, "bundles", ".order"), "utf8")).toBe([3, 4, 5, 1, 6].map((i) => `${digest(bundles[i]!)}\n`).join(""));
    // The bundle applied last, again: nothing is written.
    const lastFile = join(state, "bundles", `${digest(bundles[6]!)}.sh`);
    const before = statSync(lastFile).ino;
    expect(bundles[6]!.run(shell).status).toBe(0);
    expect(statSync(lastFile).ino).toBe(before);
    // --keep 2: down to the two most recent.
    expect(bundles[5]!.run(shell, ["--keep", "2"]).status).toBe(0);
    expect(kept(state)).toEqual([5, 6].map((i) => `${digest(bundles[i]!)}.sh`).sort());
    expect(readdirSync(join(state, "bundles")).filter((f) => f.startsWith(".depc."))).toEqual([]);
    // A check keeps nothing.
    expect(bundles[0]!.run(shell, ["--check"]).status).toBe(2);
    expect(kept(state)).toHaveLength(2);
    // --keep needs a number.
    const bad = bundles[0]!.run(shell, ["--keep", "x"]);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain("option '--keep' needs a number");

    // The deploy client's rollback reads exactly this layout.
    const log = logLines(state);
    const choice = chooseRollback(kept(state), log);
    expect(choice).toEqual({ ok: true, digest: digest(bundles[6]!), current: digest(bundles[5]!) });
    expect(appliedFromLog(log, kept(state).map((f) => f.slice(0, 64))).order.at(-1)).toBe(digest(bundles[5]!));
  });

  it("a bundle that is not a readable file (sh < bundle) runs with a warning and keeps nothing", () => {
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, { resources: [{ kind: "file", path: `${root}/a.txt`, content: "a\n" }] });
    const [cmd, ...lead] = shell.argv as [string, ...string[]];
    const r = spawnSyncShell(cmd, lead, readFileSync(bundle.path), root, { TMPDIR: bundle.tmp, DEPC_STATE_DIR: bundle.state, ...shell.env });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^depc: test\/host1: warning: not keeping a copy of this bundle: \$0 \('.*'\) is not a readable bundle file \(run it as 'sh FILE'\)\n$/);
    expect(kept(bundle.state)).toEqual([]);
    const [line] = logLines(bundle.state);
    expect(LOG_LINE.exec(line ?? "")?.slice(2, 5).join(" ")).toBe("- apply converged");
  });

  it("runs.log: one line per run (apply, check, failure) and at most 1100 lines", () => {
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, {
      env: "prod",
      host: "web1",
      resources: [
        { kind: "file", path: `${root}/a.txt`, content: "a\n" },
        { kind: "file", path: `${root}/missing/b.txt`, content: "b\n" },
        { kind: "file", path: `${root}/c.txt`, content: "c\n" },
      ],
    });
    const hex = sha256(readFileSync(bundle.path));
    expect(bundle.run(shell, ["--check"]).status).toBe(2);
    expect(bundle.run(shell).status).toBe(1);
    expect(bundle.run(shell, ["--check"]).status).toBe(2);
    const lines = logLines(bundle.state);
    expect(lines).toHaveLength(3);
    const user = LOG_LINE.exec(lines[0] ?? "")?.[11];
    expect(lines.map((l) => l.replace(/^\S+Z /, "T "))).toEqual([
      `T ${hex} check pending ok=0 changed=3 failed=0 not_run=0 env=prod host=web1 user=${user}`,
      `T ${hex} apply failed ok=0 changed=1 failed=1 not_run=1 env=prod host=web1 user=${user}`,
      `T ${hex} check pending ok=1 changed=2 failed=0 not_run=0 env=prod host=web1 user=${user}`,
    ]);
    for (const l of lines) expect(l).toMatch(LOG_LINE);
    const time = LOG_LINE.exec(lines[0] ?? "")?.[1] ?? "";
    expect(Math.abs(Date.parse(time) - Date.now())).toBeLessThan(120_000);

    // Bounded: past 1100 lines it is cut to the last 1000.
    const old = Array.from({ length: 1100 }, (_, i) => `2020-01-01T00:00:00Z - apply converged ok=${i} changed=0 failed=0 not_run=0 env=prod host=web1 user=x`);
    writeFileSync(join(bundle.state, "runs.log"), old.join("\n") + "\n");
    bundle.run(shell, ["--check"]);
    let now = logLines(bundle.state);
    expect(now).toHaveLength(1000);
    expect(now[0]).toContain("ok=101 ");
    expect(now.at(-1)).toMatch(/ check pending /);
    bundle.run(shell, ["--check"]);
    now = logLines(bundle.state);
    expect(now).toHaveLength(1001);
    expect(readdirSync(bundle.state).sort()).toEqual(["bundles", "ledger", "runs.log"]);
  });
});

function spawnSyncShell(cmd: string, lead: readonly string[], input: Buffer, cwd: string, env: Record<string, string>) {
  return spawnSync(cmd, [...lead], { input, cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
}

describe.each(availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh"))("a compiled bundle killed with -9 under $name", (shell) => {
  it("mid-Command: the lock is stale, the next run takes it over and converges", async () => {
    const root = hostRoot(`compiled-${shell.name}`);
    const a = File({ path: `${root}/a.conf`, content: "a = 1\n" });
    const slow = Command({ name: "slow", command: ["sleep", "3"], always: true, after: [a] });
    const b = File({ path: `${root}/b.conf`, content: "b = 1\n", after: [slow] });
    const result = compileValue(environment({ hosts: { h: [a, slow, b] } }), "prod");
    const text = result.bundles!.get("h")!;
    const bundle: Bundle = { path: join(root, "..", `${root.split("/").pop()}-h.sh`), state: stateDir(), tmp: hostRoot("tmpdir"), run: (sh, args = []) => runScript(sh, bundle.path, args, { env: { TMPDIR: bundle.tmp, DEPC_STATE_DIR: bundle.state } }) };
    writeFileSync(bundle.path, text, { mode: 0o700 });
    const run = start(shell, bundle);
    await waitFor("the first file", () => existsSync(`${root}/a.conf`));
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill("SIGKILL");
    expect(await run.exited).toBe(null);
    expect(readlinkSync(join(bundle.state, "lock"))).toMatch(new RegExp(`^pid=${run.pid} start=\\S+ user=\\S+ since=\\S+ mode=apply `));
    expect(existsSync(`${root}/b.conf`)).toBe(false);
    // The killed run's bundle was kept before it ran anything.
    expect(kept(bundle.state)).toEqual([`${sha256(text)}.sh`]);

    const next = bundle.run(shell);
    expect(next.stderr).toMatch(new RegExp(`^depc: prod/h: warning: took over a stale lock: the run that held it \\(pid ${run.pid}, .*\\) is gone\\n$`));
    expect(next.status).toBe(0);
    expect(next.stdout).toMatch(/depc: prod\/h: 3 resources: 2 changed, 1 ok, 0 failed\n$/);
    expect(readFileSync(`${root}/b.conf`, "utf8")).toBe("b = 1\n");
    expect(existsSync(join(bundle.state, "lock"))).toBe(false);
    expect(readdirSync(bundle.tmp)).toEqual([]);
    expect(logLines(bundle.state).map((l) => LOG_LINE.exec(l)?.slice(2, 5).join(" "))).toEqual([`${sha256(text)} apply converged`]);
  }, 30_000);
});

// Not busybox: its applet directory (test/support/shells.ts) is private to the test's user.
describe.each(availableShells().filter((s) => s.name === "dash" || s.name === "mksh"))("another user's lock under $name", (shell) => {
  const root = process.getuid?.() === 0;
  it.skipIf(!root)("a live process of another user holds the lock (EPERM is alive); a check that cannot write the lock goes on without it", () => {
    const dir = hostRoot(`other-user-${shell.name}`);
    chmodSync(dir, 0o777);
    const state = join(dir, "state");
    mkdirSync(state, { mode: 0o777 });
    chmodSync(state, 0o777);
    const tmp = join(dir, "tmp");
    mkdirSync(tmp, { mode: 0o777 });
    chmodSync(tmp, 0o777);
    const bundlePath = join(dir, "b.sh");
    writeFileSync(bundlePath, buildBundle({ resources: [{ kind: "file", path: `${dir}/a.txt`, content: "a\n" }] }), { mode: 0o755 });
    const asNobody = (args: string[]) => {
      const [cmd, ...lead] = shell.argv as [string, ...string[]];
      return spawnSync(cmd, [...lead, bundlePath, ...args], {
        cwd: dir,
        uid: 65534,
        gid: 65534,
        env: { ...process.env, HOME: dir, USER: "nobody", TMPDIR: tmp, DEPC_STATE_DIR: state, ...shell.env },
        encoding: "utf8",
        timeout: 60_000,
      });
    };
    // pid 1 belongs to root: kill -0 fails with EPERM for nobody, which means alive.
    const info = `pid=1 start=${procStart(1)} user=root since=2026-01-01T00:00:00Z mode=apply tmp=/x`;
    symlinkSync(info, join(state, "lock"));
    const held = asNobody([]);
    expect(held.stderr).toBe(`depc: test/host1: another run holds the lock ${state}/lock: pid 1, started 2026-01-01T00:00:00Z, user root (apply)\n`);
    expect(held.status).toBe(3);
    rmSync(join(state, "lock"));
    // A state directory nobody cannot write: --check warns and checks without the lock.
    chmodSync(state, 0o755);
    const check = asNobody(["--check"]);
    expect(check.stderr).toMatch(new RegExp(`^depc: test/host1: warning: cannot create the lock ${state}/lock: .*; checking without the lock\\n$`));
    expect(check.status).toBe(2);
    // Apply cannot go on without it.
    const apply = asNobody([]);
    expect(apply.stderr).toMatch(new RegExp(`^depc: test/host1: cannot create the lock ${state}/lock: `));
    expect(apply.status).toBe(1);
    expect(existsSync(`${dir}/a.txt`)).toBe(false);
  });
});
