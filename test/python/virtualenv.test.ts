import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { File, VirtualEnv, environment } from "../../model/index.js";
import type { VirtualEnvOptions } from "../../kinds/virtualenv/virtualenv.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, type Shell } from "../support/shells.js";
import { SYSTEM_PYTHON, buildWheel, logPipCalls, pythonUnavailable, runBundle, tempDirs } from "./fixtures.js";

// VirtualEnv against Debian's real `python3 -m venv` and pip, offline: the
// wheels are built here, pip installs them with --no-index --find-links.
// pip, venv and buildout take seconds each, more on a loaded CI machine.
vi.setConfig({ testTimeout: 600_000 });
const unavailable = pythonUnavailable(false);
const shells = availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh");
const temp = tempDirs();
afterAll(() => temp.cleanup());

function host(shell: Shell, options: (root: string) => Omit<VirtualEnvOptions, "path">) {
  const root = temp.make("depc-venv-");
  const wheels = join(root, "wheels");
  buildWheel(wheels, "depc-hello", "1.0");
  buildWheel(wheels, "depc-hello", "2.0");
  const venv = join(root, "venv");
  const home = join(root, "home");
  const state = join(root, "state");
  mkdirSync(home);
  const pipLog = join(root, "pip-calls.log");
  let bundle = "";
  const build = (opts: Omit<VirtualEnvOptions, "path">, extra: readonly ReturnType<typeof File>[] = []) => {
    const result = compileValue(environment({ hosts: { h: [VirtualEnv({ path: venv, ...opts }), ...extra] } }));
    bundle = join(root, "h.sh");
    writeFileSync(bundle, result.bundles!.get("h")!);
  };
  build(options(root));
  return {
    root,
    wheels,
    venv,
    pipLog,
    build,
    run: (...args: string[]) => runBundle(shell, bundle, args, { home, state }),
    /** What the venv's Python imports, or its error. */
    hello: () => {
      const r = spawnSync(join(venv, "bin", "python"), ["-c", "import depc_hello; print(depc_hello.VERSION)"], { encoding: "utf8" });
      return r.status === 0 ? r.stdout.trim() : `error: ${r.stderr.trim().split("\n").pop()}`;
    },
    pipCalls: () => (existsSync(pipLog) ? readFileSync(pipLog, "utf8").split("\n").filter(Boolean) : []),
  };
}

const offline = (root: string) => ["--no-index", "--find-links", join(root, "wheels")];

describe.skipIf(unavailable !== undefined).each(shells.map((s) => [s.name, s] as const))("VirtualEnv under %s", (_name, shell) => {
  it("creates and installs offline; the second run calls no pip; --check shows pending work without doing it", async () => {
    const h = host(shell, (root) => ({ python: SYSTEM_PYTHON, requirements: ["depc-hello==1.0"], pipOptions: offline(root) }));

    const check = await h.run("--check");
    expect(check.status, check.stdout + check.stderr).toBe(2);
    expect(check.stdout).toContain(`would change  virtualenv ${h.venv} (created, installs requirements)\n`);
    expect(check.stdout).toContain(`--- ${h.venv}/.depc-requirements.txt\n+++ ${h.venv}/.depc-requirements.txt (depc)\n@@ -0,0 +1 @@\n+depc-hello==1.0\n`);
    expect(existsSync(h.venv)).toBe(false);

    const first = await h.run();
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(`changed       virtualenv ${h.venv} (created, installed requirements)\n`);
    expect(h.hello()).toBe("1.0");
    expect(readFileSync(join(h.venv, ".depc-installed"), "utf8")).toMatch(/^sha256:[0-9a-f]{64} 3\.\d+\.\d+ \/\S+\n$/);
    expect(statSync(join(h.venv, ".depc-requirements.txt")).mode & 0o777).toBe(0o600);

    // From here on, every pip run is logged (the real pip still runs).
    logPipCalls(h.venv, h.pipLog);
    const lib = join(h.venv, "lib");
    const sitePackages = join(lib, readdirSync(lib).find((d) => d.startsWith("python"))!, "site-packages");
    const mtime = statSync(sitePackages).mtimeMs;
    const second = await h.run();
    expect(second.status, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain(`ok            virtualenv ${h.venv}\n`);
    expect(second.stdout).toContain("1 resources: 0 changed, 1 ok, 0 failed");
    expect(h.pipCalls()).toEqual([]);
    expect(statSync(sitePackages).mtimeMs).toBe(mtime);
    const again = await h.run("--check");
    expect(again.status, again.stdout).toBe(0);
    expect(h.pipCalls()).toEqual([]);
    console.log(`VirtualEnv under ${shell.name}: first apply ${first.ms} ms, no-op apply ${second.ms} ms`);
  });

  it("a changed requirement reinstalls (dry run first); a broken one fails with pip's message and the venv keeps working", async () => {
    // A requirements file's content (several lines) works as well as single requirements.
    const h = host(shell, (root) => ({ python: SYSTEM_PYTHON, requirements: ["# pinned\ndepc-hello==1.0\n"], pipOptions: offline(root) }));
    expect((await h.run()).status).toBe(0);
    logPipCalls(h.venv, h.pipLog);

    h.build({ python: SYSTEM_PYTHON, requirements: ["depc-hello==2.0"], pipOptions: offline(h.root) });
    const check = await h.run("--check");
    expect(check.status).toBe(2);
    expect(check.stdout).toContain(`would change  virtualenv ${h.venv} (installs requirements)\n`);
    expect(check.stdout).toContain("@@ -1,2 +1 @@\n-# pinned\n-depc-hello==1.0\n+depc-hello==2.0\n");
    expect(h.pipCalls()).toEqual([]);
    expect(h.hello()).toBe("1.0");

    const upgrade = await h.run();
    expect(upgrade.status, upgrade.stdout + upgrade.stderr).toBe(0);
    expect(upgrade.stdout).toContain(`changed       virtualenv ${h.venv} (installed requirements)\n`);
    expect(h.hello()).toBe("2.0");
    const req = join(h.venv, ".depc-requirements.txt");
    expect(h.pipCalls()).toEqual([
      `install --dry-run --no-index --find-links ${h.wheels} -r ${req}`,
      `install --no-index --find-links ${h.wheels} -r ${req}`,
    ]);
    expect((await h.run()).stdout).toContain(`ok            virtualenv ${h.venv}\n`);
    expect(h.pipCalls()).toHaveLength(2);

    // Not in the wheelhouse: pip's dry run fails, nothing is installed.
    const installed = readFileSync(join(h.venv, ".depc-installed"), "utf8");
    h.build({ python: SYSTEM_PYTHON, requirements: ["depc-hello==9.9"], pipOptions: offline(h.root) });
    const broken = await h.run();
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(
      new RegExp(`failed        virtualenv ${h.venv}: pip install --dry-run exited with status 1, nothing was installed:\\n(    .*\\n)*    ERROR: No matching distribution found for depc-hello==9\\.9\\n`),
    );
    // The one line for stderr (and deploy's table) is the one with the cause.
    expect(broken.stderr).toContain(
      `depc: test/h: virtualenv ${h.venv}: pip install --dry-run exited with status 1, nothing was installed: ERROR: No matching distribution found for depc-hello==9.9\n`,
    );
    expect(h.hello()).toBe("2.0");
    expect(readFileSync(join(h.venv, ".depc-installed"), "utf8")).toBe(installed);
    expect(h.pipCalls()).toHaveLength(3);

    // It stays pending (not recorded as installed) and is retried until fixed.
    const pending = await h.run("--check");
    expect(pending.status).toBe(2);
    expect(pending.stdout).toContain(`would change  virtualenv ${h.venv} (installs requirements)\n`);
    h.build({ python: SYSTEM_PYTHON, requirements: ["depc-hello==1.0"], pipOptions: offline(h.root) });
    const fixed = await h.run();
    expect(fixed.status, fixed.stdout + fixed.stderr).toBe(0);
    expect(h.hello()).toBe("1.0");

    // Same requirements, another pip option: pip runs again.
    h.build({ python: SYSTEM_PYTHON, requirements: ["depc-hello==1.0"], pipOptions: [...offline(h.root), "--no-deps"] });
    const options = await h.run();
    expect(options.status, options.stdout + options.stderr).toBe(0);
    expect(options.stdout).toContain(`changed       virtualenv ${h.venv} (installed requirements)\n`);
    expect(h.pipCalls().slice(-1)[0]).toBe(`install --no-index --find-links ${h.wheels} --no-deps -r ${req}`);
  });

  it("another Python remakes the venv; files below it come after it", async () => {
    const h = host(shell, (root) => ({ python: SYSTEM_PYTHON, requirements: ["depc-hello==1.0"], pipOptions: offline(root) }));
    expect((await h.run()).status).toBe(0);
    const first = readFileSync(join(h.venv, ".depc-python"), "utf8").trim();
    expect(first).toMatch(/^3\.\d+\.\d+ \/usr\/bin\/python3\.\d+$/);

    // A second installation of the same interpreter, elsewhere: another Python to the venv.
    const alt = join(h.root, "alt", "bin");
    mkdirSync(alt, { recursive: true });
    copyFileSync(SYSTEM_PYTHON, join(alt, "python3"));
    spawnSync("chmod", ["755", join(alt, "python3")]);
    writeFileSync(join(h.venv, "stale-file"), "from the old venv\n");
    const marker = File({ path: join(h.venv, "deployed.txt"), content: "v1\n" });
    h.build({ python: join(alt, "python3"), requirements: ["depc-hello==1.0"], pipOptions: offline(h.root) }, [marker]);
    const check = await h.run("--check");
    expect(check.stdout).toContain(`would change  virtualenv ${h.venv} (python ${first} -> ${first.split(" ")[0]} ${alt}/python3, installs requirements)\n`);
    const r = await h.run();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`changed       virtualenv ${h.venv} \\(python .* -> .*alt/bin/python3, installed requirements\\)\\n(.*\\n)*changed       file ${h.venv}/deployed.txt \\(created\\)`));
    expect(existsSync(join(h.venv, "stale-file"))).toBe(false);
    expect(readFileSync(join(h.venv, "pyvenv.cfg"), "utf8")).toContain(`home = ${alt}`);
    expect(h.hello()).toBe("1.0");
    const second = await h.run();
    expect(second.stdout).toContain("2 resources: 0 changed, 2 ok, 0 failed");

    // Seeing the system's site packages or not is part of how a venv was made.
    const made = readFileSync(join(h.venv, ".depc-python"), "utf8").trim();
    h.build({ python: join(alt, "python3"), systemSitePackages: true, requirements: ["depc-hello==1.0"], pipOptions: offline(h.root) }, [marker]);
    const system = await h.run("--check");
    expect(system.stdout).toContain(`would change  virtualenv ${h.venv} (python ${made} -> ${made} system-site-packages, installs requirements)\n`);
  });
});

const dash = shells.find((s) => s.name === "dash");
describe.skipIf(unavailable !== undefined || dash === undefined)("VirtualEnv failures", () => {

  it("a missing python names the host and PATH; a path that is not a venv is never replaced", async () => {
    const root = temp.make("depc-venv-fail-");
    const home = join(root, "home");
    mkdirSync(home);
    const notVenv = join(root, "data");
    mkdirSync(notVenv);
    writeFileSync(join(notVenv, "precious"), "user data\n");
    const result = compileValue(
      environment({
        hosts: {
          h: [VirtualEnv({ path: join(root, "a"), python: "python3-nonexistent" }), VirtualEnv({ path: notVenv, python: SYSTEM_PYTHON })],
        },
      }),
    );
    const bundle = join(root, "h.sh");
    writeFileSync(bundle, result.bundles!.get("h")!);
    const check = await runBundle(dash!, bundle, ["--check"], { home, state: join(root, "state") });
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(new RegExp(`failed        virtualenv ${root}/a: python 'python3-nonexistent' not found on host h \\(PATH=.*\\)\\n`));
    expect(check.stdout).toContain(`failed        virtualenv ${notVenv}: ${notVenv} exists and is not a virtualenv (no pyvenv.cfg); depc does not replace it\n`);
    expect(readFileSync(join(notVenv, "precious"), "utf8")).toBe("user data\n");
  });

  it("an empty requirement list makes a venv and runs no pip", async () => {
    const root = temp.make("depc-venv-empty-");
    const home = join(root, "home");
    mkdirSync(home);
    const venv = join(root, "venv");
    mkdirSync(venv);
    const result = compileValue(environment({ hosts: { h: [VirtualEnv({ path: venv, python: SYSTEM_PYTHON })] } }));
    const bundle = join(root, "h.sh");
    writeFileSync(bundle, result.bundles!.get("h")!);
    const first = await runBundle(dash!, bundle, [], { home, state: join(root, "state") });
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(`changed       virtualenv ${venv} (created)\n`);
    expect(existsSync(join(venv, ".depc-installed"))).toBe(false);
    expect((await runBundle(dash!, bundle, [], { home, state: join(root, "state") })).stdout).toContain(`ok            virtualenv ${venv}\n`);

    // A venv whose interpreter link is gone is made again.
    rmSync(join(venv, "bin", "python"));
    const repaired = await runBundle(dash!, bundle, [], { home, state: join(root, "state") });
    expect(repaired.stdout).toContain(`changed       virtualenv ${venv} (python ${venv}/bin/python is missing)\n`);
    expect(existsSync(join(venv, "bin", "python"))).toBe(true);
  });
});
