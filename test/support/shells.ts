/**
 * The shell matrix that depc bundles must run under, for tests.
 *
 * API (keep it small, other test suites import it):
 * - `SHELLS`: every shell of the matrix, `{ name, argv, env? }`. Run a script
 *   as `[...argv, script, ...args]` with `env` merged over the environment.
 * - `availableShells()`: the shells installed here. A missing shell throws
 *   when `CI=true` (CI must fail, never skip) and is skipped with a console
 *   message otherwise.
 * - `requireTool(name)`: true when the tool is on PATH; same CI semantics.
 * - `runScript(shell, script, args, options)`: run a script file under a
 *   shell and collect status, stdout and stderr.
 *
 * `busybox sh` runs with PATH set to a directory that holds only busybox
 * applet symlinks, so a bundle cannot lean on GNU tools by accident.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface Shell {
  /** Display name, e.g. `bash --posix`. */
  readonly name: string;
  /** Command and leading arguments, e.g. `['bash', '--posix']`. */
  readonly argv: readonly string[];
  /** Environment overrides for this shell (busybox: `PATH`). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ScriptResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Find an executable on PATH; undefined when missing. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

let busyboxPathDir: string | undefined;

/**
 * A directory holding one symlink per busybox applet (created once per user
 * and busybox binary, atomically, so parallel test workers can share it).
 */
export function busyboxPath(busybox: string): string {
  if (busyboxPathDir !== undefined) return busyboxPathDir;
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `depc-busybox-path-${uid}`);
  if (!existsSync(join(dir, "sh"))) {
    const list = spawnSync(busybox, ["--list"], { encoding: "utf8" });
    if (list.status !== 0) throw new Error(`'${busybox} --list' failed: ${list.stderr}`);
    const staging = mkdtempSync(join(tmpdir(), "depc-busybox-staging-"));
    for (const applet of list.stdout.split("\n")) {
      if (applet === "" || applet.includes("/")) continue;
      symlinkSync(busybox, join(staging, applet));
    }
    try {
      renameSync(staging, dir);
    } catch {
      // Another worker won the race (or a stale dir exists): use that one.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(join(dir, "sh"))) {
        throw new Error(`${dir} exists but has no busybox 'sh' applet: remove it and retry`);
      }
    }
  }
  busyboxPathDir = dir;
  return dir;
}

interface ShellSpec {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly busybox?: boolean;
}

const SPECS: readonly ShellSpec[] = [
  { name: "dash", binary: "dash", args: [] },
  { name: "bash --posix", binary: "bash", args: ["--posix"] },
  { name: "busybox sh", binary: "busybox", args: ["sh"], busybox: true },
  { name: "mksh", binary: "mksh", args: [] },
  { name: "yash", binary: "yash", args: [] },
  { name: "posh", binary: "posh", args: [] },
];

function toShell(spec: ShellSpec, path: string): Shell {
  if (spec.busybox) {
    return { name: spec.name, argv: [path, ...spec.args], env: { PATH: busyboxPath(path) } };
  }
  return { name: spec.name, argv: [path, ...spec.args] };
}

/** Every shell of the matrix, installed or not (argv holds the bare name when missing). */
export const SHELLS: readonly Shell[] = SPECS.map((spec) => {
  const path = which(spec.binary);
  return path === undefined ? { name: spec.name, argv: [spec.binary, ...spec.args] } : toShell(spec, path);
});

function missing(what: string): void {
  const message = `${what} is not installed`;
  if (process.env.CI === "true") throw new Error(`${message} (CI=true: the test matrix must be complete)`);
  console.warn(`depc tests: skipping ${what}: not installed`);
}

/** The shells of the matrix that are installed here (see the CI semantics above). */
export function availableShells(): Shell[] {
  const found: Shell[] = [];
  for (const spec of SPECS) {
    const path = which(spec.binary);
    if (path === undefined) {
      missing(`shell '${spec.name}'`);
      continue;
    }
    found.push(toShell(spec, path));
  }
  return found;
}

/** True when `name` is on PATH; throws under CI=true when it is not, else warns. */
export function requireTool(name: string): boolean {
  if (which(name) !== undefined) return true;
  missing(`tool '${name}'`);
  return false;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** Run `script` (a file) under `shell` with `args`. */
export function runScript(shell: Shell, script: string, args: readonly string[] = [], options: RunOptions = {}): ScriptResult {
  const [command, ...leading] = shell.argv;
  if (command === undefined) throw new Error(`shell '${shell.name}' has an empty argv`);
  const result = spawnSync(command, [...leading, script, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, ...shell.env },
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}
