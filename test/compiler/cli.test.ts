import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";

// The CLI as a user runs it: the built bin, a real process, a real project.
const bin = join(repoRoot, "bin", "depc.js");
const depc = (cwd: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const good = `import { environment, File } from "depc";
export default environment({ hosts: { web1: [File({ path: "/etc/motd", content: "hi\\n" })], web2: [] } });
`;
const bad = `import { environment, File } from "depc";
export default environment({ hosts: { web1: [File({ path: "etc/motd", content: "hi\\n" })] } });
`;

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());
function project(files: Record<string, string>): string {
  const p = makeProject(files);
  cleanup = p.cleanup;
  return p.dir;
}

describe("depc CLI", () => {
  it("--version and --help", () => {
    const dir = project({});
    const version = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version;
    expect(depc(dir, "--version")).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = depc(dir, "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("depc build <env..>");
    expect(help.stdout).toContain("depc check <env..>");
    expect(help.stdout.replace(/\s+/g, " ")).toContain("Exit codes: 0 success, 1 errors in the model or usage (printed), 2 plan: changes pending, 70 an internal error of depc.");
    const buildHelp = depc(dir, "build", "--help");
    expect(buildHelp.stdout).toContain("--out");
  });

  it("build writes one executable bundle per host and a manifest", () => {
    const dir = project({ "env/prod.ts": good });
    const r = depc(dir, "build", "env/prod");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^  build\/prod\/web1\.sh  1 resource\n  build\/prod\/web2\.sh  0 resources\ndepc: built prod: 2 hosts, 1 resource in \d+\.\d\ds\n$/);
    expect(statSync(join(dir, "build/prod/web1.sh")).mode & 0o777).toBe(0o700);
    const manifest = JSON.parse(readFileSync(join(dir, "build/prod/manifest.json"), "utf8"));
    expect(manifest.hosts.map((h: { name: string; resources: number }) => [h.name, h.resources])).toEqual([["web1", 1], ["web2", 0]]);
    expect(manifest.hosts[0].digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("a rebuild rewrites no unchanged file: nothing when nothing changed, only what differs otherwise", () => {
    const dir = project({ "env/prod.ts": good });
    expect(depc(dir, "build", "env/prod").code).toBe(0);
    const out = join(dir, "build/prod");
    // The same file with the same bytes: inode and mtime (a hard link changes ctime, not mtime).
    const identity = (name: string) => {
      const s = statSync(join(out, name), { bigint: true });
      return `${s.ino}:${s.mtimeNs}`;
    };
    const names = ["web1.sh", "web2.sh", "manifest.json"];
    const before = Object.fromEntries(names.map((n) => [n, identity(n)]));
    const dirBefore = identity(".");
    const web1 = readFileSync(join(out, "web1.sh"), "utf8");
    // Nothing changed: not a byte written, not even the directory swapped.
    const again = depc(dir, "build", "env/prod");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("2 hosts, 1 resource");
    expect(Object.fromEntries(names.map((n) => [n, identity(n)]))).toEqual(before);
    expect(identity(".")).toBe(dirBefore);
    // A bundle changed by hand is written anew (the build is what the model says); the others stay the same files.
    writeFileSync(join(out, "web1.sh"), "tampered\n");
    const tampered = identity("web1.sh");
    expect(depc(dir, "build", "env/prod").code).toBe(0);
    expect(readFileSync(join(out, "web1.sh"), "utf8")).toBe(web1);
    expect(identity("web1.sh")).not.toBe(tampered);
    expect(statSync(join(out, "web1.sh")).mode & 0o777).toBe(0o700);
    expect(identity("web2.sh")).toBe(before["web2.sh"]);
    expect(identity("manifest.json")).toBe(before["manifest.json"]);
    // So is one whose mode was changed.
    chmodSync(join(out, "web2.sh"), 0o755);
    expect(depc(dir, "build", "env/prod").code).toBe(0);
    expect(statSync(join(out, "web2.sh")).mode & 0o777).toBe(0o700);
    // A source change rewrites only the bundles it changes (and the manifest, which holds the sources' digest):
    // a build diff, a publish and the hosts' pull agents see only web1 change.
    const settled = Object.fromEntries(names.map((n) => [n, identity(n)]));
    const web2 = readFileSync(join(out, "web2.sh"));
    writeFileSync(join(dir, "env/prod.ts"), good.replace('"hi\\n"', '"hello\\n"'));
    expect(depc(dir, "build", "env/prod").code).toBe(0);
    expect(identity("web1.sh")).not.toBe(settled["web1.sh"]);
    expect(identity("manifest.json")).not.toBe(settled["manifest.json"]);
    expect(identity("web2.sh")).toBe(settled["web2.sh"]);
    expect(readFileSync(join(out, "web2.sh"))).toEqual(web2);
    expect(readdirSync(out).sort()).toEqual(["manifest.json", "web1.sh", "web2.sh"]);
    expect(readdirSync(join(dir, "build"))).toEqual(["prod"]);
  });

  it("a rebuild writes anew a bundle changed in place with the same size, one replaced by a link to a copy, and a FIFO", () => {
    const dir = project({ "env/prod.ts": good });
    expect(depc(dir, "build", "env/prod").code).toBe(0);
    const out = join(dir, "build/prod");
    const web1 = readFileSync(join(out, "web1.sh"));
    const web2 = readFileSync(join(out, "web2.sh"));
    // One byte near the end (in the runtime, which bundles share), the size unchanged.
    const changed = Buffer.from(web1);
    changed[changed.length - 20] = changed[changed.length - 20]! ^ 0x20;
    writeFileSync(join(out, "web1.sh"), changed);
    // A link to an exact copy: the build's file is a regular file, not a link to something else.
    const copy = join(dir, "copy.sh");
    writeFileSync(copy, web1, { mode: 0o700 });
    expect(depc(dir, "build", "env/prod").code).toBe(0);
    expect(readFileSync(join(out, "web1.sh")).equals(web1)).toBe(true);
    rmSync(join(out, "web1.sh"));
    symlinkSync(copy, join(out, "web1.sh"));
    rmSync(join(out, "web2.sh"));
    expect(spawnSync("mkfifo", [join(out, "web2.sh")]).status).toBe(0);
    const r = spawnSync(process.execPath, [bin, "build", "env/prod"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(lstatSync(join(out, "web1.sh")).isFile()).toBe(true);
    expect(readFileSync(join(out, "web1.sh")).equals(web1)).toBe(true);
    expect(lstatSync(join(out, "web2.sh")).isFile()).toBe(true);
    expect(readFileSync(join(out, "web2.sh")).equals(web2)).toBe(true);
  });

  it("a large module's code cache is used only for exactly its source: an edit of the same length is seen", () => {
    // Over 64 KiB of JavaScript: evaluation keeps V8's code cache of it in the build cache.
    const model = (letter: string) =>
      `import { environment, File } from "depc";\n` +
      `const pad = ${JSON.stringify("x".repeat(70_000))};\n` +
      `export default environment({ hosts: { web1: [File({ path: "/etc/motd", content: "${letter}" + pad.length + "\\n" })] } });\n`;
    const dir = project({ "env/prod.ts": model("a") });
    mkdirSync(join(dir, "node_modules", ".cache"), { recursive: true });
    expect(depc(dir, "build", "env/prod").code).toBe(0);
    const cache = join(dir, "node_modules/.cache/depc");
    expect(readdirSync(cache).filter((n) => /^code-[0-9a-f]{32}\.bin$/.test(n))).toHaveLength(1);
    const bundle = () => readFileSync(join(dir, "build/prod/web1.sh"), "utf8");
    expect(bundle()).toContain("a70000");
    // The same length, another letter: V8 alone would take the old code (it checks only the length).
    writeFileSync(join(dir, "env/prod.ts"), model("b"));
    expect(depc(dir, "build", "env/prod").code).toBe(0);
    expect(bundle()).toContain("b70000");
    expect(bundle()).not.toContain("a70000");
    // Cached type-check and code cache: the same bundle again, and still one code cache file.
    const again = depc(dir, "build", "env/prod");
    expect(again.stdout).toContain("(type-check cached)");
    expect(bundle()).toContain("b70000");
    expect(readdirSync(cache).filter((n) => n.startsWith("code-"))).toHaveLength(1);
  });

  it("accepts env/prod, env/prod.ts and a directory with index.ts", () => {
    const dir = project({ "env/prod.ts": good, "env/staging/index.ts": good });
    expect(depc(dir, "check", "env/prod.ts").code).toBe(0);
    const staging = depc(dir, "check", "env/staging");
    expect(staging).toMatchObject({ code: 0, stdout: "depc: staging is valid: 2 hosts, 1 resource\n" });
  });

  it("--out chooses the output directory; check writes nothing", () => {
    const dir = project({ "env/prod.ts": good });
    expect(depc(dir, "check", "env/prod").code).toBe(0);
    expect(existsSync(join(dir, "build"))).toBe(false);
    expect(depc(dir, "build", "env/prod", "--out", "out/x").code).toBe(0);
    expect(existsSync(join(dir, "out/x/web1.sh"))).toBe(true);
  });

  it("a model with errors exits 1, prints the diagnostics, and leaves the previous build intact", () => {
    const dir = project({ "env/prod.ts": good });
    expect(depc(dir, "build", "env/prod").code).toBe(0);
    const before = readFileSync(join(dir, "build/prod/web1.sh"), "utf8");
    writeFileSync(join(dir, "env/prod.ts"), bad);
    const r = depc(dir, "build", "env/prod");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('env/prod.ts:2:46 - error DEPC2001: File path must be absolute: "etc/motd"\n');
    expect(r.stderr).toMatch(/Found 1 error\. No bundle was written\.\n$/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // never a stack trace
    expect(readFileSync(join(dir, "build/prod/web1.sh"), "utf8")).toBe(before);
  });

  it("an unwritable output directory is a diagnostic, not a stack trace", () => {
    const dir = project({ "env/prod.ts": good, "blocker": "a file where a directory should be" });
    const r = depc(dir, "build", "env/prod", "--out", "blocker/prod");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error DEPC9001: Cannot write the build output to .*blocker\/prod: /);
  });

  // Issue 13, finding 1: --out used to delete whatever was there and exit 0.
  describe("--out never deletes what is not a depc build", () => {
    const refusal = (path: string, problem: string) =>
      `error DEPC9002: Refusing to write the build to ${path}: it ${problem}. ` +
      "depc only replaces an empty directory or an earlier depc build. Choose another --out, or move the files away.\n\nFound 1 error. No bundle was written.\n";
    const tree = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [`${e.name}/`, ...tree(join(dir, e.name)).map((n) => `${e.name}/${n}`)] : [e.name])).sort();

    it("a directory with a user's files is left alone", () => {
      const dir = project({ "env/prod.ts": good, "notes/todo.txt": "keep me\n", "notes/plan.md": "me too\n" });
      const r = depc(dir, "build", "env/prod", "--out", "notes");
      expect(r).toMatchObject({ code: 1, stdout: "" });
      expect(r.stderr).toBe(refusal(join(dir, "notes"), "holds plan.md and todo.txt but no manifest.json"));
      expect(tree(join(dir, "notes"))).toEqual(["plan.md", "todo.txt"]);
      expect(readFileSync(join(dir, "notes/todo.txt"), "utf8")).toBe("keep me\n");
    });

    it("--out . does not delete the project", () => {
      const dir = project({ "env/prod.ts": good, "components/app.ts": "export {};\n" });
      const before = tree(dir);
      const r = depc(dir, "build", "env/prod", "--out", ".");
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(refusal(dir, "holds components, env, node_modules and 1 more but no manifest.json"));
      expect(tree(dir).filter((n) => !n.startsWith("node_modules/"))).toEqual(before.filter((n) => !n.startsWith("node_modules/")));
    });

    it("a file at --out is refused, and so is a foreign manifest.json", () => {
      const dir = project({ "env/prod.ts": good, "out.txt": "data\n", "other/manifest.json": '{"name":"x"}' });
      expect(depc(dir, "build", "env/prod", "--out", "out.txt").stderr).toBe(refusal(join(dir, "out.txt"), "is not a directory"));
      expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("data\n");
      expect(depc(dir, "build", "env/prod", "--out", "other").stderr).toBe(refusal(join(dir, "other"), "holds a manifest.json that is not a depc build's"));
      expect(tree(join(dir, "other"))).toEqual(["manifest.json"]);
      symlinkSync("other", join(dir, "link"));
      expect(depc(dir, "build", "env/prod", "--out", "link").stderr).toBe(refusal(join(dir, "link"), "is a symbolic link (give the directory it points to)"));
      expect(lstatSync(join(dir, "link")).isSymbolicLink()).toBe(true);
    });

    it("an earlier build is replaced, but not when a file was added to it", () => {
      const dir = project({ "env/prod.ts": good, "empty/.keep": "" });
      rmSync(join(dir, "empty/.keep"));
      expect(depc(dir, "build", "env/prod", "--out", "empty").code).toBe(0); // an empty directory is fine
      expect(depc(dir, "build", "env/prod", "--out", "empty").code).toBe(0); // and so is the build it now holds
      expect(tree(join(dir, "empty"))).toEqual(["manifest.json", "web1.sh", "web2.sh"]);
      writeFileSync(join(dir, "empty/README"), "mine\n");
      const r = depc(dir, "build", "env/prod", "--out", "empty");
      expect(r.stderr).toBe(refusal(join(dir, "empty"), "holds README, which is not part of the build its manifest.json describes"));
      expect(readFileSync(join(dir, "empty/README"), "utf8")).toBe("mine\n");
    });
  });

  it("usage errors exit 1 with a hint", () => {
    const dir = project({});
    const r = depc(dir, "biuld", "env/prod");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Run 'depc --help' for usage.");
    expect(depc(dir).code).toBe(1);
  });

  it("an unknown option stops the command: nothing is built", () => {
    const dir = project({ "env/prod.ts": good });
    const r = depc(dir, "build", "env/prod", "--bogus");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("depc: Unknown argument: bogus\n");
    expect(existsSync(join(dir, "build"))).toBe(false);
  });

  it("no colour codes when output is not a terminal", () => {
    const dir = project({ "env/prod.ts": bad });
    const r = spawnSync(process.execPath, [bin, "check", "env/prod"], { cwd: dir, encoding: "utf8" });
    expect(r.stderr).not.toContain("\x1b[");
  });

  it("a misspelt command names the nearest one", () => {
    const dir = project({ "env/prod.ts": good });
    expect(depc(dir, "biuld", "env/prod")).toMatchObject({ code: 1, stdout: "", stderr: `depc: Unknown command "biuld". Did you mean build?\nRun 'depc --help' for usage.\n` });
    expect(depc(dir, "delpoy", "env/prod").stderr).toBe(`depc: Unknown command "delpoy". Did you mean deploy?\nRun 'depc --help' for usage.\n`);
    expect(existsSync(join(dir, "build"))).toBe(false);
  });

  it("an environment that does not exist: the ones that do, and the nearest", () => {
    const dir = project({ "env/prod.ts": good, "env/staging.ts": good, "env/lib.d.ts": "export {};\n", "env/eu/index.ts": good });
    expect(depc(dir, "check", "env/prd")).toMatchObject({
      code: 1,
      stderr: "error DEPC1001: Cannot find environment module 'env/prd'. The environments in env/ are: eu, prod, staging. Did you mean env/prod?\n\nFound 1 error. No bundle was written.\n",
    });
    expect(depc(dir, "check", "env/qa").stderr).toBe("error DEPC1001: Cannot find environment module 'env/qa'. The environments in env/ are: eu, prod, staging.\n\nFound 1 error. No bundle was written.\n");
    expect(depc(dir, "check", "nowhere/prod").stderr).toBe(
      "error DEPC1001: Cannot find environment module 'nowhere/prod'. Give a path to an environment module such as env/prod or env/prod.ts.\n\nFound 1 error. No bundle was written.\n",
    );
  });

  it("check and build take several environments (npm run check: env/*.ts)", () => {
    const dir = project({ "env/prod.ts": good, "env/staging.ts": bad });
    const checked = depc(dir, "check", "env/prod.ts", "env/staging.ts");
    expect(checked.code).toBe(1);
    expect(checked.stdout).toBe("depc: prod is valid: 2 hosts, 1 resource\n");
    expect(checked.stderr).toContain("env/staging.ts:2:46 - error DEPC2001: File path must be absolute: \"etc/motd\"");
    writeFileSync(join(dir, "env/staging.ts"), good);
    const built = depc(dir, "build", "env/prod", "env/staging");
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/^  build\/prod\/web1\.sh  1 resource\n.*\n  build\/staging\/web1\.sh  1 resource\n/s);
    expect(depc(dir, "build", "env/prod", "env/staging", "--out", "x")).toMatchObject({
      code: 1,
      stderr: "depc: --out takes one environment; build several without --out (each goes to build/<environment>).\n",
    });
  });

  it("build from a subdirectory writes to the project's build/, and prints paths relative when shorter", () => {
    const dir = project({ "env/prod.ts": good, "docs/deep/er/README.md": "" });
    const r = depc(join(dir, "docs/deep/er"), "build", "../../../env/prod");
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^  \.\.\/\.\.\/\.\.\/build\/prod\/web1\.sh  1 resource\n/);
    expect(existsSync(join(dir, "build/prod/web1.sh"))).toBe(true);
    expect(existsSync(join(dir, "docs/deep/er/build"))).toBe(false);
    // From far away: the absolute path, not ../../../../tmp/...
    const far = join(dir, "a/b/c/d/e");
    mkdirSync(far, { recursive: true });
    const out = join(tmpdir(), `depc-out-${process.pid}`);
    try {
      const r2 = depc(far, "build", join(dir, "env/prod"), "--out", out);
      expect(r2.stdout).toContain(`\n  ${out}/web2.sh  0 resources\n`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("--no-cache type-checks afresh and refreshes the cache; a declaration file that disappeared is noticed", () => {
    const dir = project({
      "env/prod.ts": `import { environment, File } from "depc";\nimport type { Motd } from "./motd.js";\nconst motd: Motd = "hi\\n";\nexport default environment({ hosts: { web1: [File({ path: "/etc/motd", content: motd })] } });\n`,
      "env/motd.d.ts": "export type Motd = string;\n",
    });
    expect(depc(dir, "build", "env/prod", "--no-cache").stdout).not.toContain("cached");
    expect(depc(dir, "build", "env/prod").stdout).toContain("(type-check cached)");
    rmSync(join(dir, "env/motd.d.ts"));
    const r = depc(dir, "check", "env/prod");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("env/prod.ts:2:27 - error TS2307: Cannot find module './motd.js' or its corresponding type declarations.");
  });

  it("a second build reuses the type-check when no source changed, and notices a change", () => {
    const dir = project({ "env/prod.ts": good, "lib.ts": "export const motd = 'a';\n" });
    mkdirSync(join(dir, "node_modules", ".cache"), { recursive: true });
    expect(depc(dir, "build", "env/prod").stdout).not.toContain("cached");
    // The check left V8's code cache of TypeScript beside its result; the check below loads TypeScript through it.
    expect(readdirSync(join(dir, "node_modules/.cache/depc")).filter((n) => /^typescript-.*\.code$/.test(n))).toHaveLength(1);
    expect(depc(dir, "build", "env/prod").stdout).toContain("(type-check cached)");
    writeFileSync(join(dir, "env/prod.ts"), good.replace('"hi\\n"', "1"));
    const r = depc(dir, "build", "env/prod");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error TS2322");
  });
});
