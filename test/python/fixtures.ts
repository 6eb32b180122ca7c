/**
 * Real Python things for the VirtualEnv and Buildout tests, made in the
 * test itself, offline: wheels built by hand (a wheel is a zip with a
 * dist-info; Python's zipfile writes it), a buildout recipe as a develop
 * egg, and a bundle runner with an environment free of this machine's pip
 * and buildout configuration.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScriptResult, Shell } from "../support/shells.js";

/** Debian's interpreter (python3-venv is Debian's venv; a python3 earlier on PATH may be another build). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** Why the Python tests cannot run here, or undefined. Under CI=true a missing piece throws. */
export function pythonUnavailable(needBuildout: boolean): string | undefined {
  const problems: string[] = [];
  if (!existsSync(SYSTEM_PYTHON)) problems.push(`${SYSTEM_PYTHON} (Debian package python3)`);
  else {
    const venv = spawnSync(SYSTEM_PYTHON, ["-c", "import venv, ensurepip"], { encoding: "utf8" });
    if (venv.status !== 0) problems.push("python3 -m venv with ensurepip (Debian package python3-venv)");
    if (needBuildout) {
      const bo = spawnSync(SYSTEM_PYTHON, ["-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('zc.buildout') is None)"], { encoding: "utf8" });
      if (bo.status !== 0) problems.push("zc.buildout (Debian package python3-zc.buildout)");
    }
  }
  if (problems.length === 0) return undefined;
  const message = `missing ${problems.join(", ")}`;
  if (process.env.CI === "true") throw new Error(`${message} (CI=true: the test matrix must be complete)`);
  console.warn(`depc tests: skipping the Python resource tests: ${message}`);
  return message;
}

const WHEEL_SCRIPT = String.raw`
import base64, hashlib, sys, zipfile
import json
out, name, version, code, extra = sys.argv[1:6]
dist = name.replace("-", "_")
info = f"{dist}-{version}.dist-info"
files = {
    f"{dist}/__init__.py": code.encode(),
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
    f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: depc-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
for path, text in json.loads(extra).items():
    files[path.replace("{info}", info)] = text.encode()
record = ""
for path, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record += f"{path},sha256={digest},{len(data)}\n"
record += f"{info}/RECORD,,\n"
files[f"{info}/RECORD"] = record.encode()
with zipfile.ZipFile(f"{out}/{dist}-{version}-py3-none-any.whl", "w") as whl:
    for path, data in files.items():
        whl.writestr(zipfile.ZipInfo(path, (2024, 1, 1, 0, 0, 0)), data)
`;

/**
 * Builds the pure-Python wheel `name-version` (module `name` with `-` as `_`)
 * into `wheelhouse`. `extra`: more files by path in the wheel, `{info}/` for
 * its dist-info directory (e.g. `{info}/entry_points.txt`).
 */
export function buildWheel(
  wheelhouse: string,
  name: string,
  version: string,
  code = `VERSION = ${JSON.stringify(version)}\n`,
  extra: Readonly<Record<string, string>> = {},
): void {
  mkdirSync(wheelhouse, { recursive: true });
  const r = spawnSync(SYSTEM_PYTHON, ["-c", WHEEL_SCRIPT, wheelhouse, name, version, code, JSON.stringify(extra)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building the wheel ${name}-${version} failed: ${r.stderr}`);
}

/** The venv's pip, wrapped: every `python -m pip` appends its arguments to `log`, then the real pip runs. */
export function logPipCalls(venv: string, log: string): void {
  const lib = join(venv, "lib");
  const python = readdirSync(lib).find((d) => d.startsWith("python"));
  if (python === undefined) throw new Error(`no lib/python* in ${venv}`);
  const main = join(lib, python, "site-packages", "pip", "__main__.py");
  const original = readFileSync(main, "utf8");
  writeFileSync(main, `import sys as _s\nwith open(${JSON.stringify(log)}, "a") as _f:\n    _f.write(" ".join(_s.argv[1:]) + "\\n")\n${original}`);
}

/**
 * A zc.buildout recipe as a develop egg in `dir/recipe`: part options
 * `output` (a file name in the buildout directory), `text` (its content)
 * and `fail` (install() raises with this message).
 */
export function writeRecipe(dir: string): string {
  const recipe = join(dir, "recipe");
  mkdirSync(join(recipe, "depcrecipe"), { recursive: true });
  writeFileSync(
    join(recipe, "setup.py"),
    'from setuptools import setup\nsetup(name="depcrecipe", version="1.0", packages=["depcrecipe"],\n      entry_points={"zc.buildout": ["default = depcrecipe:Recipe"]})\n',
  );
  writeFileSync(
    join(recipe, "depcrecipe", "__init__.py"),
    [
      "import os",
      "",
      "class Recipe:",
      "    def __init__(self, buildout, name, options):",
      "        self.options = options",
      '        self.path = os.path.join(buildout["buildout"]["directory"], options["output"])',
      "",
      "    def install(self):",
      '        if self.options.get("fail"):',
      '            raise RuntimeError("recipe failed on purpose: " + self.options["fail"])',
      '        with open(os.path.join(os.path.dirname(self.path), "installs.log"), "a") as log:',
      '            log.write(self.options["text"] + "\\n")',
      '        with open(self.path, "w") as f:',
      '            f.write(self.options["text"] + "\\n")',
      "        return [self.path]",
      "",
      "    update = install",
      "",
    ].join("\n"),
  );
  return recipe;
}

/** The one line Debian 12's zc.buildout needs on Python 3.10+ (a .pth file's import line runs at startup). */
export const BUILDOUT_COMPAT_PTH =
  "import collections, collections.abc; collections.MutableMapping = getattr(collections, 'MutableMapping', collections.abc.MutableMapping)\n";

/**
 * A wheel `depc-buildout-compat` for a venv made with systemSitePackages:
 * the compat line above and a `bin/buildout` console script running the
 * system's zc.buildout (the venv's own buildout, as pip installs it).
 */
export function buildBuildoutCompatWheel(wheelhouse: string, version: string): void {
  buildWheel(wheelhouse, "depc-buildout-compat", version, `VERSION = ${JSON.stringify(version)}\n`, {
    "depc_buildout_compat.pth": BUILDOUT_COMPAT_PTH,
    "{info}/entry_points.txt": "[console_scripts]\nbuildout = zc.buildout.buildout:main\n",
  });
}

/**
 * Debian 12's python3-zc.buildout (2.13.2) cannot start on Debian 12's
 * Python 3.11: buildout.py imports `collections.MutableMapping`, removed in
 * Python 3.10. This makes a buildout executable that runs Debian's very
 * zc.buildout code from a venv with the system site packages plus a .pth
 * line restoring that one alias. Uses the system buildout as it is when it
 * starts (a fixed Debian package).
 */
export function buildoutExecutable(dir: string): string {
  const probe = spawnSync("/usr/bin/buildout", ["--version"], { encoding: "utf8", env: { PATH: "/usr/bin:/bin", HOME: dir } });
  if (probe.status === 0) return "/usr/bin/buildout";
  const venv = join(dir, "buildout-venv");
  const made = spawnSync(SYSTEM_PYTHON, ["-m", "venv", "--system-site-packages", "--without-pip", venv], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`making ${venv} failed: ${made.stderr}`);
  const lib = join(venv, "lib");
  const python = readdirSync(lib).find((d) => d.startsWith("python"))!;
  writeFileSync(join(lib, python, "site-packages", "depc_buildout_compat.pth"), BUILDOUT_COMPAT_PTH);
  const exe = join(venv, "bin", "buildout");
  writeFileSync(exe, `#!${venv}/bin/python\nimport sys\nfrom zc.buildout.buildout import main\nsys.exit(main())\n`);
  chmodSync(exe, 0o755);
  return exe;
}

/** A temp dir that `cleanup` removes. */
export function tempDirs(): { make: (prefix: string) => string; cleanup: () => void } {
  let dirs: string[] = [];
  return {
    make: (prefix) => {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    cleanup: () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      dirs = [];
    },
  };
}

/**
 * Runs a bundle like a host would, without this machine's pip and Python
 * settings (PIP_* variables, pip.conf, a find-links of its own): what pip
 * may use is what the model says. HOME is a fresh directory (no
 * ~/.buildout/default.cfg, no pip cache).
 */
export function runBundle(shell: Shell, bundle: string, args: readonly string[], env: { home: string; state: string }): Promise<ScriptResult & { ms: number }> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("PIP_") || k.startsWith("PYTHON") || k === "VIRTUAL_ENV") continue;
    base[k] = v;
  }
  const [command, ...leading] = shell.argv;
  const started = performance.now();
  // Asynchronous: pip and buildout take seconds, and a blocked worker misses vitest's heartbeats.
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...leading, bundle, ...args], {
      env: { ...base, HOME: env.home, PIP_CONFIG_FILE: "/dev/null", DEPC_STATE_DIR: env.state, ...shell.env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 300_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr, ms: Math.round(performance.now() - started) }));
  });
}
