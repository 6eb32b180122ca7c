import { createHash } from "node:crypto";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { checkMode, checkPath, checkPrincipal, octal4 } from "./checks.js";
import { wellFormed } from "./checks.js";
import type { ResourceKind } from "./kind.js";
import { sensitivityOf } from "../secrets/sensitive.js";

export const fileKind: ResourceKind = {
  kind: "file",
  check(model, report) {
    const { props, site } = model;
    const path = checkPath("file", props.path, site, report);
    if (path === undefined) return undefined;
    const shown = JSON.stringify(path);
    // A secret file is private unless its mode says otherwise.
    const mode = checkMode("file", shown, props.mode, sensitivityOf(model) ? 0o600 : 0o644, site, report);
    const owner = checkPrincipal("file", shown, "owner", props.owner, site, report);
    const group = checkPrincipal("file", shown, "group", props.group, site, report);
    const content = contentBytes(props.content);
    if (content === undefined) report(diagnostic("fileContentMissing", { path: shown }, site));
    if (typeof props.content === "string" && !wellFormed(props.content)) {
      report(diagnostic("notWellFormed", { what: `File ${shown}: the content`, value: "(not shown)" }, site));
      return undefined;
    }
    if (mode === undefined || owner === false || group === false || content === undefined) return undefined;
    const sha256 = createHash("sha256").update(content).digest("hex");
    const secret = sensitivityOf(model);
    return {
      model,
      kind: "file",
      key: path,
      container: false,
      lowered: {
        call: "depc_file",
        // A secret file gets its fingerprint salt: the runtime never diffs it, never prints its digest.
        args: [path, octal4(mode), owner ?? "", group ?? "", sha256, { content }, ...(secret ? [secret.salt] : [])],
        fact: { type: "f", path, mode, owner, group, sha256 },
      },
      removal: { claim: path, fn: "depc_file_remove", params: [path, secret ? "1" : "0"] },
    };
  },
};

function contentBytes(content: unknown): Uint8Array | undefined {
  if (typeof content === "string") return new TextEncoder().encode(content);
  if (content instanceof Uint8Array) return content;
  return undefined;
}
