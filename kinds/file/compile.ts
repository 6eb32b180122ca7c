import { hash } from "node:crypto";
import { diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { checkMode, checkPath, checkPrincipal, octal4 } from "../checks.js";
import { wellFormed } from "../checks.js";
import type { KindDefinition } from "../kind.js";
import { sensitivityOf } from "../../compiler/secrets/sensitive.js";

export const fileKind: KindDefinition = {
  kind: "file",
  folder: "file",
  claims: "path",
  container: false,
  runtime: { file: "file.sh", calls: [{ fn: "depc_file", params: ["path", "mode", "owner", "group", "sha256", "contentfn", "[salt]"] }] },
  reacts: false,
  references: { owner: "user", group: "group" },
  // New files of a run of consecutive Files: written, verified and renamed in a few processes for all.
  batch: { stage: "depc_file_stage", flush: "depc_file_flush" },
  remove: { fn: "depc_file_remove", params: ["path", "secret"] },
  // Its content only: it travels in a content function, never in a report.
  secrets: { fields: ["content"], masked: false },
  diagnostics: ["fileContentMissing"],
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
    // One-shot: a Hash object per file cost more than the digest (102,000 files in a large build).
    const sha256 = hash("sha256", content, "hex");
    const secret = sensitivityOf(model);
    return {
      model,
      key: path,
      lowered: {
        call: "depc_file",
        // A secret file gets its fingerprint salt: the runtime never diffs it, never prints its digest.
        args: { path, mode: octal4(mode), owner: owner ?? "", group: group ?? "", sha256, contentfn: { content, builtin: true }, salt: secret?.salt },
        fact: { type: "f", path, mode, owner, group, sha256 },
      },
      removal: { claim: path, args: { path, secret: secret ? "1" : "0" } },
    };
  },
};

function contentBytes(content: unknown): Uint8Array | undefined {
  if (typeof content === "string") return new TextEncoder().encode(content);
  if (content instanceof Uint8Array) return content;
  return undefined;
}
