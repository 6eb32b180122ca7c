import { spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/project.js";

// The README's "Your own deployment", run as a new user would on a fresh
// machine: a clean copy of this repository (its tracked files as they are
// in the work tree: no node_modules, no dist), then exactly the README's
// commands, in order. depc is on no registry: every step but the two
// `npm install`s runs with the registry pointed at a closed port, so
// nothing can be fetched by name (not `depc`, not an unrelated `tsc`), and
// the project's lockfile must show depc installed from the vendored file.
// The other dependencies come from the registry (through npm's cache).

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");

/** The shell block after the "Your own deployment" heading: one command a line. */
function readmeCommands(): string[] {
  const section = readme.slice(readme.indexOf("\n## Your own deployment\n"));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!section.startsWith("\n## Your own deployment") || block === null) throw new Error("README: no 'Your own deployment' section with a sh block");
  return block[1]!.trim().split("\n");
}

const parent = mkdtempSync(join(tmpdir(), "depc-fresh-"));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** The environment of a new shell: nothing npm, vitest or this checkout set. */
function freshEnv(registry: "reachable" | "closed"): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|VITEST|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i.test(k)) env[k] = v;
  }
  env.npm_config_update_notifier = "false";
  if (registry === "closed") env.npm_config_registry = "http://127.0.0.1:9/";
  return env;
}

/** What a build or an install leaves in a checkout: not part of a clean copy. */
const BUILT = new Set(["node_modules", "dist", "build", ".git"]);

/** The clone's tracked and new (not ignored) files, copied as they are now; without git, all but what a build makes. */
function cleanCopy(to: string): void {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" });
  if (listed.status !== 0) {
    cpSync(repoRoot, to, { recursive: true, filter: (source) => !BUILT.has(source.slice(repoRoot.length + 1).split("/")[0]!) });
    return;
  }
  for (const file of listed.stdout.split("\0").filter((f) => f !== "")) {
    if (!existsSync(join(repoRoot, file))) continue; // deleted in the work tree
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(to, file));
  }
}

describe("a fresh machine: install depc from a clone, start a project, build it", () => {
  it("runs the README's commands in order; each exits 0; the bundle is built", () => {
    const clone = join(parent, "depc");
    cleanCopy(clone);
    expect(existsSync(join(clone, "node_modules"))).toBe(false);
    expect(existsSync(join(clone, "dist"))).toBe(false);

    const commands = readmeCommands();
    expect(commands).toEqual([
      "npm install",
      "npx depc init ../mydeploy",
      "cd ../mydeploy",
      "npm install",
      "npx depc build env/dev",
      "npx tsc --noEmit",
      "npm run check",
    ]);
    const timings: string[] = [];
    let cwd = clone;
    for (const command of commands) {
      if (command.startsWith("cd ")) {
        cwd = resolve(cwd, command.slice(3));
        continue;
      }
      const install = command === "npm install";
      // The cache first: fast, and the same packages as the registry would give.
      const argv = install ? [...command.split(" "), "--prefer-offline", "--no-audit", "--no-fund"] : command.split(" ");
      const started = Date.now();
      const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env: freshEnv(install ? "reachable" : "closed"), encoding: "utf8", timeout: 480_000 });
      timings.push(`${command}: ${((Date.now() - started) / 1000).toFixed(1)}s`);
      expect(r.status, `${command} (in ${cwd})\n${r.stdout}${r.stderr}`).toBe(0);
    }
    console.log(`fresh machine: ${timings.join(", ")}`);

    const project = join(parent, "mydeploy");
    // depc came from the vendored package file, installed as a real copy.
    const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8"));
    expect(lock.packages["node_modules/depc"].resolved).toBe("file:vendor/depc-0.1.0.tgz");
    expect(lstatSync(join(project, "node_modules/depc")).isSymbolicLink()).toBe(false);
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(["@types/node", "typescript"]);

    // The bundle of env/dev: one host, its three resources, a manifest naming it.
    const bundle = readFileSync(join(project, "build/dev/localhost.sh"), "utf8");
    expect(bundle).toMatch(/^#!\/bin\/sh\n/);
    expect(bundle).toContain("/tmp/depc-mydeploy/app.ini");
    const manifest = JSON.parse(readFileSync(join(project, "build/dev/manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ environment: "dev", hosts: [{ name: "localhost", bundle: "localhost.sh", resources: 3 }] });
    // It runs: --check changes nothing and accounts for the three resources
    // (/tmp/depc-mydeploy may exist from an earlier run: pending or not).
    const state = join(parent, "state");
    const check = spawnSync("sh", [join(project, "build/dev/localhost.sh"), "--check"], { encoding: "utf8", env: { ...process.env, DEPC_STATE_DIR: state } });
    expect(check.stdout).toMatch(/\ndepc: dev\/localhost \(check\): 3 resources: \d would change, \d ok\n$/);
    expect([0, 2], check.stdout + check.stderr).toContain(check.status);
  }, 900_000);
});
