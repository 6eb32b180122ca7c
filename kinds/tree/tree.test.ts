/**
 * Tree (issue 10): a project directory shipped in the bundle and kept
 * identical on the host. The diagnostics' exact text; real bundles under
 * the six shells: apply, no-op, changes, foreign files removed, excluded
 * ones kept, executable bits, --check lines, reactions, removal; a no-op
 * in as many processes for 200 files as for 10; reproducible builds; kill -9
 * at random points converges with nothing partial and nothing left behind.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/build.js";
import { formatDiagnostics } from "../../compiler/diagnostics/format.js";
import { Command, Directory, Tree, environment, fromDirectory } from "../../model/index.js";
import { compileValue } from "../../test/support/inmemory.js";
import { makeProject } from "../../test/support/project.js";
import { availableShells, runScript, type Shell } from "../../test/support/shells.js";
import { leftoverTemps, statusLines } from "../../test/runtime/helpers.js";

const base = mkdtempSync(join(tmpdir(), "depc-tree-"));
afterAll(() => {
  if (process.env.DEPC_KEEP_TMP !== "1") rmSync(base, { recursive: true, force: true });
});
let serial = 0;
const fresh = (label: string) => mkdtempSync(join(base, `${label.replace(/[^a-z0-9]+/gi, "-")}-${serial++}-`));

/** Writes a source directory: path → content (a trailing "*" in the name: executable). */
function source(dir: string, files: Record<string, string>): string {
  for (const [name, content] of Object.entries(files)) {
    const exec = name.endsWith("*");
    const path = join(dir, exec ? name.slice(0, -1) : name);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, content);
    chmodSync(path, exec ? 0o755 : 0o644);
  }
  return dir;
}

interface Host {
  readonly root: string;
  readonly state: string;
  readonly tmp: string;
  bundle: string;
}

function host(label: string): Host {
  const dir = fresh(label);
  for (const d of ["root", "state", "tmp"]) mkdirSync(join(dir, d));
  return { root: join(dir, "root"), state: join(dir, "state"), tmp: join(dir, "tmp"), bundle: join(dir, "h.sh") };
}

/** The bundle of host h: a Tree of `src` at ROOT/srv/code, a Command that logs each change of it. */
function build(h: Host, src: string, extra: { exclude?: string[]; tree?: boolean; owner?: string; group?: string } = {}): void {
  const resources = [Directory({ path: `${h.root}/srv` })];
  if (extra.tree !== false) {
    const tree = Tree({ path: `${h.root}/srv/code`, source: fromDirectory(src), exclude: extra.exclude, owner: extra.owner, group: extra.group });
    resources.push(tree as never, Command({ name: "on-change", command: ["sh", "-c", 'echo changed >> "$1"', "sh", `${h.root}/reactions.log`], whenChanged: [tree] }) as never);
  }
  writeFileSync(h.bundle, compileValue(environment({ hosts: { h: resources } }), "prod").bundles!.get("h")!, { mode: 0o700 });
}

function run(shell: Shell, h: Host, args: string[] = [], PATH?: string) {
  const env: Record<string, string> = { TMPDIR: h.tmp, DEPC_STATE_DIR: h.state };
  return runScript(PATH === undefined ? shell : { ...shell, env: { ...shell.env, PATH } }, h.bundle, args, { env });
}

/** Every entry below dir: "path" for files (with "*" when executable), "path/" for directories. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const rel = join(e.parentPath ?? dir, e.name).slice(dir.length + 1);
      if (e.isDirectory()) return `${rel}/`;
      return (statSync(join(dir, rel)).mode & 0o111) !== 0 ? `${rel}*` : rel;
    })
    .sort();
}

const reactions = (h: Host) => (existsSync(`${h.root}/reactions.log`) ? readFileSync(`${h.root}/reactions.log`, "utf8").split("\n").filter(Boolean).length : 0);

describe("Tree diagnostics", () => {
  const cases: { name: string; setup: (dir: string) => void; tree: string; expected: string }[] = [
    { name: "source missing", setup: () => {}, tree: `source: fromDirectory("../app")`, expected: `env/prod.ts:3:3 - error DEPC2381: Tree "/srv/code": the source directory "DIR/app" does not exist (fromDirectory("../app") is relative to the file that calls it).` },
    { name: "source not a directory", setup: (d) => writeFileSync(join(d, "app"), "x"), tree: `source: fromDirectory("../app")`, expected: `env/prod.ts:3:3 - error DEPC2382: Tree "/srv/code": the source "DIR/app" is not a directory.` },
    { name: "source not fromDirectory", setup: () => {}, tree: `source: "../app" as never`, expected: `env/prod.ts:3:3 - error DEPC2380: Tree "/srv/code": source must be fromDirectory("..."), a directory of the project; it is "../app".` },
    {
      name: "a symbolic link",
      setup: (d) => {
        source(join(d, "app"), { "a.txt": "a\n" });
        symlinkSync("a.txt", join(d, "app", "link"));
      },
      tree: `source: fromDirectory("../app")`,
      expected: `env/prod.ts:3:3 - error DEPC2385: Tree "/srv/code": "DIR/app/link" is a symbolic link; a Tree ships regular files and directories only (a link could point outside the tree on the host). Copy what it points to into the source, or exclude it.`,
    },
    {
      name: "a named pipe",
      setup: (d) => {
        source(join(d, "app"), { "a.txt": "a\n" });
        spawnSync("mkfifo", [join(d, "app", "pipe")]);
      },
      tree: `source: fromDirectory("../app")`,
      expected: `env/prod.ts:3:3 - error DEPC2384: Tree "/srv/code": "DIR/app/pipe" is a named pipe; a Tree ships regular files and directories only. Remove it from the source or exclude it.`,
    },
    {
      name: "a control character in a name",
      setup: (d) => source(join(d, "app"), { "a\tb": "x" }),
      tree: `source: fromDirectory("../app")`,
      expected: `env/prod.ts:3:3 - error DEPC2387: Tree "/srv/code": "DIR/app/a\\tb" has a control character in its name (U+0009); such a name cannot be shipped.`,
    },
    {
      name: "an empty exclude pattern",
      setup: (d) => source(join(d, "app"), { a: "x" }),
      tree: `source: fromDirectory("../app"), exclude: [""]`,
      expected: `env/prod.ts:3:3 - error DEPC2388: Tree "/srv/code": exclude must be a list of non-empty glob strings; "" is not one.`,
    },
    {
      name: "too large",
      setup: (d) => {
        const chunk = "x".repeat(7 * 1024 * 1024);
        source(join(d, "app"), { a: chunk, b: chunk, c: chunk, d: chunk, e: chunk });
      },
      tree: `source: fromDirectory("../app")`,
      expected: `env/prod.ts:3:3 - error DEPC2386: Tree "/srv/code": the source holds 36700160 bytes in 5 files; a bundle carries at most 33554432 bytes (32 MiB) of Tree content. Exclude what the host does not need, or ship the code as a release archive.`,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the exact message at the Tree's line`, async () => {
      const project = makeProject({
        "env/prod.ts": `import { environment, Tree, fromDirectory } from "depc";\nexport default environment({ hosts: { h: [\n  Tree({ path: "/srv/code", ${c.tree} }),\n] } });\n`,
      });
      try {
        c.setup(project.dir);
        const result = await compile("env/prod", { cwd: project.dir, cacheDir: false });
        const printed = formatDiagnostics(result.diagnostics, { color: false, cwd: project.dir, sources: result.sources });
        expect(printed.split("\n")[0]).toBe(c.expected.replaceAll("DIR", project.dir));
        expect(result.ok).toBe(false);
      } finally {
        project.cleanup();
      }
    });
  }

  it("an unreadable file (as a user who cannot read it)", async () => {
    const project = makeProject({
      "env/prod.ts": `import { environment, Tree, fromDirectory } from "depc";\nexport default environment({ hosts: { h: [\n  Tree({ path: "/srv/code", source: fromDirectory("../app") }),\n] } });\n`,
    });
    try {
      source(join(project.dir, "app"), { "secret.txt": "x" });
      chmodSync(join(project.dir, "app", "secret.txt"), 0o000);
      if (process.getuid?.() === 0) {
        // root reads anything: run the check as nobody (the project must be readable by it).
        chmodSync(project.dir, 0o755);
        const r = spawnSync("runuser", ["-u", "nobody", "--", process.execPath, join(import.meta.dirname, "..", "..", "bin", "depc.js"), "check", "env/prod", "--no-cache"], { cwd: project.dir, encoding: "utf8" });
        expect(r.stdout + r.stderr).toContain(`env/prod.ts:3:3 - error DEPC2383: Tree "/srv/code": cannot read "${project.dir}/app/secret.txt": permission denied.`);
      } else {
        const result = await compile("env/prod", { cwd: project.dir, cacheDir: false });
        const printed = formatDiagnostics(result.diagnostics, { color: false, cwd: project.dir, sources: result.sources });
        expect(printed).toContain(`env/prod.ts:3:3 - error DEPC2383: Tree "/srv/code": cannot read "${project.dir}/app/secret.txt": permission denied.`);
      }
    } finally {
      project.cleanup();
    }
  });

  it("builds reproducibly: no times, no host umask in the bundle", () => {
    const a = source(fresh("repro-a"), { "x.py": "x\n", "bin/run*": "#!/bin/sh\n", "d/e/f.txt": "f\n" });
    const env = () => environment({ hosts: { h: [Tree({ path: "/srv/code", source: fromDirectory(a) })] } });
    const first = compileValue(env(), "prod").bundles!.get("h")!;
    utimesSync(join(a, "x.py"), 1, 1);
    chmodSync(join(a, "x.py"), 0o664);
    chmodSync(join(a, "d"), 0o700);
    expect(compileValue(env(), "prod").bundles!.get("h")!).toBe(first);
  });
});

describe.each(availableShells())("Tree under $name", (shell) => {
  it("ships the source, keeps it identical, removes what it lacks, keeps what is excluded, and reacts to a change", () => {
    const h = host(`tree-${shell.name}`);
    const src = source(fresh("src"), { "app.py": "print('hi')\n", "bin/run*": "#!/bin/sh\necho run\n", "static/a b.css": "a {}\n", "empty.txt": "", "nonl.txt": "no newline" });
    mkdirSync(join(src, "static", "empty-dir"));
    build(h, src, { exclude: ["__pycache__", "*.log"] });
    const first = run(shell, h);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(statusLines(first.stdout)).toContain(`changed       tree ${h.root}/srv/code (created, 8 added)`);
    const code = `${h.root}/srv/code`;
    expect(listing(code)).toEqual(["app.py", "bin/", "bin/run*", "empty.txt", "nonl.txt", "static/", "static/a b.css", "static/empty-dir/"]);
    expect(readFileSync(`${code}/nonl.txt`, "utf8")).toBe("no newline");
    expect(reactions(h)).toBe(1);

    const noop = run(shell, h);
    expect(noop.status).toBe(0);
    expect(statusLines(noop.stdout)).toContain(`ok            tree ${code}`);
    expect(reactions(h)).toBe(1);

    // The host drifts: a foreign file and directory, an excluded cache, a changed file, a lost executable bit, a missing file.
    writeFileSync(`${code}/foreign.txt`, "x");
    mkdirSync(`${code}/old/deep`, { recursive: true });
    writeFileSync(`${code}/old/deep/f`, "x");
    mkdirSync(`${code}/__pycache__`);
    writeFileSync(`${code}/__pycache__/app.pyc`, "cache");
    writeFileSync(`${code}/server.log`, "log");
    writeFileSync(`${code}/app.py`, "print('changed')\n");
    chmodSync(`${code}/bin/run`, 0o644);
    rmSync(`${code}/empty.txt`);
    const check = run(shell, h, ["--check"]);
    expect(check.status).toBe(2);
    const out = check.stdout.split("\n");
    const at = out.indexOf(`would change  tree ${code} (1 added, 1 changed, 2 removed, 1 mode)`);
    expect(at).toBeGreaterThan(-1);
    expect(out.slice(at + 1, at + 6)).toEqual(["  removed  foreign.txt", "  removed  old/", "  changed  app.py", "  mode     bin/run 0644 -> 0755", "  added    empty.txt"]);
    const second = run(shell, h);
    expect(second.status).toBe(0);
    expect(statusLines(second.stdout)).toContain(`changed       tree ${code} (1 added, 1 changed, 2 removed, 1 mode)`);
    expect(listing(code)).toEqual(["__pycache__/", "__pycache__/app.pyc", "app.py", "bin/", "bin/run*", "empty.txt", "nonl.txt", "server.log", "static/", "static/a b.css", "static/empty-dir/"]);
    expect(readFileSync(`${code}/app.py`, "utf8")).toBe("print('hi')\n");
    expect(reactions(h)).toBe(2);
    expect(leftoverTemps(h.root)).toEqual([]);
    expect(readdirSync(h.tmp)).toEqual([]);

    // A file where the source has a directory and the other way round.
    rmSync(`${code}/static`, { recursive: true });
    writeFileSync(`${code}/static`, "now a file");
    rmSync(`${code}/app.py`);
    mkdirSync(`${code}/app.py`);
    const third = run(shell, h);
    expect(third.status).toBe(0);
    expect(listing(code)).toContain("static/a b.css");
    expect(readFileSync(`${code}/app.py`, "utf8")).toBe("print('hi')\n");

    // Out of the model: removed, as depc created it.
    build(h, src, { tree: false });
    const removal = run(shell, h);
    expect(removal.status).toBe(0);
    expect(existsSync(code)).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)("owner only: every entry gets it, the group is left; a drifted owner is fixed", () => {
    const h = host(`tree-owner-${shell.name}`);
    build(h, source(fresh("src-owner"), { "a.txt": "a\n", "d/b.txt": "b\n" }), { owner: "nobody" });
    expect(run(shell, h).status).toBe(0);
    const code = `${h.root}/srv/code`;
    const nobody = Number(spawnSync("id", ["-u", "nobody"], { encoding: "utf8" }).stdout.trim());
    for (const rel of [".", "a.txt", "d", "d/b.txt"]) {
      expect(statSync(join(code, rel)).uid).toBe(nobody);
      expect(statSync(join(code, rel)).gid).toBe(0);
    }
    expect(statusLines(run(shell, h).stdout)).toContain(`ok            tree ${code}`);
    spawnSync("chown", ["root", join(code, "d/b.txt")]);
    const fix = run(shell, h);
    expect(statusLines(fix.stdout)).toContain(`changed       tree ${code} (1 owner)`);
    expect(statSync(join(code, "d/b.txt")).uid).toBe(nobody);
  });

  it("--check lists at most 50 entries, then how many more", () => {
    const h = host(`tree-cap-${shell.name}`);
    const files: Record<string, string> = {};
    for (let i = 0; i < 60; i++) files[`f${String(i).padStart(2, "0")}`] = `${i}\n`;
    build(h, source(fresh("src-cap"), files));
    const check = run(shell, h, ["--check"]);
    expect(check.status).toBe(2);
    const lines = check.stdout.split("\n");
    const at = lines.findIndex((l) => l.startsWith("would change  tree "));
    expect(lines[at + 1]).toBe("  added    f00");
    expect(lines[at + 50]).toBe("  added    f49");
    expect(lines[at + 51]).toBe("  \u2026 and 10 more");
  });
});

/** A PATH whose tools log each run to `log`, then run the shell's own. */
function countingPath(shell: Shell, dir: string, log: string, tools: string[]): string {
  mkdirSync(dir, { recursive: true });
  const path = shell.env?.PATH ?? process.env.PATH ?? "";
  for (const tool of tools) {
    const real = path
      .split(delimiter)
      .map((p) => join(p, tool))
      .find((p) => existsSync(p));
    if (real === undefined) continue;
    writeFileSync(join(dir, tool), `#!/bin/sh\nprintf '%s\\n' ${tool} >>'${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  }
  return `${dir}${delimiter}${path}`;
}

describe.each(availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh"))("a converged Tree under $name", (shell) => {
  it("is checked in as many processes for 200 files as for 10 (no process per file)", () => {
    const counts = (n: number) => {
      const h = host(`tree-count-${shell.name}`);
      const files: Record<string, string> = {};
      for (let i = 0; i < n; i++) files[`d${i % 7}/f${i}`] = `${i}\n`;
      build(h, source(fresh("src-count"), files));
      expect(run(shell, h).status).toBe(0);
      const log = join(h.root, "..", "tools.log");
      const PATH = countingPath(shell, join(h.root, "..", "bin"), log, ["find", "stat", "sha256sum", "awk", "cat", "chmod", "mv", "mkdir", "rm"]);
      const noop = run(shell, h, [], PATH);
      expect(noop.status).toBe(0);
      expect(statusLines(noop.stdout)).toContain(`ok            tree ${h.root}/srv/code`);
      return readFileSync(log, "utf8").split("\n").filter(Boolean).sort();
    };
    expect(counts(200)).toEqual(counts(10));
  });
});

const TRIALS = Number(process.env.DEPC_TREE_CRASH_TRIALS ?? 30);

describe.each(availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh"))("kill -9 during a Tree apply under $name", (shell) => {
  it(`${TRIALS} trials from an older tree: the next run converges, no file is partial, nothing is left behind`, async () => {
    const v1: Record<string, string> = {};
    const v2: Record<string, string> = {};
    for (let i = 0; i < 300; i++) {
      v1[`d${i % 5}/sub${i % 3}/f${i}`] = `v1 ${i}\n`.repeat(20);
      if (i % 4 !== 0) v2[`d${i % 5}/sub${i % 3}/f${i}`] = `v2 ${i}\n`.repeat(20);
      if (i % 6 === 0) v2[`n${i % 4}/g${i}`] = `new ${i}\n`;
    }
    const src1 = source(fresh("v1"), v1);
    const src2 = source(fresh("v2"), v2);
    const prepare = () => {
      const h = host(`tree-kill-${shell.name}`);
      build(h, src1);
      if (run(shell, h).status !== 0) throw new Error("v1 did not apply");
      build(h, src2);
      return h;
    };
    // The kills are spread over the shortest of three whole runs (this machine's load varies).
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const cal = prepare();
      const t0 = performance.now();
      expect((await spawnRun(shell, cal)).code).toBe(0);
      times.push(performance.now() - t0);
    }
    const span = Math.min(...times) * 0.9;
    const failures: string[] = [];
    let killed = 0;
    for (let n = 0; n < TRIALS; n++) {
      const h = prepare();
      const delay = Math.random() * span;
      const first = await spawnRun(shell, h, delay);
      if (first.code === null) killed++;
      const what = `trial ${n} (kill after ${delay.toFixed(0)} ms)`;
      const code = `${h.root}/srv/code`;
      for (const rel of listing(code)) {
        if (rel.endsWith("/") || rel.startsWith(".depc.") || rel.includes("/.depc.")) continue;
        const body = readFileSync(join(code, rel), "utf8");
        if (body !== v1[rel] && body !== v2[rel]) failures.push(`${what}: ${rel} is partial or foreign`);
      }
      const second = await spawnRun(shell, h);
      if (second.code !== 0) failures.push(`${what}: the next run exited ${second.code}: ${second.stderr}`);
      const expected = Object.keys(v2).sort();
      const got = listing(code).filter((r) => !r.endsWith("/"));
      if (JSON.stringify(got) !== JSON.stringify(expected)) failures.push(`${what}: the next run left ${got.length} files, not ${expected.length}`);
      for (const rel of expected) if (readFileSync(join(code, rel), "utf8") !== v2[rel]) failures.push(`${what}: ${rel} wrong after the next run`);
      const left = [...leftoverTemps(h.root), ...readdirSync(h.tmp)];
      if (left.length > 0) failures.push(`${what}: left ${left.join(", ")}`);
      rmSync(join(h.root, ".."), { recursive: true, force: true });
    }
    expect(failures).toEqual([]);
    expect(killed).toBeGreaterThan(TRIALS / 2);
  }, 900_000);
});

function spawnRun(shell: Shell, h: Host, killAfterMs?: number): Promise<{ code: number | null; stderr: string }> {
  const [cmd, ...lead] = shell.argv as [string, ...string[]];
  const child: ChildProcess = spawn(cmd, [...lead, h.bundle], {
    env: { ...process.env, TMPDIR: h.tmp, DEPC_STATE_DIR: h.state, ...shell.env },
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
