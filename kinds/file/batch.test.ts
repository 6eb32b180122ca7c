/**
 * Batched apply of consecutive Files (issue 14): new files are written with
 * the printf builtin into a staging directory next to their targets,
 * verified by one sha256 pass, given their modes by one chmod per mode and
 * renamed by one mv per directory. Under every shell of the matrix: the
 * outcome and the report are those of one write per file; the number of
 * processes is a few per directory, not several per file; a failure stops
 * the run at the failing file; kill -9 anywhere leaves nothing partial and
 * nothing behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { availableShells, type Shell } from "../../test/support/shells.js";
import type { Resource } from "../../test/runtime/bundle.js";
import { hostRoot, leftoverTemps, statusLines, writeBundle } from "../../test/runtime/helpers.js";

const isRoot = process.getuid?.() === 0;

/** Names that must survive the staging directory and the batched mv: a dash, spaces, quotes, a backslash, a glob. */
const ODD = ["-n", "a b", "it's", 'q"q', "back\\slash", "%s", "\u00e9t\u00e9", "*"];

function files(root: string, dirs: number, perDir: number): Resource[] {
  const out: Resource[] = [];
  for (let d = 0; d < dirs; d++) out.push({ kind: "directory", path: `${root}/d${d}` });
  for (let d = 0; d < dirs; d++) {
    for (let f = 0; f < perDir; f++) {
      const name = f < ODD.length ? `${ODD[f]}${d}` : `f${f}.conf`;
      const mode = f % 3 === 0 ? "0600" : f % 3 === 1 ? "0640" : undefined;
      const owner = isRoot && f % 5 === 0 ? "root" : undefined;
      out.push({ kind: "file", path: `${root}/d${d}/${name}`, content: contentOf(d, f), mode, owner, group: owner });
    }
  }
  return out;
}

const contentOf = (d: number, f: number) => (f === 4 ? "" : f === 5 ? `no newline ${d}` : `dir ${d}\nfile ${f}\nit's 100% \\n $HOME\n`);

/** A PATH whose mv, chmod, chown and sha256sum log their runs to `log`, then run the shell's own. */
function countingPath(shell: Shell, dir: string, log: string): string {
  mkdirSync(dir, { recursive: true });
  const path = shell.env?.PATH ?? process.env.PATH ?? "";
  for (const tool of ["mv", "chmod", "chown", "sha256sum", "cat"]) {
    const real = path
      .split(delimiter)
      .map((p) => join(p, tool))
      .find((p) => existsSync(p));
    if (real === undefined) throw new Error(`no ${tool} on ${path}`);
    writeFileSync(join(dir, tool), `#!/bin/sh\nprintf '%s\\n' ${tool} >>'${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  }
  return `${dir}${delimiter}${path}`;
}

describe.each(availableShells())("batched Files under $name", (shell) => {
  it("a cold apply of 3 × 40 files: every file exact, the lines of one write per file, as many processes as for 3 × 10", () => {
    const runs = (perDir: number) => {
      const root = hostRoot(`batch-${shell.name}`);
      const resources = files(root, 3, perDir);
      const bundle = writeBundle(root, { resources });
      const log = join(root, "..", `${root.split("/").pop()}-tools.log`);
      const PATH = countingPath(shell, join(root, "..", `${root.split("/").pop()}-bin`), log);
      const first = bundle.run({ ...shell, env: { ...shell.env, PATH } });
      expect(first.stderr).toBe("");
      expect(first.status).toBe(0);
      expect(statusLines(first.stdout)).toEqual(resources.map((r) => `changed       ${r.kind} ${"path" in r ? r.path : ""} (created)`));
      for (const r of resources) {
        if (r.kind !== "file") continue;
        expect(readFileSync(r.path, "utf8")).toBe(r.content);
        expect((statSync(r.path).mode & 0o7777).toString(8)).toBe((r.mode ?? "0644").replace(/^0/, ""));
      }
      expect(leftoverTemps(root)).toEqual([]);
      expect(readdirSync(bundle.tmp)).toEqual([]);
      const second = bundle.run(shell);
      expect(second.status).toBe(0);
      expect(second.stdout).toMatch(new RegExp(`${resources.length} resources: 0 changed, ${resources.length} ok, 0 failed\n$`));
      return readFileSync(log, "utf8").split("\n").filter(Boolean).sort();
    };
    // Without the batch, mv, chmod and sha256sum (and cat) ran once per file.
    const small = runs(10);
    expect(runs(40)).toEqual(small);
    expect(small.filter((t) => t === "mv").length).toBeLessThan(10);
  });

  it("a file whose content does not match its digest fails with the exact reason; the files before it are written, none after it", () => {
    const root = hostRoot(`batch-corrupt-${shell.name}`);
    const resources: Resource[] = [
      { kind: "directory", path: `${root}/d` },
      ...["a", "b", "c", "d"].map((n): Resource => ({ kind: "file", path: `${root}/d/${n}`, content: `${n}\n` })),
    ];
    const bundle = writeBundle(root, { resources });
    // The content function of c writes other bytes than the bundle's digest says.
    const text = readFileSync(bundle.path, "utf8");
    const corrupt = text.replace("printf '%s' 'c\n'", "printf '%s' 'C\n'");
    expect(corrupt).not.toBe(text);
    writeFileSync(bundle.path, corrupt);
    const run = bundle.run(shell);
    expect(run.status).toBe(1);
    expect(statusLines(run.stdout).slice(0, 3)).toEqual([
      `changed       directory ${root}/d (created)`,
      `changed       file ${root}/d/a (created)`,
      `changed       file ${root}/d/b (created)`,
    ]);
    expect(statusLines(run.stdout)[3]).toMatch(
      new RegExp(`^failed {8}file ${root}/d/c: content written for ${root}/d/c does not match its sha256 \\(expected [0-9a-f]{64}, got [0-9a-f]{64}\\): the bundle is corrupt$`),
    );
    expect(run.stdout).toMatch(/5 resources: 3 changed, 0 ok, 1 failed, 1 not run\n$/);
    expect(readdirSync(`${root}/d`).sort()).toEqual(["a", "b"]);
    expect(leftoverTemps(root)).toEqual([]);
    expect(readdirSync(bundle.tmp)).toEqual([]);
  });

  it("--check stages nothing and reports every file as before", () => {
    const root = hostRoot(`batch-check-${shell.name}`);
    mkdirSync(`${root}/d`);
    const resources: Resource[] = [1, 2, 3].map((n) => ({ kind: "file", path: `${root}/d/f${n}`, content: `${n}\n` }));
    const bundle = writeBundle(root, { resources });
    const check = bundle.run(shell, ["--check"]);
    expect(check.status).toBe(2);
    expect(statusLines(check.stdout)).toEqual([1, 2, 3].map((n) => `would change  file ${root}/d/f${n} (created)`));
    expect(readdirSync(`${root}/d`)).toEqual([]);
  });
});

const TRIALS = Number(process.env.DEPC_BATCH_CRASH_TRIALS ?? 25);

describe.each(availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh"))("kill -9 during a batch under $name", (shell) => {
  it(`${TRIALS} trials over a 4 × 100-file cold apply: the next run converges, no file is partial, nothing is left behind`, async () => {
    // The kills are spread over the shortest of three whole runs (this machine's load varies).
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const calibrate = hostRoot(`batch-kill-cal-${shell.name}`);
      const calBundle = writeBundle(calibrate, { resources: files(calibrate, 4, 100) });
      const t0 = performance.now();
      expect((await spawnRun(shell, calBundle)).code).toBe(0);
      times.push(performance.now() - t0);
    }
    const span = Math.min(...times) * 0.9;
    const failures: string[] = [];
    let killed = 0;
    for (let n = 0; n < TRIALS; n++) {
      const root = hostRoot(`batch-kill-${shell.name}-${n}`);
      const resources = files(root, 4, 100);
      const bundle = writeBundle(root, { resources });
      const delay = Math.random() * span;
      const first = await spawnRun(shell, bundle, delay);
      if (first.code === null) killed++;
      const what = `trial ${n} (kill after ${delay.toFixed(0)} ms)`;
      // Whatever is in place after the kill is whole, with its mode.
      for (const r of resources) {
        if (r.kind !== "file" || !existsSync(r.path)) continue;
        if (readFileSync(r.path, "utf8") !== r.content) failures.push(`${what}: ${r.path} is partial`);
        if ((statSync(r.path).mode & 0o777) !== Number.parseInt(r.mode ?? "0644", 8)) failures.push(`${what}: ${r.path} has mode ${(statSync(r.path).mode & 0o777).toString(8)}`);
      }
      const second = await spawnRun(shell, bundle);
      if (second.code !== 0) failures.push(`${what}: the next run exited ${second.code}: ${second.stderr}`);
      for (const r of resources) if (r.kind === "file" && (!existsSync(r.path) || readFileSync(r.path, "utf8") !== r.content)) failures.push(`${what}: ${r.path} wrong after the next run`);
      const left = [...leftoverTemps(root), ...readdirSync(bundle.tmp)];
      if (left.length > 0) failures.push(`${what}: left ${left.join(", ")}`);
      rmSync(root, { recursive: true, force: true });
    }
    expect(failures).toEqual([]);
    expect(killed).toBeGreaterThan(TRIALS / 2);
  }, 600_000);
});

/** Run in its own process group; with killAfterMs, kill -9 the whole group then. */
function spawnRun(shell: Shell, bundle: ReturnType<typeof writeBundle>, killAfterMs?: number): Promise<{ code: number | null; stderr: string }> {
  const [cmd, ...lead] = shell.argv as [string, ...string[]];
  const child: ChildProcess = spawn(cmd, [...lead, bundle.path], {
    env: { ...process.env, TMPDIR: bundle.tmp, DEPC_STATE_DIR: bundle.state, ...shell.env },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer =
    killAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {
            // gone
          }
        }, killAfterMs);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      if (timer !== undefined) clearTimeout(timer);
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
      resolve({ code, stderr });
    }),
  );
}
