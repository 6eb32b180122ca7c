import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main, type Io } from "../../compiler/cli.js";
import { projectName } from "../../tools/init/init.js";
import { modelTsconfigOptions } from "../../compiler/load/model-options.js";
import { repoRoot } from "../support/project.js";

// `depc init`, then the project it made, used as a user would: check, build,
// apply the bundle with sh. Real users run `npm install`; here
// node_modules/depc is a link to this repository (what npm makes of a
// `file:` dependency), which is faster and works offline.

const ownPackage = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
const version = ownPackage.version as string;
const files = [".gitignore", "README.md", "components/app.ts", "depc", "env/dev.ts", "package.json", "tsconfig.json"];

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "depc-init-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What npm install would give the project: depc (this repository) and Node's declarations. */
function linkModules(dir: string): void {
  mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
  symlinkSync(repoRoot, join(dir, "node_modules", "depc"));
  symlinkSync(join(repoRoot, "node_modules", "@types", "node"), join(dir, "node_modules", "@types", "node"));
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
        "  package.json\n  tsconfig.json\n  .gitignore\n  depc\n  README.md\n  components/app.ts\n  env/dev.ts\n" +
        `\nNext:\n  cd ${name}\n  npm install\n  ./depc build env/dev\n  npx tsc --noEmit\n  npm run check\n  sh build/dev/localhost.sh --check\n`,
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

    linkModules(dir);

    expect(await depc(dir, "check", "env/dev")).toMatchObject({ code: 0, stderr: "", stdout: "depc: dev is valid: 1 host, 3 resources\n" });
    // ./depc: the project's depc without npx, from the project and from elsewhere.
    expect(statSync(join(dir, "depc")).mode & 0o777).toBe(0o755);
    const launched = spawnSync(join(dir, "depc"), ["check", "env/dev"], { cwd: dir, encoding: "utf8" });
    expect(launched.stderr).toBe("");
    expect(launched.stdout).toBe("depc: dev is valid: 1 host, 3 resources\n");
    expect(spawnSync("sh", ["./depc", "--version"], { cwd: dir, encoding: "utf8" }).stdout).toBe(`${version}\n`);
    expect(spawnSync(join(name, "depc"), ["--version"], { cwd: parent, encoding: "utf8" }).stdout).toBe(`${version}\n`);
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

  it("writes a tsconfig.json with depc's own compiler options: tsc --noEmit and depc check agree", async () => {
    const dir = tempDir();
    expect((await depc(dir, "init", "--depc-spec", `file:${repoRoot}`)).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")).compilerOptions).toEqual(modelTsconfigOptions);
    linkModules(dir);
    const tsc = createRequire(join(repoRoot, "package.json")).resolve("typescript/bin/tsc");
    const typeCheck = () => spawnSync(process.execPath, [tsc, "--noEmit"], { cwd: dir, encoding: "utf8" });
    const r = typeCheck();
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);

    // Node's modules in a model (the docs' VirtualEnv example reads a file with node:fs): both accept them.
    const reader = `import { hostname } from "node:os";\nimport { component, File } from "depc";\nexport const motd = component({\n  name: "motd",\n  build() {\n    File({ path: "/tmp/motd", content: \`built on \${hostname()}\\n\` });\n  },\n});\n`;
    writeFileSync(join(dir, "components/motd.ts"), reader);
    writeFileSync(join(dir, "env/dev.ts"), readFileSync(join(dir, "env/dev.ts"), "utf8").replace('import { app } from "../components/app.ts";', 'import { app } from "../components/app.ts";\nimport { motd } from "../components/motd.ts";').replace("localhost: [app]", "localhost: [app, motd]"));
    expect(typeCheck().stdout).toBe("");
    expect(await depc(dir, "check", "env/dev")).toMatchObject({ code: 0, stdout: "depc: dev is valid: 1 host, 4 resources\n" });

    // A mistake: both reject it, at the same line.
    writeFileSync(join(dir, "components/motd.ts"), reader.replace('path: "/tmp/motd"', "path: 42"));
    const bad = typeCheck();
    expect(bad.status).toBe(2);
    expect(bad.stdout).toContain("components/motd.ts(6,12): error TS2322: Type 'number' is not assignable to type 'string'.");
    const checked = await depc(dir, "check", "env/dev");
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain("components/motd.ts:6:12 - error TS2322: Type 'number' is not assignable to type 'string'.");
  });

  it("vendors depc unless told otherwise (it is on no registry yet), and names the package after the directory", async () => {
    const parent = tempDir();
    const r = await depc(parent, "init", "My Deploy!");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`  env/dev.ts\n  vendor/depc-${version}.tgz\n\nNext:\n  cd 'My Deploy!'\n`);
    const pkg = JSON.parse(readFileSync(join(parent, "My Deploy!", "package.json"), "utf8"));
    expect(pkg).toMatchObject({
      name: "my-deploy",
      dependencies: { depc: `file:vendor/depc-${version}.tgz` },
      devDependencies: { typescript: ownPackage.dependencies.typescript, "@types/node": ownPackage.devDependencies["@types/node"] },
      scripts: { check: "depc check env/*.ts", build: "depc build env/*.ts", deploy: "depc deploy", plan: "depc plan" },
    });
    // The package file holds what a build needs: the compiler, the runtime, the stdlib's types.
    const listed = spawnSync("tar", ["-tzf", join(parent, "My Deploy!", `vendor/depc-${version}.tgz`)], { encoding: "utf8" }).stdout.split("\n");
    for (const file of ["package/package.json", "package/bin/depc.js", "package/dist/cli/depc.js", "package/dist/compiler/cli.js", "package/dist/model/index.d.ts", "package/runtime/README.md", "package/kinds/file/file.sh"]) {
      expect(listed).toContain(file);
    }
    expect(listed.filter((f) => f.startsWith("package/runtime/") && f.endsWith(".sh")).length).toBeGreaterThan(3);
    // Existing vendored file: nothing is overwritten.
    const again = await depc(join(parent, "My Deploy!"), "init", ".", "--name", "other");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`vendor/depc-${version}.tgz; init overwrites nothing.`);
    expect(projectName("__Foo.Bar__")).toBe("foo.bar__");
    expect(projectName("!!!")).toBe("deployment");
  });

  it("without npm to pack depc: says so, writes nothing, and names the way out", () => {
    const parent = tempDir();
    const env: NodeJS.ProcessEnv = { PATH: "/nonexistent", HOME: parent };
    const r = spawnSync(process.execPath, [join(repoRoot, "bin/depc.js"), "init", "my-x"], { cwd: parent, env, encoding: "utf8" });
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "depc: cannot put depc into my-x/vendor: cannot run npm pack: ENOENT\n" +
        "Nothing else was written. Give --depc-spec to depend on depc another way (e.g. file:/path/to/a/clone).\n",
    );
    expect(r.status).toBe(1);
    expect(readdirSync(join(parent, "my-x"))).toEqual([]);
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
    expect(listFiles(dir)).toEqual([...files, "notes.txt", `vendor/depc-${version}.tgz`].sort());
    const blocked = await depc(dir, "init", "notes.txt");
    expect(blocked).toMatchObject({ code: 1, stderr: "depc: notes.txt exists and is not a directory. Nothing was written.\n" });
    expect(existsSync(join(dir, "notes.txt", "package.json"))).toBe(false);
  });
});
