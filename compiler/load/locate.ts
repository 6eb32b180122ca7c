import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { nearest } from "../diagnostics/nearest.js";

export interface LocatedEnvironment {
  /** Absolute path of the environment module. */
  readonly entry: string;
  /** The name the environment gets unless it names itself. */
  readonly defaultName: string;
  /** The deployment project: nearest directory above the entry with a package.json. */
  readonly projectRoot: string;
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

/**
 * Finds an environment module the way users name it: `env/prod`,
 * `env/prod.ts`, or a directory `env/prod/` holding `index.ts`.
 */
export function locateEnvironment(argument: string, cwd: string): LocatedEnvironment | undefined {
  const base = resolve(cwd, argument);
  const candidates = [base, `${base}.ts`, `${base}.mts`, join(base, "index.ts")];
  const entry = candidates.find((path) => /\.m?ts$/.test(path) && isFile(path));
  if (entry === undefined) return undefined;
  const fileName = basename(entry).replace(/\.m?ts$/, "");
  const defaultName = fileName === "index" ? basename(dirname(entry)) : fileName;
  return { entry, defaultName, projectRoot: findProjectRoot(dirname(entry)) };
}

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/**
 * For an environment that was not found: the environment modules in the
 * directory it names (`env/prd` → `env/`), and the one nearest to it.
 */
export function environmentsNear(argument: string, cwd: string): { dir: string; known: string[]; suggestion: string | undefined } | undefined {
  const base = resolve(cwd, argument);
  const dir = dirname(base);
  let known: string[];
  try {
    known = readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isFile() && /\.m?ts$/.test(e.name) && !e.name.endsWith(".d.ts") ? [e.name.replace(/\.m?ts$/, "")] : e.isDirectory() && isFile(join(dir, e.name, "index.ts")) ? [e.name] : []))
      .sort();
  } catch {
    return undefined;
  }
  if (known.length === 0) return undefined;
  const near = nearest(basename(base).replace(/\.m?ts$/, ""), known);
  const shownDir = `${relative(cwd, dir) || "."}/`;
  return { dir: shownDir, known, suggestion: near === undefined ? undefined : `${shownDir === "./" ? "" : shownDir}${near}` };
}
