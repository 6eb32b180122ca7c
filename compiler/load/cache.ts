import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TranspiledModule } from "./transpile.js";

/**
 * A whole-program cache of successful type-checks. An entry lists every
 * file the check read (user sources and declaration files, with their
 * digests) and the transpiled user modules. When every listed file still
 * has its digest, the build skips TypeScript entirely — it does not even
 * load the compiler, which alone costs a few hundred milliseconds.
 *
 * Only successful checks are stored, so an error is always reported fresh.
 */
export interface CacheEntry {
  readonly inputs: Readonly<Record<string, string>>;
  readonly modules: Readonly<Record<string, TranspiledModule>>;
}

export const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

export function cacheFile(cacheDir: string, key: string): string {
  return join(cacheDir, `${sha256(key).slice(0, 32)}.json`);
}

/** The entry, if every input is unchanged, with the texts read to prove it. */
export function readCache(file: string): { entry: CacheEntry; texts: Map<string, string> } | undefined {
  let entry: CacheEntry;
  try {
    entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
  } catch {
    return undefined;
  }
  const texts = new Map<string, string>();
  for (const [path, digest] of Object.entries(entry.inputs)) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
    if (sha256(text) !== digest) return undefined;
    texts.set(path, text);
  }
  return { entry, texts };
}

/** Best effort: a cache that cannot be written only costs time. */
export function writeCache(file: string, cacheDir: string, entry: CacheEntry): void {
  try {
    mkdirSync(cacheDir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(entry));
    renameSync(temp, file);
  } catch {
    // ignored on purpose
  }
}
