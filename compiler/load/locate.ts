import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

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
