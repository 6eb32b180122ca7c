import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { declarationSites } from "./private/site.js";

/**
 * The bytes of a file that lives beside the model (an app's source, a
 * static asset), read at build time, for `File({ content })`. `path` is
 * relative to the module that calls `fromFile`. A missing file is a build
 * error at this line.
 *
 * ```ts
 * File({ path: "/srv/app/src/app.py", content: fromFile("../app/app.py") })
 * ```
 */
export function fromFile(path: string): Uint8Array {
  const site = declarationSites(arguments[1])[0]; // the compiler's site marker, if any
  const base = site === undefined ? process.cwd() : dirname(site.file);
  const file = resolve(base, path);
  try {
    return new Uint8Array(readFileSync(file));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new Error(`fromFile(${JSON.stringify(path)}): cannot read ${file}: ${reason}`);
  }
}
