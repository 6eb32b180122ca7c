import { defineResource, type Relations, type Mode, type Principal, type Resource } from "../../model/resource.js";

/** Options of {@link Directory}. */
export interface DirectoryOptions extends Relations {
  /** Absolute path of the directory on the host. Missing parents are created. */
  readonly path: string;
  /**
   * Permission bits of the directory.
   * @default 0o755
   */
  readonly mode?: Mode;
  /**
   * Owner of the directory. Left as it is when not given.
   * @default unmanaged
   */
  readonly owner?: Principal;
  /**
   * Group of the directory. Left as it is when not given.
   * @default unmanaged
   */
  readonly group?: Principal;
}

export type DirectoryResource = Resource<"directory", DirectoryOptions>;

/**
 * A directory, created with its parents when missing. Files, links and
 * directories declared inside it on the same host are ordered after it.
 */
export function Directory(options: DirectoryOptions): DirectoryResource {
  return defineResource("directory", options, arguments[1]); // the compiler's site marker, if any
}
