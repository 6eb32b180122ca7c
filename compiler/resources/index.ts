import { commandKind } from "./command.js";
import { directoryKind } from "./directory.js";
import { fileKind } from "./file.js";
import type { ResourceKind } from "./kind.js";
import { symlinkKind } from "./symlink.js";

/** Every resource kind the compiler knows, by the `kind` its stdlib factory sets. */
export const resourceKinds: ReadonlyMap<string, ResourceKind> = new Map(
  [fileKind, directoryKind, symlinkKind, commandKind].map((k) => [k.kind, k]),
);
