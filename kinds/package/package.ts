import { defineResource, type Relations, type Resource } from "../../model/resource.js";

/** Options of {@link Package}. */
export interface PackageOptions extends Relations {
  /**
   * The package's name as the host's package manager knows it: `"nginx"`,
   * `"python3-django"`, `"libc6:i386"` (Debian's package name grammar:
   * lower case letters, digits, `+`, `-` and `.`, at least two characters,
   * starting with a letter or digit; an optional `:ARCH`).
   */
  readonly name: string;
  /**
   * The exact version to install (`"1.22.1-9"`, `"2:1.2.3-1"`): installed
   * as `name=version`, upgraded or downgraded to it when another version is
   * installed. Without it, any installed version will do, and a missing
   * package gets the version the host's package index offers.
   * @default undefined (any version)
   */
  readonly version?: string;
}

export type PackageResource = Resource<"package", PackageOptions>;

/**
 * An OS package: Debian and Ubuntu (dpkg-query, apt-get) first, Alpine
 * (apk) second. All Packages of a host are checked with one query and the
 * missing ones installed with one non-interactive install; the package
 * index is refreshed only when an install cannot find a package or
 * version. Removing it from the model removes the package (`apt-get
 * remove`, not purge) only when depc installed it.
 */
export function Package(options: PackageOptions): PackageResource {
  return defineResource("package", options, arguments[1]); // the compiler's site marker, if any
}
