import { diagnostic, show, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { checkPath, wellFormed } from "../checks.js";
import type { At, KindDefinition } from "../kind.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const PRINCIPAL = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;
const FREQUENCIES = ["daily", "weekly", "monthly"];
/** Characters a path is written with, unquoted; others get double quotes. */
const PLAIN = /^[A-Za-z0-9_@+=:,./*?[\]-]+$/;

/**
 * Logrotate: one entry of a logrotate config. Collected per host
 * (KindDefinition.collect): one `depc_logrotate` call writes all entries
 * into /etc/logrotate.d/depc-<env>; each entry keeps its own report line,
 * ledger entry and removal.
 */
export const logrotateKind: KindDefinition = {
  kind: "logrotate",
  folder: "logrotate",
  // Its name: one entry per name in the host's file.
  claims: "logrotate-entry",
  container: false,
  runtime: { file: "logrotate.sh", calls: [{ fn: "depc_logrotate", params: ["entries..."] }] },
  reacts: false,
  remove: { fn: "depc_logrotate_remove", params: ["name"] },
  diagnostics: ["invalidLogrotateName", "logrotatePath", "logrotateOption", "logrotatePostrotate"],
  collect: {
    by: () => "",
    lower: (members) => ({ call: "depc_logrotate", args: { entries: members.flatMap((m) => m.lowered.args.entries as readonly (string | { content: Uint8Array })[]) } }),
  },
  check(model, report) {
    const { props, site } = model;
    if (typeof props.name !== "string" || !NAME.test(props.name)) {
      report(diagnostic("invalidLogrotateName", { name: show(props.name) }, site));
      return undefined;
    }
    const name = props.name;
    const shown = JSON.stringify(name);
    let ok = true;
    const fail = (d: Diagnostic) => {
      report(d);
      ok = false;
    };
    const option = (field: string, expected: string, value: unknown) => fail(diagnostic("logrotateOption", { name: shown, field, expected, value: show(value) }, site));
    const paths: string[] = [];
    if (!Array.isArray(props.paths) || props.paths.length === 0) option("paths", "a non-empty list of absolute paths", props.paths);
    else {
      for (const raw of props.paths as unknown[]) {
        const path = checkPath("logrotate", raw, site, fail);
        if (path === undefined) continue;
        const bad = /["\\{}#]/.exec(path) ?? (path !== path.trim() ? [" "] : null);
        if (bad) {
          fail(diagnostic("logrotatePath", { name: shown, path: show(path), problem: bad[0] === " " ? "starts or ends with a blank" : `contains ${JSON.stringify(bad[0])}, which a logrotate config cannot hold in a path` }, site));
        } else paths.push(path);
      }
    }
    const frequency = props.frequency ?? "weekly";
    if (typeof frequency !== "string" || !FREQUENCIES.includes(frequency)) option("frequency", `one of ${FREQUENCIES.join(", ")}`, props.frequency);
    const rotate = props.rotate ?? 4;
    if (typeof rotate !== "number" || !Number.isInteger(rotate) || rotate < 0 || rotate > 1000) option("rotate", "a whole number from 0 to 1000", props.rotate);
    const flag = (field: string, fallback: boolean): boolean => {
      const value = props[field];
      if (value === undefined) return fallback;
      if (typeof value === "boolean") return value;
      option(field, "true or false", value);
      return fallback;
    };
    const compress = flag("compress", false);
    const delaycompress = flag("delaycompress", false);
    const copytruncate = flag("copytruncate", false);
    const missingok = flag("missingok", true);
    const notifempty = flag("notifempty", true);
    let su: string[] | undefined;
    if (props.su !== undefined) {
      const pair = props.su;
      if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === "string" && PRINCIPAL.test(p) && p.length <= 32)) {
        option("su", "[user, group], two names", pair);
      } else su = pair as string[];
    }
    const script = postrotate(shown, props.postrotate, site, fail);
    if (!ok || script === undefined) return undefined;
    const lines = [
      `${paths.map((p) => (PLAIN.test(p) ? p : `"${p}"`)).join(" ")} {`,
      `    ${frequency as string}`,
      `    rotate ${rotate as number}`,
      ...(missingok ? ["    missingok"] : []),
      ...(notifempty ? ["    notifempty"] : []),
      ...(compress ? ["    compress"] : []),
      ...(compress && delaycompress ? ["    delaycompress"] : []),
      ...(copytruncate ? ["    copytruncate"] : []),
      ...(su !== undefined ? [`    su ${su[0]} ${su[1]}`] : []),
      ...(script.length > 0 ? ["    postrotate", ...script.map((l) => (l === "" ? "" : `        ${l}`)), "    endscript"] : []),
      "}",
      "",
    ];
    const content = new TextEncoder().encode(lines.join("\n"));
    return {
      model,
      key: name,
      lowered: { call: "depc_logrotate", args: { entries: [name, { content }] } },
      removal: { args: { name } },
    };
  },
};

/** The postrotate script's lines ([] for none), or undefined (reported). */
function postrotate(name: string, value: unknown, at: At, fail: (d: Diagnostic) => void): string[] | undefined {
  if (value === undefined) return [];
  const problem = (text: string) => {
    fail(diagnostic("logrotatePostrotate", { name, problem: text }, at));
    return undefined;
  };
  if (typeof value !== "string") return problem(`must be a shell script (a string), not ${show(value)}`);
  if (!wellFormed(value)) return problem("contains a lone UTF-16 surrogate: it is not valid Unicode");
  const control = /[\u0000-\u0008\u000b-\u001f\u007f]/.exec(value);
  if (control) return problem(`contains a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")})`);
  const lines = value.replace(/\n+$/, "").split("\n");
  if (lines.some((l) => l.trim() === "endscript")) return problem("has a line that is only \"endscript\", which would end the script early for logrotate");
  return value.trim() === "" ? [] : lines;
}
