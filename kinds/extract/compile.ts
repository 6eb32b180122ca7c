import { diagnostic, show } from "../../compiler/diagnostics/diagnostic.js";
import { checkPath, checkPrincipal } from "../checks.js";
import type { KindDefinition } from "../kind.js";

const FORMATS = ["tar", "tar.gz", "tar.xz", "tar.bz2", "zip"] as const;
const BY_SUFFIX: readonly (readonly [string, string])[] = [
  [".tar.gz", "tar.gz"],
  [".tgz", "tar.gz"],
  [".tar.xz", "tar.xz"],
  [".txz", "tar.xz"],
  [".tar.bz2", "tar.bz2"],
  [".tbz2", "tar.bz2"],
  [".tbz", "tar.bz2"],
  [".tar", "tar"],
  [".zip", "zip"],
];

export const extractKind: KindDefinition = {
  kind: "extract",
  folder: "extract",
  claims: "path",
  // Files declared inside the tree are written after it is swapped in.
  container: true,
  runtime: { file: "extract.sh", calls: [{ fn: "depc_extract", params: ["archive", "to", "format", "strip", "owner", "group"] }] },
  reacts: false,
  // The resource that makes the archive (a Download, a File) goes first.
  references: { archive: "path", owner: "user", group: "group" },
  remove: { fn: "depc_extract_remove", params: ["to"] },
  diagnostics: ["extractOption", "extractFormat"],
  check(model, report) {
    const { props, site } = model;
    const to = checkPath("extract", props.to, site, report);
    if (to === undefined) return undefined;
    const shown = JSON.stringify(to);
    let ok = true;
    const bad = (field: string, problem: string) => {
      ok = false;
      report(diagnostic("extractOption", { path: shown, field, problem }, site));
    };
    const archive = props.archive === undefined ? (bad("archive", "is missing: give the archive's path on the host"), undefined) : checkPath("extract", props.archive, site, report);
    if (archive === undefined) return undefined;
    if (archive === to || archive.startsWith(`${to}/`)) bad("archive", `${JSON.stringify(archive)} lies inside the directory it is extracted to, which is replaced whole`);
    let strip = 0;
    if (props.strip !== undefined) {
      if (typeof props.strip === "number" && Number.isInteger(props.strip) && props.strip >= 0 && props.strip <= 32) strip = props.strip;
      else bad("strip", `${show(props.strip)} is not a whole number from 0 to 32`);
    }
    let format: string | undefined;
    if (props.format !== undefined) {
      if ((FORMATS as readonly unknown[]).includes(props.format)) format = props.format as string;
      else bad("format", `${show(props.format)} is not one of ${FORMATS.map((f) => JSON.stringify(f)).join(", ")}`);
    } else {
      format = BY_SUFFIX.find(([suffix]) => archive.toLowerCase().endsWith(suffix))?.[1];
      if (format === undefined) {
        ok = false;
        report(diagnostic("extractFormat", { path: shown, archive: JSON.stringify(archive) }, site));
      }
    }
    const owner = checkPrincipal("extract", shown, "owner", props.owner, site, report);
    const group = checkPrincipal("extract", shown, "group", props.group, site, report);
    if (!ok || format === undefined || owner === false || group === false) return undefined;
    return {
      model,
      key: to,
      lowered: { call: "depc_extract", args: { archive, to, format, strip: String(strip), owner: owner ?? "", group: group ?? "" } },
      removal: { claim: to, args: { to } },
    };
  },
};
