/** Shared helpers of the runtime tests: temp host roots, bundle files, runs. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { runScript, type ScriptResult, type Shell } from "../support/shells.js";
import { buildBundle, type BundleSpec } from "./bundle.js";

const roots: string[] = [];
afterAll(() => {
  if (process.env.DEPC_KEEP_TMP === "1") return;
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A fresh directory that plays the host's `/` (removed after the file's tests). */
export function hostRoot(label = "host"): string {
  const dir = mkdtempSync(join(tmpdir(), `depc-rt-${label.replace(/[^a-z0-9]+/gi, "-")}-`));
  roots.push(dir);
  return dir;
}

export interface Bundle {
  readonly path: string;
  /** The state directory of the runs (DEPC_STATE_DIR). */
  readonly state: string;
  /** The TMPDIR of the runs (the bundle's private temp dir goes there). */
  readonly tmp: string;
  /** Run under `shell` with `args`; TMPDIR points into the test's own dir. */
  run(shell: Shell, args?: readonly string[]): ScriptResult;
}

export interface WriteOptions {
  /** Share a state directory (and so the lock) with other bundles. @default a fresh one */
  readonly state?: string;
}

/** A fresh state directory outside TMPDIR (removed after the file's tests). */
export function stateDir(): string {
  const state = mkdtempSync(join(tmpdir(), "depc-rt-state-"));
  roots.push(state);
  return state;
}

/** Write a bundle for `spec` next to the host root and return a runner. */
export function writeBundle(root: string, spec: BundleSpec, name = "bundle.sh", options: WriteOptions = {}): Bundle {
  const path = join(root, "..", `${root.split("/").pop()}-${name}`);
  writeFileSync(path, buildBundle(spec), { mode: 0o700 });
  roots.push(path);
  const tmp = mkdtempSync(join(tmpdir(), "depc-rt-tmpdir-"));
  roots.push(tmp);
  // The state dir lives outside TMPDIR, so tests can check TMPDIR is left empty.
  const state = options.state ?? stateDir();
  return {
    path,
    state,
    tmp,
    run(shell, args = []) {
      return runScript(shell, path, args, { env: { TMPDIR: tmp, DEPC_STATE_DIR: state } });
    },
  };
}

/** Every entry under `dir` (recursively) whose name starts with `.depc.`. */
export function leftoverTemps(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.name.startsWith(".depc.")) found.push(join(entry.parentPath ?? dir, entry.name));
  }
  return found;
}

/** The resource lines of a run's stdout (everything but diffs and the summary). */
export function statusLines(stdout: string): string[] {
  return stdout.split("\n").filter((l) => /^(ok|changed|would change|failed) /.test(l));
}
