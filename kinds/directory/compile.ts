import { checkMode, checkPath, checkPrincipal, octal4 } from "../checks.js";
import type { KindDefinition } from "../kind.js";

export const directoryKind: KindDefinition = {
  kind: "directory",
  folder: "directory",
  claims: "path",
  container: true,
  runtime: { file: "directory.sh", calls: [{ fn: "depc_directory", params: ["path", "mode", "owner", "group"] }] },
  reacts: false,
  references: { owner: "user", group: "group" },
  remove: { fn: "depc_directory_remove", params: ["path"], ifNew: true },
  diagnostics: [],
  check(model, report) {
    const { props, site } = model;
    const path = checkPath("directory", props.path, site, report);
    if (path === undefined) return undefined;
    const shown = JSON.stringify(path);
    const mode = checkMode("directory", shown, props.mode, 0o755, site, report);
    const owner = checkPrincipal("directory", shown, "owner", props.owner, site, report);
    const group = checkPrincipal("directory", shown, "group", props.group, site, report);
    if (mode === undefined || owner === false || group === false) return undefined;
    return {
      model,
      key: path,
      lowered: {
        call: "depc_directory",
        args: { path, mode: octal4(mode), owner: owner ?? "", group: group ?? "" },
        fact: { type: "d", path, mode, owner, group },
      },
      removal: { claim: path, args: { path } },
    };
  },
};
