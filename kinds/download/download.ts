import { defineResource, type Relations, type Mode, type Principal, type Resource } from "../../model/resource.js";

/** Options of {@link Download}. */
export interface DownloadOptions extends Relations {
  /** Absolute path of the file on the host. Its directory must exist (declare a `Directory`). */
  readonly path: string;
  /** Where to fetch it: an `http://`, `https://` or `ftp://` URL. */
  readonly url: string;
  /**
   * The file's sha256 (64 hex digits). Required: the file is fetched only
   * when the one on the host has another digest, and bytes with any other
   * digest are never installed.
   */
  readonly sha256: string;
  /**
   * Permission bits of the file.
   * @default 0o644
   */
  readonly mode?: Mode;
  /**
   * Owner of the file. A `User` of the same host with this name is created first.
   * @default unmanaged
   */
  readonly owner?: Principal;
  /**
   * Group of the file. A `Group` of the same host with this name is created first.
   * @default unmanaged
   */
  readonly group?: Principal;
}

export type DownloadResource = Resource<"download", DownloadOptions>;

/**
 * A file fetched from a URL with whatever the host has (curl, wget or
 * busybox wget), verified by its sha256, then renamed into place: a wrong
 * checksum fails and leaves nothing at the path. Fetched again only when
 * the file on the host differs.
 */
export function Download(options: DownloadOptions): DownloadResource {
  return defineResource("download", options, arguments[1]); // the compiler's site marker, if any
}
