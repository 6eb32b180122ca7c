import { defineResource, type Relations, type Principal, type Resource } from "../../model/resource.js";

/** An archive format {@link Extract} knows. */
export type ArchiveFormat = "tar" | "tar.gz" | "tar.xz" | "tar.bz2" | "zip";

/** Options of {@link Extract}. */
export interface ExtractOptions extends Relations {
  /** Absolute path of the archive on the host, usually a `Download`'s path (which is then fetched first). */
  readonly archive: string;
  /** Absolute path of the directory that holds the archive's content. Its parent must exist. */
  readonly to: string;
  /**
   * Leading directory levels to drop (like tar's `--strip-components`): 1
   * turns `app-1.2/src/x.py` into `src/x.py`. Each level must be a single
   * directory.
   * @default 0
   */
  readonly strip?: number;
  /**
   * The archive's format.
   * @default from the archive's name: .tar, .tar.gz/.tgz, .tar.xz/.txz, .tar.bz2/.tbz2, .zip
   */
  readonly format?: ArchiveFormat;
  /**
   * Owner of every extracted file and directory (`chown -R`). A `User` of the same host with this name is created first.
   * @default unmanaged (the user running the bundle; never the ids stored in the archive)
   */
  readonly owner?: Principal;
  /**
   * Group of every extracted file and directory. A `Group` of the same host with this name is created first.
   * @default unmanaged
   */
  readonly group?: Principal;
}

export type ExtractResource = Resource<"extract", ExtractOptions>;

/**
 * An archive's content in a directory: extracted into a fresh sibling
 * directory, then swapped in, so a half-extracted tree is never live.
 * Extracted again only when the archive (its sha256) or the options change.
 */
export function Extract(options: ExtractOptions): ExtractResource {
  return defineResource("extract", options, arguments[1]); // the compiler's site marker, if any
}
