import { checkMode, checkPath, checkPrincipal, octal4 } from "./checks.js";
import type { ResourceKind } from "./kind.js";

export const directoryKind: ResourceKind = {
  kind: "directory",
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
      kind: "directory",
      key: path,
      container: true,
      lowered: {
        call: "depc_directory",
        args: [path, octal4(mode), owner ?? "", group ?? ""],
        fact: { type: "d", path, mode, owner, group },
      },
      removal: { claim: path, fn: "depc_directory_remove", params: [path], ifNew: true },
    };
  },
};
