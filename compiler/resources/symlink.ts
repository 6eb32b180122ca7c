import { diagnostic } from "../diagnostics/diagnostic.js";
import { checkPath } from "./checks.js";
import { wellFormed } from "./checks.js";
import type { ResourceKind } from "./kind.js";

export const symlinkKind: ResourceKind = {
  kind: "symlink",
  check(model, report) {
    const { props, site } = model;
    const path = checkPath("symlink", props.path, site, report);
    const target = props.target;
    let problem: string | undefined;
    if (typeof target !== "string" || target === "") problem = "is missing or empty";
    else if (target.includes("\0")) problem = "contains a NUL character";
    else if (!wellFormed(target)) problem = "contains a lone UTF-16 surrogate, which is not valid Unicode";
    else if (target.length > 4095) problem = "is longer than 4095 bytes";
    if (problem !== undefined) report(diagnostic("symlinkTargetInvalid", { path: JSON.stringify(path ?? props.path), problem }, site));
    if (path === undefined || problem !== undefined) return undefined;
    return {
      model,
      kind: "symlink",
      key: path,
      container: false,
      lowered: { call: "depc_symlink", args: [path, target as string], fact: { type: "l", path } },
      removal: { claim: path, fn: "depc_symlink_remove", params: [path] },
    };
  },
};
