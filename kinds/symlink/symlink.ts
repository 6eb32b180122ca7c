import { defineResource, type Relations, type Resource } from "../../model/resource.js";

/** Options of {@link Symlink}. */
export interface SymlinkOptions extends Relations {
  /** Absolute path of the link on the host. */
  readonly path: string;
  /** What the link points to, stored verbatim (relative targets stay relative). */
  readonly target: string;
}

export type SymlinkResource = Resource<"symlink", SymlinkOptions>;

/**
 * A symbolic link. A link pointing elsewhere is replaced; a regular file or
 * directory at the path is never deleted: the run fails and says so.
 */
export function Symlink(options: SymlinkOptions): SymlinkResource {
  return defineResource("symlink", options, arguments[1]); // the compiler's site marker, if any
}
