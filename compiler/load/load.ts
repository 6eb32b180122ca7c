import { join } from "node:path";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { depcVersion, typescriptVersion } from "../package-info.js";
import { cacheFile, readCache, sha256, writeCache } from "./cache.js";
import { locateEnvironment, type LocatedEnvironment } from "./locate.js";
import type { TranspiledModule } from "./transpile.js";

/** Bump when what the cache holds changes meaning (e.g. the transpile transformers, or a new check: 3 = decimal modes). */
const CACHE_FORMAT = 3;

export interface LoadOptions {
  readonly cwd: string;
  /** Where to keep the type-check cache; `false` disables it. */
  readonly cacheDir?: string | false;
}

export interface LoadedModel extends LocatedEnvironment {
  /** The user's modules, transpiled, by absolute path. */
  readonly modules: ReadonlyMap<string, TranspiledModule>;
  /** The user's source texts (for code frames and the sources digest). */
  readonly sources: ReadonlyMap<string, string>;
  /** Whether the type-check was skipped because nothing changed. */
  readonly cached: boolean;
}

export type LoadResult =
  | { readonly ok: true; readonly model: LoadedModel; readonly warnings: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/**
 * Phase 1: find the environment module, type-check it with everything it
 * imports, and transpile the user's modules for evaluation.
 */
export async function load(environmentPath: string, options: LoadOptions): Promise<LoadResult> {
  const located = locateEnvironment(environmentPath, options.cwd);
  if (located === undefined) {
    return { ok: false, diagnostics: [diagnostic("environmentNotFound", { path: environmentPath })] };
  }
  const cacheDir = options.cacheDir ?? join(located.projectRoot, "node_modules", ".cache", "depc");
  const entryFile =
    cacheDir === false
      ? undefined
      : cacheFile(cacheDir, JSON.stringify({ format: CACHE_FORMAT, depcVersion, typescriptVersion, entry: located.entry }));

  if (entryFile !== undefined) {
    const hit = readCache(entryFile);
    if (hit !== undefined) {
      const modules = new Map(Object.entries(hit.entry.modules));
      const sources = new Map([...modules.keys()].map((file) => [file, hit.texts.get(file) ?? ""] as const));
      return { ok: true, warnings: [], model: { ...located, modules, sources, cached: true } };
    }
  }

  // Loaded on demand: a cached build never pays for loading TypeScript.
  const { typeCheck } = await import("./typecheck.js");
  const { transpile } = await import("./transpile.js");
  const checked = typeCheck(located.entry);
  const errors = checked.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) return { ok: false, diagnostics: checked.diagnostics };

  const modules = new Map<string, TranspiledModule>();
  for (const [file, text] of checked.userFiles) modules.set(file, transpile(file, text));
  if (entryFile !== undefined && cacheDir !== false) {
    const inputs: Record<string, string> = {};
    for (const [file, text] of checked.inputs) inputs[file] = sha256(text);
    writeCache(entryFile, cacheDir, { inputs, modules: Object.fromEntries(modules) });
  }
  return {
    ok: true,
    warnings: checked.diagnostics,
    model: { ...located, modules, sources: checked.userFiles, cached: false },
  };
}
