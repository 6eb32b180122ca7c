import { defineResource, type Relations, type Principal, type Resource } from "../../model/resource.js";
import type { DirectorySource } from "../../model/from-directory.js";

/** Options of {@link Tree}. */
export interface TreeOptions extends Relations {
  /**
   * Absolute path of the directory on the host that holds the copy. Created
   * when missing (its parent must exist, e.g. a `Directory`). Nothing else
   * may be declared below it: the Tree owns everything in it.
   */
  readonly path: string;
  /**
   * The local directory to ship, byte for byte: `fromDirectory("../app")`,
   * relative to the calling file. Regular files and directories only; a
   * file's executable bit is kept (files become 0755 or 0644, directories
   * 0755), nothing else of its mode or its times.
   */
  readonly source: DirectorySource;
  /**
   * Owner of every file and directory of the copy (the top directory too).
   * Left as the run's user creates them when not given.
   * @default unmanaged
   */
  readonly owner?: Principal;
  /**
   * Group of every file and directory of the copy.
   * @default unmanaged
   */
  readonly group?: Principal;
  /**
   * Paths not shipped and, on the host, neither removed nor changed: globs
   * (`*` and `?` within a name, `**` across directories). A pattern without
   * `/` matches a name at any depth (`"__pycache__"`, `"*.pyc"`); one with
   * `/` matches from the top (`"static/cache"`). What a pattern matches
   * takes everything below it along.
   * @default []
   */
  readonly exclude?: readonly string[];
}

export type TreeResource = Resource<"tree", TreeOptions>;

/**
 * A local directory of the deployment project (the application's code)
 * shipped in the bundle and kept identical on the host: files written
 * atomically, each with its executable bit; files and directories on the
 * host that are not in the source are removed. A converged tree is checked
 * in a few processes, whatever its size.
 *
 * ```ts
 * Tree({ path: "/srv/app/code", source: fromDirectory("../app"), owner: "app", exclude: ["__pycache__"] })
 * ```
 */
export function Tree(options: TreeOptions): TreeResource {
  return defineResource("tree", options, arguments[1]); // the compiler's site marker, if any
}
