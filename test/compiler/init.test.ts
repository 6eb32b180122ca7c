import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main, type Io } from "../../compiler/cli.js";
import { projectName } from "../../tools/init/init.js";
import { repoRoot } from "../support/project.js";

// `depc init`, then the project it made, used as a user would: check, build,
// apply the bundle with sh. Real users run `npm install`; here
// node_modules/depc is a link to this repository (what npm makes of a
// `file:` dependency), which is faster and works offline.

const version = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version as string;
const files = [".gitignore", "README.md", "components/app.ts", "env/dev.ts", "package.json", "tsconfig.json"];

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "depc-init-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function depc(cwd: string, ...args: string[]) {
  let stdout = "";
  let stderr = "";
  const io: Io = { cwd, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), color: false };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** Every file below `dir`, sorted, skipping node_modules. */
function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.name === "node_modules" ? [] : e.isDirectory() ? listFiles(dir, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

describe("depc init", () => {
  it("creates a project that checks, builds and applies", async () => {
    const parent = tempDir();
    const name = `demo-${parent.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, "x")}`;
    const root = `/tmp/depc-${name}`;
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));

    const init = await depc(parent, "init", name, "--depc-spec", `file:${repoRoot}`);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    expect(init.stdout).toBe(
      `depc: created ${name} in ${name}\n` +
        "  package.json\n  tsconfig.json\n  .gitignore\n  README.md\n  components/app.ts\n  env/dev.ts\n" +
        `\nNext:\n  cd ${name}\n  npm install\n  npx depc build env/dev\n  sh build/dev/localhost.sh --check\n`,
    );
    const dir = join(parent, name);
    expect(listFiles(dir)).toEqual(files);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))).toMatchObject({
      name,
      private: true,
      type: "module",
      dependencies: { depc: `file:${repoRoot}` },
    });
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toBe("build/\nnode_modules/\n");
    expect(readFileSync(join(dir, "env/dev.ts"), "utf8")).toContain(`root: "${root}"`);

    mkdirSync(join(dir, "node_modules"));
    symlinkSync(repoRoot, join(dir, "node_modules", "depc"));

    expect(await depc(dir, "check", "env/dev")).toMatchObject({ code: 0, stderr: "", stdout: "depc: dev is valid: 1 host, 3 resources\n" });
    const build = await depc(dir, "build", "env/dev");
    expect(build.stderr).toBe("");
    expect(build.code).toBe(0);
    expect(build.stdout).toContain("build/dev/localhost.sh  3 resources\n");

    // The bundle, as the README says: check, apply, and a second apply changes nothing.
    // Its state (lock, log) in the test's directory, not in /var/lib/depc when the tests run as root.
    const env = { ...process.env, DEPC_STATE_DIR: join(parent, "state") };
    const sh = (...args: string[]) => spawnSync("sh", [join(dir, "build/dev/localhost.sh"), ...args], { encoding: "utf8", env });
    expect(sh("--check").status).toBe(2);
    const apply = sh();
    expect(apply.stdout).toMatch(/\b3 changed\b.*\b0 failed\b/);
    expect(apply.status).toBe(0);
    expect(readFileSync(join(root, "app.ini"), "utf8")).toBe("[app]\nport = 8081\nhost = localhost\n");
    expect(readFileSync(join(root, "index.html"), "utf8")).toBe("<h1>Hello from depc</h1>\n");
    const again = sh("--check");
    expect(again.status).toBe(0);
  });

  it("writes a tsconfig.json that editors (tsc) accept as written", async () => {
    const dir = tempDir();
    expect((await depc(dir, "init", "--depc-spec", `file:${repoRoot}`)).code).toBe(0);
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(repoRoot, join(dir, "node_modules", "depc"));
    const tsc = createRequire(join(repoRoot, "package.json")).resolve("typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: dir, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("depends on this version of depc unless told otherwise, and names the package after the directory", async () => {
    const parent = tempDir();
    const r = await depc(parent, "init", "My Deploy!");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  cd 'My Deploy!'\n");
    const pkg = JSON.parse(readFileSync(join(parent, "My Deploy!", "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "my-deploy", dependencies: { depc: `^${version}` } });
    expect(projectName("__Foo.Bar__")).toBe("foo.bar__");
    expect(projectName("!!!")).toBe("deployment");
  });

  it("--name: the package name, checked", async () => {
    const dir = tempDir();
    const bad = await depc(dir, "init", "--name", "Bad Name");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `depc: --name "Bad Name" is not a usable package name: use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit.\n`,
    );
    expect(readdirSync(dir)).toEqual([]);
    expect((await depc(dir, "init", "--name", "shop")).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name).toBe("shop");
    expect(readFileSync(join(dir, "env/dev.ts"), "utf8")).toContain('root: "/tmp/depc-shop"');
  });

  it("refuses to overwrite anything: names the files, writes nothing, exits 1", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "env"));
    writeFileSync(join(dir, "env/dev.ts"), "// mine\n");
    writeFileSync(join(dir, "README.md"), "# mine\n");
    const r = await depc(dir, "init");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("depc: . already has README.md, env/dev.ts; init overwrites nothing.\nNothing was written. Choose an empty directory: depc init <dir>\n");
    expect(listFiles(dir)).toEqual(["README.md", "env/dev.ts"]);
    expect(readFileSync(join(dir, "env/dev.ts"), "utf8")).toBe("// mine\n");
  });

  it("a directory with other files is fine; a file in the way is not", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "notes.txt"), "keep\n");
    expect((await depc(dir, "init", ".")).code).toBe(0);
    expect(listFiles(dir)).toEqual([...files, "notes.txt"].sort());
    const blocked = await depc(dir, "init", "notes.txt");
    expect(blocked).toMatchObject({ code: 1, stderr: "depc: notes.txt exists and is not a directory. Nothing was written.\n" });
    expect(existsSync(join(dir, "notes.txt", "package.json"))).toBe(false);
  });
});
