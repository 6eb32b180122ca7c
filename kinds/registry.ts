import { commandKind } from "./command.js";
import { directoryKind } from "./directory.js";
import { fileKind } from "./file.js";
import type { ResourceKind } from "./kind.js";
import { serviceKind } from "./service.js";
import { programKind, supervisorKind } from "./supervisor.js";
import { symlinkKind } from "./symlink.js";
import { buildoutKind } from "./buildout.js";
import { virtualenvKind } from "./virtualenv.js";

/** Every resource kind the compiler knows, by the `kind` its stdlib factory sets. */
export const resourceKinds: ReadonlyMap<string, ResourceKind> = new Map(
  [fileKind, directoryKind, symlinkKind, commandKind, supervisorKind, programKind, virtualenvKind, buildoutKind, serviceKind].map((k) => [k.kind, k]),
);
