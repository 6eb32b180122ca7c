import { diagnostic, show, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { At, KindDefinition } from "../kind.js";

/** Debian's rule for user and group names (useradd, adduser): portable across shadow and busybox. */
const NAME = /^[a-z_][a-z0-9_-]*\$?$/;
export const NAME_LENGTH = 32;
/** Largest uid/gid: 2^32 - 2 (-1, 4294967295, means "no id" to the kernel's calls). */
export const MAX_ID = 4294967294;

/** A user or group name (DEPC2340), or undefined after reporting. */
export function checkPrincipalName(kind: "User" | "Group", value: unknown, at: At, report: (d: Diagnostic) => void): string | undefined {
  const problem =
    typeof value !== "string" || value === ""
      ? "a name is required"
      : !NAME.test(value)
        ? "it must be lower case letters, digits, '_' and '-', start with a letter or '_' (and may end in '$')"
        : value.length > NAME_LENGTH
          ? `it is ${value.length} characters long; at most ${NAME_LENGTH} are allowed`
          : undefined;
  if (problem === undefined) return value as string;
  report(diagnostic("invalidPrincipalName", { kind, name: show(value), problem }, at));
  return undefined;
}

/** A uid or gid (DEPC2341): '' when not given, undefined after reporting. */
export function checkId(kind: "User" | "Group", name: string, field: string, value: unknown, at: At, report: (d: Diagnostic) => void): string | undefined {
  if (value === undefined) return "";
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_ID) return String(value);
  report(diagnostic("principalIdRange", { kind, name: JSON.stringify(name), field, value: show(value), max: MAX_ID }, at));
  return undefined;
}

/** true/false, or the default; undefined after reporting with `bad`. */
export function checkFlag(value: unknown, fallback: boolean, bad: (found: string) => void): boolean | undefined {
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  bad(show(value));
  return undefined;
}

export const groupKind: KindDefinition = {
  kind: "group",
  folder: "group",
  claims: "group",
  container: false,
  runtime: { file: "group.sh", calls: [{ fn: "depc_group", params: ["name", "system", "gid"] }] },
  reacts: false,
  provides: "group",
  remove: { fn: "depc_group_remove", params: ["name"] },
  diagnostics: ["invalidPrincipalName", "principalIdRange", "groupOption"],
  check(model, report) {
    const { props, site } = model;
    const name = checkPrincipalName("Group", props.name, site, report);
    if (name === undefined) return undefined;
    const gid = checkId("Group", name, "gid", props.gid, site, report);
    const system = checkFlag(props.system, true, (found) => report(diagnostic("groupOption", { name: JSON.stringify(name), field: "system", problem: `must be true or false, not ${found}` }, site)));
    if (gid === undefined || system === undefined) return undefined;
    return {
      model,
      key: name,
      lowered: { call: "depc_group", args: { name, system: system ? "1" : "0", gid } },
      removal: { args: { name } },
    };
  },
};
