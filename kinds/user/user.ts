import { defineResource, type Relations, type Resource } from "../../model/resource.js";

/** Options of {@link User}. */
export interface UserOptions extends Relations {
  /** The user's name: lower case letters, digits, `_` and `-`, starting with a letter or `_`, at most 32 characters. */
  readonly name: string;
  /**
   * A system user (`useradd -r`, busybox `adduser -S`): its uid comes from the system range.
   * @default true
   */
  readonly system?: boolean;
  /**
   * Its home directory (an absolute path). An existing user's home is changed (`usermod -d`); its files are not moved.
   * @default unmanaged (useradd's default on creation)
   */
  readonly home?: string;
  /**
   * Create the home directory when the user is created (`useradd -m`). A `Directory` for the home is the other way.
   * @default false
   */
  readonly createHome?: boolean;
  /**
   * Its login shell (an absolute path), like `/usr/sbin/nologin` or `/bin/bash`.
   * @default unmanaged (useradd's default on creation)
   */
  readonly shell?: string;
  /**
   * Its numeric user id.
   * @default unmanaged (the system picks one on creation)
   */
  readonly uid?: number;
  /**
   * Its primary group, a name or a gid. A `Group` of the same host with this name is created first.
   * @default unmanaged (on creation: a group named like the user, as useradd does)
   */
  readonly group?: string | number;
  /**
   * Its supplementary groups, exactly: it is removed from groups not listed. `Group`s of the same host named here are created first.
   * @default unmanaged
   */
  readonly groups?: readonly string[];
  /**
   * The comment (GECOS) field, such as the user's full name.
   * @default unmanaged
   */
  readonly comment?: string;
}

export type UserResource = Resource<"user", UserOptions>;

/**
 * A user of the host, created with `useradd` (or busybox `adduser`) when
 * missing; the attributes the model sets are corrected when they differ.
 * Files, directories, programs and services of the same host whose owner
 * (or user) names it are ordered after it. Removing it from the model
 * removes it (`userdel`; its home stays) only when depc created it.
 */
export function User(options: UserOptions): UserResource {
  return defineResource("user", options, arguments[1]); // the compiler's site marker, if any
}
