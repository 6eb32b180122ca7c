/**
 * Every resource kind the compiler knows: one line per kind. A resource of
 * a kind not listed here is an internal error (its factory is depc's own).
 */
import type { KindDefinition } from "./kind.js";
import { fileKind } from "./file/compile.js";
import { directoryKind } from "./directory/compile.js";
import { symlinkKind } from "./symlink/compile.js";
import { commandKind } from "./command/compile.js";
import { supervisorKind, programKind } from "./supervisor/compile.js";
import { virtualenvKind } from "./virtualenv/compile.js";
import { buildoutKind } from "./buildout/compile.js";
import { serviceKind } from "./service/compile.js";
import { userKind } from "./user/compile.js";
import { groupKind } from "./group/compile.js";
import { downloadKind } from "./download/compile.js";
import { extractKind } from "./extract/compile.js";
import { timerKind } from "./timer/compile.js";
import { packageKind } from "./package/compile.js";
import { cronjobKind } from "./cron/compile.js";
import { logrotateKind } from "./logrotate/compile.js";
import { treeKind } from "./tree/compile.js";

/** In the order of docs/resources.md. */
export const kinds: readonly KindDefinition[] = [
  fileKind,
  directoryKind,
  symlinkKind,
  commandKind,
  serviceKind,
  timerKind,
  cronjobKind,
  logrotateKind,
  supervisorKind,
  programKind,
  virtualenvKind,
  buildoutKind,
  userKind,
  groupKind,
  downloadKind,
  extractKind,
  packageKind,
  treeKind,
];

const byName: ReadonlyMap<string, KindDefinition> = new Map(kinds.map((k) => [k.kind, k]));

/** The definition of a registered kind; a kind nobody registered is a bug in depc (exit 70), never dropped. */
export function kindDefinition(kind: string): KindDefinition {
  const definition = byName.get(kind);
  if (definition === undefined) {
    throw new Error(`resource kind ${JSON.stringify(kind)} is not registered (kinds/registry.ts knows ${kinds.map((k) => k.kind).join(", ")})`);
  }
  return definition;
}

/** The definition of a kind, or undefined: for tools that describe a model without compiling it. */
export function findKind(kind: string): KindDefinition | undefined {
  return byName.get(kind);
}
