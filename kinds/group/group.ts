import { defineResource, type Relations, type Resource } from "../../model/resource.js";

/** Options of {@link Group}. */
export interface GroupOptions extends Relations {
  /** The group's name: lower case letters, digits, `_` and `-`, starting with a letter or `_`, at most 32 characters. */
  readonly name: string;
  /**
   * A system group (`groupadd -r`, busybox `addgroup -S`): its gid comes from the system range.
   * @default true
   */
  readonly system?: boolean;
  /**
   * Its numeric group id; an existing group with another gid is changed (`groupmod -g`).
   * @default unmanaged (the system picks one on creation)
   */
  readonly gid?: number;
}

export type GroupResource = Resource<"group", GroupOptions>;

/**
 * A group of the host, created with `groupadd` (or busybox `addgroup`) when
 * missing. Files, directories, programs and users of the same host whose
 * group names it are ordered after it. Removing it from the model removes
 * it (`groupdel`) only when depc created it.
 */
export function Group(options: GroupOptions): GroupResource {
  return defineResource("group", options, arguments[1]); // the compiler's site marker, if any
}
