/**
 * kill -9 at random points across a whole run (issue 13, findings 2 and 7).
 * A compiled bundle (files, a link, reactions with whenChanged) is started
 * and its whole process group is killed after a random delay spread over the
 * time a full run takes; the next run must converge, every reaction owed by
 * a change must have run at least once, and no temp file may be left next to
 * a target, in the state directory or in TMPDIR.
 * Trials run in parallel, each in its own sandbox; dash and busybox sh.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Command, Directory, File, Symlink, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, type Shell } from "../support/shells.js";
import { leftoverTemps } from "./helpers.js";

const TRIALS = Number(process.env.DEPC_CRASH_TRIALS ?? 200);
const PARALLEL = 4;

const base = mkdtempSync(join(tmpdir(), "depc-crash-"));
afterAll(() => {
  if (process.env.DEPC_KEEP_TMP !== "1") rmSync(base, { recursive: true, force: true });
});

/** One trial's host: its root, state dir and TMPDIR, and the bundle (built for that root). */
interface Sandbox {
  readonly root: string;
  readonly state: string;
  readonly tmp: string;
  readonly bundle: string;
}

function sandbox(label: string): Sandbox {
  const dir = mkdtempSync(join(base, `${label.replace(/[^a-z0-9]+/gi, "-")}-`));
  const root = join(dir, "srv");
  const state = join(dir, "state");
  const tmp = join(dir, "tmp");
  mkdirSync(tmp);
  const page = File({ path: `${root}/releases/1/index.html`, content: "<p>hello</p>\n" });
  const conf = File({ path: `${root}/app.ini`, mode: 0o640, content: "[app]\nport = 8080\n" });
  const log = (name: string) =>
    Command({ name, command: ["sh", "-c", 'printf "%s\\n" "$1" >> "$2"', name, name, `${root}/reactions.log`], whenChanged: name === "on-page" ? [page] : [conf] });
  const env = environment({
    hosts: {
      h: [
        Directory({ path: root }),
        Directory({ path: `${root}/releases/1` }),
        page,
        conf,
        Symlink({ path: `${root}/current`, target: "releases/1" }),
        log("on-page"),
        log("on-conf"),
      ],
    },
  });
  const bundle = join(dir, "h.sh");
  writeFileSync(bundle, compileValue(env, "prod").bundles!.get("h")!, { mode: 0o700 });
  return { root, state, tmp, bundle };
}

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the bundle in its own process group; with killAfterMs, kill -9 the group then. */
function run(shell: Shell, box: Sandbox, killAfterMs?: number): Promise<Exit> {
  const [cmd, ...lead] = shell.argv as [string, ...string[]];
  const child: ChildProcess = spawn(cmd, [...lead, box.bundle], {
    env: { ...process.env, TMPDIR: box.tmp, DEPC_STATE_DIR: box.state, ...shell.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  if (killAfterMs !== undefined) {
    timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, killAfterMs);
  }
  return new Promise((resolve) =>
    child.on("close", (code) => {
      if (timer !== undefined) clearTimeout(timer);
      // Whatever the group left running is killed too (a host that lost power).
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Every entry under `dir` that a depc run made as a temp file or dir. */
function leftovers(box: Sandbox): string[] {
  const found = existsSync(box.root) ? leftoverTemps(box.root) : [];
  if (existsSync(box.state)) found.push(...leftoverTemps(box.state), ...readdirSync(box.state).filter((n) => n.endsWith(".new") || n === "lock.break").map((n) => join(box.state, n)));
  found.push(...readdirSync(box.tmp).map((n) => join(box.tmp, n)));
  return found;
}

describe.each(availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh"))("kill -9 at random points under $name", (shell) => {
  it(`${TRIALS} trials: the next run converges, every owed reaction runs, no temp file is left`, async () => {
    // How long a whole first run takes here: the kills are spread over it.
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const box = sandbox(`${shell.name}-calibrate`);
      const t0 = performance.now();
      const r = await run(shell, box);
      times.push(performance.now() - t0);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(`${box.root}/reactions.log`, "utf8")).toBe("on-page\non-conf\n");
    }
    const span = Math.max(...times) * 1.1;
    const failures: string[] = [];
    let killedMidway = 0;
    const trial = async (n: number) => {
      const box = sandbox(`${shell.name}-${n}`);
      const delay = Math.random() * span;
      const first = await run(shell, box, delay);
      if (first.code === null) killedMidway++;
      const second = await run(shell, box);
      const what = `trial ${n} (killed after ${delay.toFixed(1)} ms${first.code === null ? "" : `, but it had exited ${first.code}`})`;
      if (second.code !== 0) {
        failures.push(`${what}: the next run exited ${second.code}: ${second.stderr}`);
        return;
      }
      const log = existsSync(`${box.root}/reactions.log`) ? readFileSync(`${box.root}/reactions.log`, "utf8").split("\n") : [];
      for (const reaction of ["on-page", "on-conf"]) {
        if (!log.includes(reaction)) failures.push(`${what}: the reaction ${reaction} never ran (log: ${JSON.stringify(log)})`);
      }
      const left = leftovers(box);
      if (left.length > 0) failures.push(`${what}: left ${left.join(", ")}`);
      if (readFileSync(`${box.root}/current/index.html`, "utf8") !== "<p>hello</p>\n") failures.push(`${what}: wrong content`);
      rmSync(join(box.root, ".."), { recursive: true, force: true });
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < TRIALS) await trial(next++);
      }),
    );
    expect(failures).toEqual([]);
    // The delays spread over the run: most trials were killed, some not at all.
    expect(killedMidway).toBeGreaterThan(TRIALS / 2);
  }, 300_000);
});

describe.each(availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh"))("kill -9 between mktemp and its output under $name", (shell) => {
  it("the temp file next to the target, whose name the run never learnt, is removed by the next run", async () => {
    const box = sandbox(`${shell.name}-mktemp`);
    // app.ini exists with other content: it is rewritten through mktemp (new
    // files are written in a batch, through a staging directory instead).
    mkdirSync(box.root, { recursive: true });
    writeFileSync(`${box.root}/app.ini`, "old\n");
    // A mktemp that creates the file next to the target, then kills the run
    // before printing the name: the window a random kill rarely hits.
    const bin = join(box.root, "..", "bin");
    mkdirSync(bin);
    const real = shell.env?.PATH !== undefined ? join(shell.env.PATH, "mktemp") : "/usr/bin/mktemp";
    writeFileSync(
      join(bin, "mktemp"),
      `#!/bin/sh\nname=$(${real} "$@") || exit 1\ncase $name in */srv/.depc.*) kill -9 $PPID; exit 0 ;; esac\nprintf '%s\\n' "$name"\n`,
      { mode: 0o755 },
    );
    const killing: Shell = { ...shell, env: { ...shell.env, PATH: `${bin}:${shell.env?.PATH ?? process.env.PATH}` } };
    const first = await run(killing, box);
    expect(first.code).toBe(null);
    expect(leftoverTemps(box.root)).toHaveLength(1);
    const next = await run(shell, box);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/^depc: prod\/h: warning: took over a stale lock: the run that held it \(pid \d+, .*\) is gone\n$/);
    expect(leftovers(box)).toEqual([]);
    expect(readFileSync(`${box.root}/reactions.log`, "utf8")).toBe("on-page\non-conf\n");
  });
});
