import { diagnostic, show, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { wellFormed } from "../checks.js";
import type { At, KindDefinition } from "../kind.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A user name crontab -u takes (no numeric ids: crontab looks names up). */
const USER = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;
const SPECIAL = ["@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/** The five fields of a schedule (crontab(5)): name, range, names allowed as single values. */
const FIELDS: readonly { readonly what: string; readonly min: number; readonly max: number; readonly names?: readonly string[] }[] = [
  { what: "minute", min: 0, max: 59 },
  { what: "hour", min: 0, max: 23 },
  { what: "day of month", min: 1, max: 31 },
  { what: "month", min: 1, max: 12, names: MONTHS },
  { what: "day of week", min: 0, max: 7, names: DAYS },
];
/** Debian cron reads at most 1000 characters of a crontab line (MAX_COMMAND). */
const LINE_MAX = 998;

/**
 * CronJob: one line of a user's crontab. Collected per user
 * (KindDefinition.collect): one `depc_cronjob` call writes all of a user's
 * jobs into the block depc owns; each job keeps its own line in reports,
 * its ledger entry and its removal.
 */
export const cronjobKind: KindDefinition = {
  kind: "cronjob",
  folder: "cron",
  // "<user>:<name>": a job name per user's crontab.
  claims: "cron-job",
  container: false,
  runtime: { file: "cron.sh", calls: [{ fn: "depc_cronjob", params: ["user", "entries..."] }] },
  reacts: false,
  remove: { fn: "depc_cronjob_remove", params: ["user", "name"] },
  diagnostics: ["invalidCronJobName", "cronJobSchedule", "cronJobCommand", "cronJobUser"],
  collect: {
    by: (resource) => String(resource.lowered.args.user),
    lower: (members) => ({ call: "depc_cronjob", args: { user: members[0]!.lowered.args.user as string, entries: members.flatMap((m) => m.lowered.args.entries as string[]) } }),
  },
  check(model, report) {
    const { props, site } = model;
    if (typeof props.name !== "string" || !NAME.test(props.name)) {
      report(diagnostic("invalidCronJobName", { name: show(props.name) }, site));
      return undefined;
    }
    const name = props.name;
    const shown = JSON.stringify(name);
    let ok = true;
    const fail = (d: Diagnostic) => {
      report(d);
      ok = false;
    };
    const user = props.user === undefined ? "root" : props.user;
    if (typeof user !== "string" || !USER.test(user) || user.length > 32) fail(diagnostic("cronJobUser", { name: shown, value: show(props.user) }, site));
    const schedule = checkSchedule(shown, props.schedule, site, fail);
    const command = checkCommand(shown, props.command, site, fail);
    if (!ok || schedule === undefined || command === undefined) return undefined;
    const line = `${schedule} ${command}`;
    if (line.length > LINE_MAX) {
      report(diagnostic("cronJobCommand", { name: shown, problem: `makes a crontab line of ${line.length} characters; cron reads at most ${LINE_MAX} (put the work in a script)` }, site));
      return undefined;
    }
    const owner = user as string;
    return {
      model,
      key: `${owner}:${name}`,
      lowered: { call: "depc_cronjob", args: { user: owner, entries: [name, line] } },
      removal: { args: { user: owner, name } },
    };
  },
};

/** The schedule with single spaces between its fields, or undefined (reported). */
function checkSchedule(name: string, value: unknown, at: At, fail: (d: Diagnostic) => void): string | undefined {
  const problem = (text: string) => {
    fail(diagnostic("cronJobSchedule", { name, value: show(value), problem: text }, at));
    return undefined;
  };
  if (typeof value !== "string") return problem("must be a string such as \"17 3 * * *\" or \"@daily\"");
  const fields = value.trim().split(/[ \t]+/).filter((f) => f !== "");
  if (fields.length === 1 && fields[0]!.startsWith("@")) {
    return SPECIAL.includes(fields[0]!) ? fields[0] : problem(`is not one of ${SPECIAL.join(", ")}`);
  }
  if (fields.length !== 5) {
    return problem(`has ${fields.length} field${fields.length === 1 ? "" : "s"}; cron needs 5 (minute hour day-of-month month day-of-week) or one of ${SPECIAL.join(", ")}`);
  }
  for (let i = 0; i < 5; i++) {
    const why = fieldProblem(fields[i]!, FIELDS[i]!);
    if (why !== undefined) return problem(`has the ${FIELDS[i]!.what} ${JSON.stringify(fields[i])}, which ${why}`);
  }
  return fields.join(" ");
}

function fieldProblem(field: string, spec: (typeof FIELDS)[number]): string | undefined {
  const range = `${spec.min}-${spec.max}`;
  for (const item of field.split(",")) {
    if (spec.names?.includes(item.toLowerCase())) continue;
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (m === null) return `is not a number, a range, a step or a list${spec.names ? ` (or one name such as ${spec.names[0]})` : ""}`;
    for (const n of [m[2], m[3]]) if (n !== undefined && (Number(n) < spec.min || Number(n) > spec.max)) return `is out of range ${range}`;
    if (m[3] !== undefined && Number(m[3]) < Number(m[2])) return "is a range that ends before it starts";
    if (m[4] !== undefined && Number(m[4]) < 1) return "has a step of 0";
  }
  return undefined;
}

/**
 * The command as cron must see it: `%` written `\%` (cron turns an unescaped
 * `%` into a newline and the rest into the command's stdin). One line.
 */
function checkCommand(name: string, value: unknown, at: At, fail: (d: Diagnostic) => void): string | undefined {
  const problem = (text: string) => {
    fail(diagnostic("cronJobCommand", { name, problem: text }, at));
    return undefined;
  };
  if (typeof value !== "string" || value.trim() === "") return problem(`must be a command line (a non-empty string), not ${show(value)}`);
  if (!wellFormed(value)) return problem("contains a lone UTF-16 surrogate: it is not valid Unicode");
  const control = /[\u0000-\u001f\u007f]/.exec(value);
  if (control) {
    const char = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    return problem(control[0] === "\n" ? "contains a newline: a cron job is one line (put several commands in a script)" : `contains a control character (${char})`);
  }
  // cron (do_command.c) drops a backslash before % only when that backslash is not itself escaped: a \ right before a % cannot reach the shell.
  if (value.includes("\\%")) return problem("has a backslash right before %, which cron cannot pass on (write the % without it, or use a script)");
  return escapePercent(value.trim());
}

/** `%` → `\%`: cron (Vixie/Debian, cronie) passes `\%` on as a literal `%`. */
export const escapePercent = (command: string) => command.replace(/%/g, "\\%");
