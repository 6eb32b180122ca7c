import { diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { checkPath, PATH_MAX, utf8Length } from "../checks.js";
import { wellFormed } from "../checks.js";
import type { KindDefinition } from "../kind.js";

export const symlinkKind: KindDefinition = {
  kind: "symlink",
  folder: "symlink",
  claims: "path",
  container: false,
  runtime: { file: "symlink.sh", calls: [{ fn: "depc_symlink", params: ["path", "target"] }] },
  reacts: false,
  remove: { fn: "depc_symlink_remove", params: ["path"] },
  diagnostics: ["symlinkTargetInvalid"],
  check(model, report) {
    const { props, site } = model;
    const path = checkPath("symlink", props.path, site, report);
    const target = props.target;
    let problem: string | undefined;
    if (typeof target !== "string" || target === "") problem = "is missing or empty";
    else if (target.includes("\0")) problem = "contains a NUL character";
    else if (!wellFormed(target)) problem = "contains a lone UTF-16 surrogate, which is not valid Unicode";
    else if (utf8Length(target) > PATH_MAX) problem = `is ${utf8Length(target)} bytes long; a symlink target may have at most ${PATH_MAX} bytes (UTF-8)`;
    if (problem !== undefined) report(diagnostic("symlinkTargetInvalid", { path: JSON.stringify(path ?? props.path), problem }, site));
    if (path === undefined || problem !== undefined) return undefined;
    return {
      model,
      key: path,
      lowered: { call: "depc_symlink", args: { path, target: target as string }, fact: { type: "l", path } },
      removal: { claim: path, args: { path } },
    };
  },
};
