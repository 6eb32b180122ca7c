import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Buildout, Directory, VirtualEnv, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells } from "../support/shells.js";
import { SYSTEM_PYTHON, buildBuildoutCompatWheel, pythonUnavailable, runBundle, tempDirs, writeRecipe } from "./fixtures.js";

// One venv and one buildout, taken through a change, an apply and a no-op
// by each shell of the matrix in turn (dash and busybox sh get the full
// treatment in virtualenv.test.ts and buildout.test.ts).
// pip, venv and buildout take seconds each, more on a loaded CI machine.
vi.setConfig({ testTimeout: 600_000 });
const unavailable = pythonUnavailable(true);
const temp = tempDirs();
afterAll(() => temp.cleanup());

describe.skipIf(unavailable !== undefined)("VirtualEnv and Buildout under every shell", () => {
  it("each shell applies a change once, then changes nothing", async () => {
    const root = temp.make("depc-python-shells-");
    const home = join(root, "home");
    mkdirSync(home);
    const wheels = join(root, "wheels");
    const shells = availableShells();
    shells.forEach((_, i) => buildBuildoutCompatWheel(wheels, `1.${i}`));
    const recipe = writeRecipe(root);
    const dir = join(root, "app");
    const venvPath = join(root, "venv");
    const bundle = join(root, "h.sh");
    const build = (i: number) => {
      const venv = VirtualEnv({
        path: venvPath,
        python: SYSTEM_PYTHON,
        systemSitePackages: true,
        requirements: [`depc-buildout-compat==1.${i}`],
        pipOptions: ["--no-index", "--find-links", wheels],
      });
      const config = `[buildout]\ndevelop = ${recipe}\nparts = greeting\nnewest = false\n\n[greeting]\nrecipe = depcrecipe\noutput = greeting.txt\ntext = shell ${i}\n`;
      writeFileSync(bundle, compileValue(environment({ hosts: { h: [Directory({ path: dir }), venv, Buildout({ directory: dir, config, executable: venv, offline: true })] } })).bundles!.get("h")!);
    };
    const timings: string[] = [];
    for (const [i, shell] of shells.entries()) {
      build(i);
      const run = (...args: string[]) => runBundle(shell, bundle, args, { home, state: join(root, "state") });
      const check = await run("--check");
      expect(check.status, `${shell.name}: ${check.stdout}${check.stderr}`).toBe(2);
      expect(check.stdout, shell.name).toContain(`would change  virtualenv ${venvPath} (${i === 0 ? "created, " : ""}installs requirements)\n`);
      const apply = await run();
      expect(apply.status, `${shell.name}: ${apply.stdout}${apply.stderr}`).toBe(0);
      expect(apply.stdout, shell.name).toContain(`changed       virtualenv ${venvPath} (${i === 0 ? "created, " : ""}installed requirements)\n`);
      expect(apply.stdout, shell.name).toContain(`changed       buildout ${dir}/buildout.cfg (buildout.cfg ${i === 0 ? "created" : "content"}, ran ${venvPath}/bin/buildout -c buildout.cfg -o)\n`);
      expect(readFileSync(join(dir, "greeting.txt"), "utf8")).toBe(`shell ${i}\n`);
      const noop = await run();
      expect(noop.status, shell.name).toBe(0);
      expect(noop.stdout, shell.name).toContain("3 resources: 0 changed, 3 ok, 0 failed");
      expect((await run("--check")).status, shell.name).toBe(0);
      timings.push(`${shell.name}: apply ${apply.ms} ms, no-op ${noop.ms} ms`);
    }
    console.log(`VirtualEnv + Buildout: ${timings.join("; ")}`);
  });
});
