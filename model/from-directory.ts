import { dirname, resolve } from "node:path";
import { declarationSites } from "./private/site.js";

const SOURCE = Symbol.for("depc.directorySource");

/** A local directory of the deployment project, for `Tree({ source })`: made by {@link fromDirectory}. */
export interface DirectorySource {
  /** The path as given to fromDirectory. */
  readonly given: string;
  /** The absolute path it resolves to (relative to the module that called fromDirectory). */
  readonly path: string;
  readonly [SOURCE]: true;
}

/**
 * A directory that lives beside the model (the application's code), for
 * `Tree({ source })`. `path` is relative to the module that calls
 * `fromDirectory`, like {@link fromFile}. The directory is read when the
 * Tree is compiled: a missing or unreadable one is a build error naming the
 * Tree's line.
 *
 * ```ts
 * Tree({ path: "/srv/app/code", source: fromDirectory("../app") })
 * ```
 */
export function fromDirectory(path: string): DirectorySource {
  const site = declarationSites(arguments[1])[0]; // the compiler's site marker, if any
  const base = site === undefined ? process.cwd() : dirname(site.file);
  return Object.freeze({ given: path, path: resolve(base, path), [SOURCE]: true as const });
}

/** Whether a value was made by {@link fromDirectory}. */
export function isDirectorySource(value: unknown): value is DirectorySource {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SOURCE] === true;
}
