import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import vm from "node:vm";
import type { TranspiledModule } from "../load/transpile.js";

const PARAMS = ["exports", "require", "module", "__filename", "__dirname"];

/** Below this size V8 compiles a module faster than its code cache can be read. */
const CODE_CACHE_MIN_CHARS = 64 * 1024;

/**
 * Runs the user's transpiled modules. `depc` resolves to the very stdlib
 * instance the compiler inspects; relative imports to the user's other
 * modules; anything else to Node's own resolution from the importing file
 * (a project's npm dependencies).
 */
export class ModuleLoader {
  private readonly instances = new Map<string, { exports: unknown }>();

  constructor(
    private readonly modules: ReadonlyMap<string, TranspiledModule>,
    private readonly depc: object,
    /** Where to keep V8's code cache of large modules (the build cache); none: compile every time. */
    private readonly codeCacheDir?: string,
  ) {}

  load(file: string): unknown {
    const cached = this.instances.get(file);
    if (cached !== undefined) return cached.exports;
    const source = this.modules.get(file);
    if (source === undefined) throw new Error(`depc: module ${file} was not transpiled`);
    const module = { exports: {} as unknown };
    this.instances.set(file, module);
    const run = this.compile(file, source.js);
    run.call(module.exports, module.exports, this.requireFrom(file), module, file, dirname(file));
    return module.exports;
  }

  /**
   * V8 parses and compiles a generated model of 100,000 resources (14 MB of
   * JavaScript) for about a second; its code cache loads in a fraction of
   * that. One cache file per module path, overwritten when the module
   * changes. V8 checks its own version and flags but only the length of the
   * source, so the file starts with the source's digest, and is used only
   * for exactly that source. Best effort: a missing, stale or rejected cache
   * only costs the compile.
   */
  private compile(file: string, js: string): ReturnType<typeof vm.compileFunction> {
    if (this.codeCacheDir === undefined || js.length < CODE_CACHE_MIN_CHARS) return vm.compileFunction(js, PARAMS, { filename: file });
    const cacheFile = join(this.codeCacheDir, `code-${digest(file).slice(0, 32)}.bin`);
    const header = Buffer.from(`${digest(js)} ${process.version}\n`);
    let cached: Buffer | undefined;
    try {
      const data = readFileSync(cacheFile);
      if (data.subarray(0, header.length).equals(header)) cached = data.subarray(header.length);
    } catch {
      // none yet
    }
    const run = vm.compileFunction(js, PARAMS, { filename: file, ...(cached ? { cachedData: cached } : { produceCachedData: true }) });
    const produced = (run as { cachedData?: Buffer }).cachedData;
    const rejected = (run as { cachedDataRejected?: boolean }).cachedDataRejected === true;
    if (cached === undefined || rejected) {
      try {
        const data = produced ?? (vm.compileFunction(js, PARAMS, { filename: file, produceCachedData: true }) as { cachedData?: Buffer }).cachedData;
        if (data !== undefined) {
          mkdirSync(this.codeCacheDir, { recursive: true });
          const temp = `${cacheFile}.${process.pid}.tmp`;
          writeFileSync(temp, Buffer.concat([header, data]));
          renameSync(temp, cacheFile);
        }
      } catch {
        // ignored on purpose: the cache only saves time
      }
    }
    return run;
  }

  private requireFrom(file: string): (specifier: string) => unknown {
    const nodeRequire = createRequire(file);
    return (specifier: string) => {
      if (specifier === "depc") return this.depc;
      if (specifier.startsWith(".") || isAbsolute(specifier)) {
        const target = this.resolveUserModule(file, specifier);
        if (target !== undefined) return this.load(target);
      }
      return nodeRequire(specifier);
    };
  }

  private resolveUserModule(from: string, specifier: string): string | undefined {
    const base = resolve(dirname(from), specifier);
    const swapped = base.replace(/\.(m|c)?js$/, ".$1ts").replace(/\.jsx$/, ".tsx");
    const candidates = [base, swapped, `${base}.ts`, `${base}.tsx`, `${base}.mts`, `${base}/index.ts`];
    return candidates.find((candidate) => this.modules.has(candidate));
  }
}

const digest = (text: string) => createHash("sha256").update(text).digest("hex");
