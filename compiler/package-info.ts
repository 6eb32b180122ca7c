import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * depc's own package directory, found by walking up from this module: the
 * same code runs from `compiler/` (tests) and from `dist/compiler/` (the CLI).
 */
export const packageRoot: string = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "depc") return dir;
    if (dirname(dir) === dir) throw new Error("depc: cannot find its own package.json");
  }
})();

export const depcVersion: string = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")).version;

/** The TypeScript version, read without loading the (large) compiler itself. */
export const typescriptVersion: string = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve("typescript/package.json"), "utf8"),
).version;
