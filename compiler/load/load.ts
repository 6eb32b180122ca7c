import { createRequire } from "node:module";
import { join } from "node:path";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { depcVersion, typescriptVersion } from "../package-info.js";
import { cacheFile, readCache, sha256, writeCache } from "./cache.js";
import { environmentsNear, locateEnvironment, type LocatedEnvironment } from "./locate.js";
import type { TranspiledModule } from "./transpile.js";

/** Bump when what the cache holds changes meaning (e.g. the transpile transformers, or a new check: 3 = decimal modes). */
const CACHE_FORMAT = 3;

export interface LoadOptions {
  readonly cwd: string;
  /** Where to keep the type-check cache; `false` disables it. */
  readonly cacheDir?: string | false;
  /** Type-check afresh and store the result (`--no-cache`): the cache is refreshed, not bypassed. */
  readonly refreshCache?: boolean;
}

export interface LoadedModel extends LocatedEnvironment {
  /** The user's modules, transpiled, by absolute path. */
  readonly modules: ReadonlyMap<string, TranspiledModule>;
  /** The user's source texts (for code frames and the sources digest). */
  readonly sources: ReadonlyMap<string, string>;
  /** Whether the type-check was skipped because nothing changed. */
  readonly cached: boolean;
  /** The build cache's directory, when caching is on (evaluation keeps V8's code cache of large modules there). */
  readonly cacheDir?: string;
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
    const near = environmentsNear(environmentPath, options.cwd);
    return {
      ok: false,
      diagnostics: [
        near === undefined
          ? diagnostic("environmentNotFound", { path: environmentPath })
          : diagnostic("environmentNotFoundNear", {
              path: environmentPath,
              dir: near.dir,
              known: near.known.join(", "),
              suggestion: near.suggestion === undefined ? "" : ` Did you mean ${near.suggestion}?`,
            }),
      ],
    };
  }
  const cacheDir = options.cacheDir ?? join(located.projectRoot, "node_modules", ".cache", "depc");
  const withNodeTypes = hasNodeTypes(located.projectRoot);
  const entryFile =
    cacheDir === false
      ? undefined
      : cacheFile(cacheDir, JSON.stringify({ format: CACHE_FORMAT, depcVersion, typescriptVersion, entry: located.entry, withNodeTypes }));

  if (entryFile !== undefined && options.refreshCache !== true) {
    const hit = readCache(entryFile);
    if (hit !== undefined) {
      const modules = new Map(Object.entries(hit.entry.modules));
      const sources = new Map([...modules.keys()].map((file) => [file, hit.texts.get(file) ?? ""] as const));
      return { ok: true, warnings: [], model: { ...located, modules, sources, cached: true, ...(cacheDir === false ? {} : { cacheDir }) } };
    }
  }

  // Loaded on demand: a cached build never pays for loading TypeScript.
  const { loadTypeScript, saveTypeScriptCodeCache } = await import("./typescript.js");
  loadTypeScript(cacheDir === false ? undefined : cacheDir);
  const { typeCheck } = await import("./typecheck.js");
  const { transpile } = await import("./transpile.js");
  const checked = typeCheck(located.entry, located.projectRoot, withNodeTypes);
  saveTypeScriptCodeCache();
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
    model: { ...located, modules, sources: checked.userFiles, cached: false, ...(cacheDir === false ? {} : { cacheDir }) },
  };
}

/** Whether `@types/node` resolves from the project, as `tsc` run there would find it. */
function hasNodeTypes(projectRoot: string): boolean {
  try {
    createRequire(join(projectRoot, "package.json")).resolve("@types/node/package.json");
    return true;
  } catch {
    return false;
  }
}
