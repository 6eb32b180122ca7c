import { diagnostic, show } from "../../compiler/diagnostics/diagnostic.js";
import { checkMode, checkPath, checkPrincipal, octal4, wellFormed } from "../checks.js";
import type { KindDefinition } from "../kind.js";

/** A URL a download tool takes as one argument: a scheme curl and wget both speak, no whitespace or control characters. */
const URL_SHAPE = /^(https?|ftp):\/\/[^\s\u0000-\u001f\u007f]+$/;

export const downloadKind: KindDefinition = {
  kind: "download",
  folder: "download",
  claims: "path",
  container: false,
  runtime: { file: "download.sh", calls: [{ fn: "depc_download", params: ["path", "url", "sha256", "mode", "owner", "group"] }] },
  reacts: false,
  references: { owner: "user", group: "group" },
  remove: { fn: "depc_download_remove", params: ["path"] },
  diagnostics: ["downloadUrl", "downloadSha256"],
  check(model, report) {
    const { props, site } = model;
    const path = checkPath("download", props.path, site, report);
    if (path === undefined) return undefined;
    const shown = JSON.stringify(path);
    const mode = checkMode("download", shown, props.mode, 0o644, site, report);
    const owner = checkPrincipal("download", shown, "owner", props.owner, site, report);
    const group = checkPrincipal("download", shown, "group", props.group, site, report);
    const url = props.url;
    let urlOk = true;
    if (typeof url !== "string" || url === "") {
      urlOk = false;
      report(diagnostic("downloadUrl", { path: shown, value: show(url), problem: "is missing: give the http://, https:// or ftp:// address to fetch the file from" }, site));
    } else if (!wellFormed(url) || !URL_SHAPE.test(url)) {
      urlOk = false;
      report(diagnostic("downloadUrl", { path: shown, value: show(url), problem: "must start with http://, https:// or ftp:// and hold no spaces or control characters" }, site));
    }
    const sha = props.sha256;
    let sha256: string | undefined;
    if (typeof sha !== "string" || sha === "") {
      report(diagnostic("downloadSha256", { path: shown, value: show(sha), problem: "is missing: a Download needs the file's sha256 (run sha256sum on a copy you trust)" }, site));
    } else if (!/^[0-9a-fA-F]{64}$/.test(sha)) {
      report(diagnostic("downloadSha256", { path: shown, value: show(sha), problem: `is not a sha256: it must be 64 hexadecimal digits (it has ${sha.length} characters)` }, site));
    } else sha256 = sha.toLowerCase();
    if (mode === undefined || owner === false || group === false || !urlOk || sha256 === undefined) return undefined;
    return {
      model,
      key: path,
      lowered: {
        call: "depc_download",
        args: { path, url: url as string, sha256, mode: octal4(mode), owner: owner ?? "", group: group ?? "" },
        // The batched fact pass verifies it: a converged Download runs no process of its own.
        fact: { type: "f", path, mode, owner, group, sha256 },
      },
      removal: { claim: path, args: { path } },
    };
  },
};
