import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Buildout, Directory, File, VirtualEnv, environment } from "../../model/index.js";
import type { BuildoutOptions } from "../../kinds/buildout/buildout.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, requireTool, type Shell } from "../support/shells.js";
import { SYSTEM_PYTHON, buildBuildoutCompatWheel, buildoutExecutable, pythonUnavailable, runBundle, tempDirs, writeRecipe } from "./fixtures.js";

// Buildout against Debian's zc.buildout, offline (-o, newest = false), with
// a recipe from a develop egg made here.
// pip, venv and buildout take seconds each, more on a loaded CI machine.
vi.setConfig({ testTimeout: 600_000 });
const unavailable = pythonUnavailable(true);
const shells = availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh");
const temp = tempDirs();
let executable = "";
beforeAll(() => {
  if (unavailable === undefined) executable = buildoutExecutable(temp.make("depc-buildout-exe-"));
});
afterAll(() => temp.cleanup());

/** A buildout.cfg with one part from the develop egg `recipe` (see writeRecipe). */
const cfg = (recipe: string, text: string, extra = "") =>
  `[buildout]\ndevelop = ${recipe}\nparts = greeting\nnewest = false\n${extra}\n[greeting]\nrecipe = depcrecipe\noutput = greeting.txt\ntext = ${text}\n`;

function host(shell: Shell) {
  const root = temp.make("depc-buildout-");
  const dir = join(root, "app");
  const home = join(root, "home");
  const state = join(root, "state");
  mkdirSync(home);
  const recipe = writeRecipe(root);
  const bundle = join(root, "h.sh");
  /** Builds the host: the directory, the buildout, and what `more` adds around it. */
  const build = (options: Omit<BuildoutOptions, "directory" | "executable">, more: readonly ReturnType<typeof File>[] = []) => {
    const bo = Buildout({ directory: dir, executable, ...options });
    const result = compileValue(environment({ hosts: { h: [Directory({ path: dir }), ...more, bo] } }));
    writeFileSync(bundle, result.bundles!.get("h")!);
  };
  return {
    root,
    dir,
    build,
    config: (text: string, extra = "") => cfg(recipe, text, extra),
    run: (...args: string[]) => runBundle(shell, bundle, args, { home, state }),
    installs: () => (existsSync(join(dir, "installs.log")) ? readFileSync(join(dir, "installs.log"), "utf8").split("\n").filter(Boolean) : []),
  };
}

describe.skipIf(unavailable !== undefined).each(shells.map((s) => [s.name, s] as const))("Buildout under %s", (_name, shell) => {
  it("writes the configs and runs buildout once; reruns only on change; --check does nothing", async () => {
    const h = host(shell);
    h.build({ config: h.config("hello", "extends = versions.cfg\n"), extraFiles: { "versions.cfg": "[versions]\n" }, offline: true });

    const check = await h.run("--check");
    expect(check.status, check.stdout + check.stderr).toBe(2);
    const key = `${h.dir}/buildout.cfg`;
    expect(check.stdout).toContain(`would change  buildout ${key} (buildout.cfg created, versions.cfg created, runs ${executable} -c buildout.cfg -o)\n`);
    expect(check.stdout).toContain(`--- ${key}\n+++ ${key} (depc)\n@@ -0,0 +1,10 @@\n+[buildout]\n+develop = ${h.root}/recipe\n`);
    expect(check.stdout).toContain(`--- ${h.dir}/versions.cfg\n+++ ${h.dir}/versions.cfg (depc)\n@@ -0,0 +1 @@\n+[versions]\n`);
    expect(existsSync(h.dir)).toBe(false);

    const first = await h.run();
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(`changed       buildout ${key} (buildout.cfg created, versions.cfg created, ran ${executable} -c buildout.cfg -o)\n`);
    expect(readFileSync(join(h.dir, "greeting.txt"), "utf8")).toBe("hello\n");
    expect(h.installs()).toEqual(["hello"]);
    expect(readFileSync(join(h.dir, ".depc-buildout"), "utf8")).toMatch(/^sha256:[0-9a-f]{64}\n$/);

    const second = await h.run();
    expect(second.status, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain(`ok            buildout ${key}\n`);
    expect(second.stdout).toContain("2 resources: 0 changed, 2 ok, 0 failed");
    expect(h.installs()).toEqual(["hello"]);
    expect((await h.run("--check")).status).toBe(0);
    console.log(`Buildout under ${shell.name}: first apply ${first.ms} ms, no-op apply ${second.ms} ms`);

    // A changed config: --check shows the diff and runs nothing; apply runs buildout once.
    h.build({ config: h.config("bonjour", "extends = versions.cfg\n"), extraFiles: { "versions.cfg": "[versions]\n" }, offline: true });
    const pending = await h.run("--check");
    expect(pending.status).toBe(2);
    expect(pending.stdout).toContain(`would change  buildout ${key} (buildout.cfg content, runs ${executable} -c buildout.cfg -o)\n`);
    expect(pending.stdout).toContain("-text = hello\n+text = bonjour\n");
    expect(h.installs()).toEqual(["hello"]);
    const changed = await h.run();
    expect(changed.stdout).toContain(`changed       buildout ${key} (buildout.cfg content, ran ${executable} -c buildout.cfg -o)\n`);
    expect(readFileSync(join(h.dir, "greeting.txt"), "utf8")).toBe("bonjour\n");
    expect(h.installs()).toEqual(["hello", "bonjour"]);

    // An extra file changed by hand is put back, and buildout runs again.
    writeFileSync(join(h.dir, "versions.cfg"), "[versions]\nzc.buildout = 0\n");
    const repaired = await h.run();
    expect(repaired.stdout).toContain(`changed       buildout ${key} (versions.cfg content, ran ${executable} -c buildout.cfg -o)\n`);
    expect(h.installs()).toEqual(["hello", "bonjour", "bonjour"]);
    expect((await h.run()).stdout).toContain("0 changed, 2 ok");
  });

  it("a failing part fails with buildout's message and is run again until it succeeds", async () => {
    const h = host(shell);
    h.build({ config: h.config("hello", "offline = true\n") });
    expect((await h.run()).status).toBe(0);
    const key = `${h.dir}/buildout.cfg`;

    h.build({ config: `${h.config("hello", "offline = true\n")}fail = boom\n` });
    const failed = await h.run();
    expect(failed.status).toBe(1);
    expect(failed.stdout).toMatch(
      new RegExp(`failed        buildout ${key}: ${executable} -c buildout.cfg exited with status 1:\\n(    .*\\n)*    .*RuntimeError: recipe failed on purpose: boom\\n`),
    );
    expect(existsSync(join(h.dir, ".depc-buildout"))).toBe(false);
    // The config is written; the run did not complete, so it is still pending.
    const check = await h.run("--check");
    expect(check.stdout).toContain(`would change  buildout ${key} (runs ${executable} -c buildout.cfg)\n`);
    expect((await h.run()).status).toBe(1);

    h.build({ config: h.config("fixed", "offline = true\n") });
    const fixed = await h.run();
    expect(fixed.status, fixed.stdout + fixed.stderr).toBe(0);
    expect(readFileSync(join(h.dir, "greeting.txt"), "utf8")).toBe("fixed\n");
    expect((await h.run()).stdout).toContain("0 changed, 2 ok");
  });

  it("runs again when a whenChanged dependency changed, and only then", async () => {
    const h = host(shell);
    const make = (v: string) => {
      const settings = File({ path: `${h.root}/settings.ini`, content: v });
      h.build({ config: h.config("hello"), offline: true, whenChanged: [settings] }, [settings]);
    };
    make("a = 1\n");
    const first = await h.run();
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(h.installs()).toEqual(["hello"]);
    expect((await h.run()).stdout).toContain("0 changed, 3 ok");
    make("a = 2\n");
    const check = await h.run("--check");
    expect(check.stdout).toContain(`would change  buildout ${h.dir}/buildout.cfg (runs ${executable} -c buildout.cfg -o)\n`);
    expect(h.installs()).toEqual(["hello"]);
    const second = await h.run();
    expect(second.stdout).toMatch(/changed       file .*settings\.ini \(content\)\n(.*\n)*changed       buildout .* \(ran .* -c buildout\.cfg -o\)\n/);
    expect(h.installs()).toEqual(["hello", "hello"]);
    expect((await h.run()).stdout).toContain("0 changed, 3 ok");
  });
});

describe.skipIf(unavailable !== undefined).each(shells.map((s) => [s.name, s] as const))("Buildout from a VirtualEnv under %s", (_name, shell) => {
  it("uses the venv's bin/buildout, comes after the venv and runs again when the venv changed", async () => {
    const root = temp.make("depc-buildout-venv-");
    const home = join(root, "home");
    mkdirSync(home);
    const wheels = join(root, "wheels");
    buildBuildoutCompatWheel(wheels, "1.0");
    buildBuildoutCompatWheel(wheels, "2.0");
    const recipe = writeRecipe(root);
    const dir = join(root, "app");
    const path = join(root, "venv");
    const bundle = join(root, "h.sh");
    const build = (version: string) => {
      const venv = VirtualEnv({
        path,
        python: SYSTEM_PYTHON,
        systemSitePackages: true,
        requirements: [`depc-buildout-compat==${version}`],
        pipOptions: ["--no-index", "--find-links", wheels],
      });
      // Declared before its venv on purpose: the executable orders it after.
      const bo = Buildout({ directory: dir, config: cfg(recipe, "hello"), executable: venv, offline: true });
      writeFileSync(bundle, compileValue(environment({ hosts: { h: [Directory({ path: dir }), bo, venv] } })).bundles!.get("h")!);
    };
    const run = (...args: string[]) => runBundle(shell, bundle, args, { home, state: join(root, "state") });
    const installs = () => readFileSync(join(dir, "installs.log"), "utf8").split("\n").filter(Boolean).length;
    build("1.0");
    const first = await run();
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(`changed       virtualenv ${path} \\(created, installed requirements\\)\\nchanged       buildout ${dir}/buildout.cfg \\(buildout.cfg created, ran ${path}/bin/buildout -c buildout.cfg -o\\)\\n`),
    );
    expect(installs()).toBe(1);
    expect((await run()).stdout).toContain("3 resources: 0 changed, 3 ok, 0 failed");

    build("2.0");
    const check = await run("--check");
    expect(check.stdout).toContain(`would change  virtualenv ${path} (installs requirements)\n`);
    expect(check.stdout).toContain(`would change  buildout ${dir}/buildout.cfg (runs ${path}/bin/buildout -c buildout.cfg -o)\n`);
    const second = await run();
    expect(second.status, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain(`changed       virtualenv ${path} (installed requirements)\nchanged       buildout ${dir}/buildout.cfg (ran ${path}/bin/buildout -c buildout.cfg -o)\n`);
    expect(installs()).toBe(2);
    expect((await run()).stdout).toContain("3 resources: 0 changed, 3 ok, 0 failed");
  });
});

const dash = shells.find((s) => s.name === "dash");
describe.skipIf(unavailable !== undefined || dash === undefined)("Buildout on the host", () => {

  it("a missing directory fails apply and is pending in --check; a missing executable names the host", async () => {
    const root = temp.make("depc-buildout-fail-");
    const home = join(root, "home");
    mkdirSync(home);
    const result = compileValue(
      environment({
        hosts: {
          h: [Buildout({ directory: join(root, "nope"), config: "[buildout]\nparts =\n", executable }), Buildout({ directory: root, config: "[buildout]\nparts =\n", executable: "no-such-buildout" })],
        },
      }),
    );
    const bundle = join(root, "h.sh");
    writeFileSync(bundle, result.bundles!.get("h")!);
    const check = await runBundle(dash!, bundle, ["--check"], { home, state: join(root, "state") });
    expect(check.status).toBe(2);
    expect(check.stdout).toContain(`would change  buildout ${root}/nope/buildout.cfg (buildout.cfg created, runs ${executable} -c buildout.cfg)\n`);
    const apply = await runBundle(dash!, bundle, [], { home, state: join(root, "state") });
    expect(apply.status).toBe(1);
    expect(apply.stdout).toContain(`failed        buildout ${root}/nope/buildout.cfg: parent directory ${root}/nope does not exist\n`);
    mkdirSync(join(root, "nope"));
    const again = await runBundle(dash!, bundle, [], { home, state: join(root, "state") });
    expect(again.stdout).toMatch(new RegExp(`failed        buildout ${root}/buildout.cfg: buildout executable 'no-such-buildout' not found on host h \\(PATH=.*\\)\\n`));
  });

  it.runIf(requireTool("timeout"))("a buildout that takes longer than its timeout is stopped and fails", async () => {
    const root = temp.make("depc-buildout-slow-");
    const home = join(root, "home");
    mkdirSync(home);
    const slow = join(root, "slow-buildout");
    // busybox's timeout stops only the program it started (this sh), not the sleep it
    // runs, which lives on; the bundle must still finish at once and hold no pipe of ours.
    writeFileSync(slow, "#!/bin/sh\nsleep 20\n", { mode: 0o755 });
    const result = compileValue(environment({ hosts: { h: [Buildout({ directory: root, config: "[buildout]\nparts =\n", executable: slow, timeout: 1 })] } }));
    const bundle = join(root, "h.sh");
    writeFileSync(bundle, result.bundles!.get("h")!);
    for (const shell of shells) {
      const r = await runBundle(shell, bundle, [], { home, state: join(root, "state") });
      expect(r.status, shell.name).toBe(1);
      expect(r.stdout).toContain(`failed        buildout ${root}/buildout.cfg: ${slow} -c buildout.cfg timed out after 1s\n`);
      expect(r.ms, shell.name).toBeLessThan(15_000);
    }
  });
});
