import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import vm from "node:vm";
import type * as TS from "typescript";

/**
 * Loads TypeScript (9 MB of JavaScript) with V8's code cache kept in the
 * build cache: V8 then neither parses it nor compiles the functions a
 * type-check runs, which saves about a third of a type-check's own time
 * (Node 22's module compile cache does the same; depc runs on Node 20 too).
 *
 * It is registered in require's cache, so `require("typescript")` anywhere
 * in depc afterwards is this instance. Without a cache directory (or when
 * TypeScript is already loaded) it is a plain require. The cache is only an
 * optimisation: V8 rejects one made by another V8 or other flags (then the
 * code is compiled as usual and the cache replaced), and the file's name
 * carries TypeScript's and Node's versions.
 */
export function loadTypeScript(cacheDir: string | undefined): typeof TS {
  const require = createRequire(import.meta.url);
  const file = require.resolve("typescript");
  const known = require.cache[file];
  if (known !== undefined || cacheDir === undefined) return require(file) as typeof TS;
  try {
    const source = readFileSync(file, "utf8");
    const version = (JSON.parse(readFileSync(join(dirname(file), "..", "package.json"), "utf8")) as { version: string }).version;
    const cacheFile = join(cacheDir, `typescript-${version}-node-${process.version}.code`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // none yet
    }
    const script = new vm.Script(Module.wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
    const module = new Module(file);
    module.filename = file;
    module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
    (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
    module.loaded = true;
    require.cache[file] = module;
    if (cachedData === undefined || script.cachedDataRejected === true) pending = { script, cacheDir, cacheFile };
    return module.exports as typeof TS;
  } catch {
    // Something about this TypeScript that the loader does not expect: load it as usual.
    delete require.cache[file];
    return require(file) as typeof TS;
  }
}

let pending: { script: vm.Script; cacheDir: string; cacheFile: string } | undefined;

/**
 * Writes the code cache, when this run made none yet: after a type-check,
 * so that it holds the functions a check compiles, not only TypeScript's
 * top level. Best effort.
 */
export function saveTypeScriptCodeCache(): void {
  if (pending === undefined) return;
  const { script, cacheDir, cacheFile } = pending;
  pending = undefined;
  try {
    mkdirSync(cacheDir, { recursive: true });
    const temp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(temp, script.createCachedData());
    renameSync(temp, cacheFile);
    // Another TypeScript's or Node's cache is of no more use.
    for (const name of readdirSync(cacheDir)) {
      if (name.startsWith("typescript-") && name.endsWith(".code") && join(cacheDir, name) !== cacheFile) rmSync(join(cacheDir, name), { force: true });
    }
  } catch {
    // ignored on purpose: the cache only saves time
  }
}
