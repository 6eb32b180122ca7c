import { createHash } from "node:crypto";
import { diagnostic, show, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { checkPath, checkPrincipal, wellFormed } from "../checks.js";
import { splitArgv } from "../command/compile.js";
import { UNIT_HEADER, environmentLine, execWord } from "../service/compile.js";
import type { At, KindDefinition } from "../kind.js";

/** A unit name without its type suffix: systemd's characters but `@` (a timer here is never a template) and `\`. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `<name>.service` must fit systemd's 255 characters. */
const NAME_MAX = 255 - ".service".length;
/** A day: more delay or accuracy than that is a mistake, not a schedule. */
const SECONDS_MAX = 86400;

/**
 * Timer: a systemd `<name>.timer` and the `<name>.service` it starts
 * (Type=oneshot), written from typed fields with the same quoting as
 * Service (kinds/service/compile.ts: `execWord`, `environmentLine`).
 */
export const timerKind: KindDefinition = {
  kind: "timer",
  folder: "timer",
  // "<name>.timer"; its "<name>.service" is claimed too (alsoClaims), so a Service of that name collides.
  claims: "systemd-unit",
  container: false,
  runtime: {
    file: "timer.sh",
    calls: [{ fn: "depc_timer", params: ["name", "calendar", "servicesha", "servicefn", "timersha", "timerfn"] }],
  },
  reacts: false,
  remove: { fn: "depc_timer_remove", params: ["name"] },
  diagnostics: ["invalidTimerName", "timerOnCalendar", "timerCommand", "timerFieldValue", "timerEnvironment", "timerSeconds", "timerOption"],
  check(model, report) {
    const { props, site } = model;
    const base = timerName(props.name, site, report);
    if (base === undefined) return undefined;
    const name = JSON.stringify(base);
    let ok = true;
    const fail = (d: Diagnostic) => {
      report(d);
      ok = false;
    };
    const calendar = onCalendar(name, props.onCalendar, site, fail);
    const argv = command(name, props.command, site, fail);
    const line = (field: string, value: unknown): string | undefined => {
      if (value === undefined) return undefined;
      const problem = typeof value !== "string" ? "must be a string" : lineProblem(value);
      if (problem !== undefined) {
        fail(diagnostic("timerFieldValue", { name, field, value: show(value), problem }, site));
        return undefined;
      }
      return value as string;
    };
    const description = line("description", props.description);
    const user = checkPrincipal("timer", name, "user" as "owner", props.user, site, fail);
    const group = checkPrincipal("timer", name, "group", props.group, site, fail);
    let workingDirectory: string | undefined;
    const rawDirectory = line("workingDirectory", props.workingDirectory);
    if (rawDirectory !== undefined) workingDirectory = checkPath("timer workingDirectory", rawDirectory, site, fail);
    const environment = environmentLines(name, props.environment, site, fail);
    const seconds = (field: string, value: unknown, min: number): number | undefined => {
      if (value === undefined) return undefined;
      if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= SECONDS_MAX) return value;
      fail(diagnostic("timerSeconds", { name, field, value: show(value), min: String(min), max: String(SECONDS_MAX) }, site));
      return undefined;
    };
    const delay = seconds("randomizedDelaySec", props.randomizedDelaySec, 0);
    const accuracy = seconds("accuracySec", props.accuracySec, 1);
    let persistent = false;
    if (props.persistent !== undefined) {
      if (typeof props.persistent === "boolean") persistent = props.persistent;
      else fail(diagnostic("timerOption", { name, field: "persistent", expected: "true or false", value: show(props.persistent) }, site));
    }
    if (!ok || calendar === undefined || argv === undefined || user === false || group === false || environment === undefined) return undefined;

    const what = specifierSafe(description ?? `${base}: run on a schedule (depc Timer)`);
    const service = [
      UNIT_HEADER,
      "[Unit]",
      `Description=${what}`,
      "",
      "[Service]",
      "Type=oneshot",
      `ExecStart=${argv.map(execWord).join(" ")}`,
      ...(user !== undefined ? [`User=${user}`] : []),
      ...(group !== undefined ? [`Group=${group}`] : []),
      ...(workingDirectory !== undefined ? [`WorkingDirectory=${specifierSafe(workingDirectory)}`] : []),
      ...environment,
      "",
    ].join("\n");
    const timer = [
      UNIT_HEADER,
      "[Unit]",
      `Description=${what}`,
      "",
      "[Timer]",
      `OnCalendar=${specifierSafe(calendar)}`,
      ...(accuracy !== undefined ? [`AccuracySec=${accuracy}s`] : []),
      ...(delay !== undefined && delay > 0 ? [`RandomizedDelaySec=${delay}s`] : []),
      ...(persistent ? ["Persistent=true"] : []),
      `Unit=${base}.service`,
      "",
      "[Install]",
      "WantedBy=timers.target",
      "",
    ].join("\n");
    const serviceBytes = new TextEncoder().encode(service);
    const timerBytes = new TextEncoder().encode(timer);
    return {
      model,
      key: `${base}.timer`,
      alsoClaims: [`${base}.service`],
      lowered: {
        call: "depc_timer",
        args: { name: base, calendar, servicesha: sha256(serviceBytes), servicefn: { content: serviceBytes }, timersha: sha256(timerBytes), timerfn: { content: timerBytes } },
      },
      removal: { claim: `/etc/systemd/system/${base}.timer`, args: { name: base } },
    };
  },
};

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** `%` starts a systemd specifier: `%%` is a literal `%`. */
const specifierSafe = (value: string) => value.replace(/%/g, "%%");

function timerName(value: unknown, at: At, report: (d: Diagnostic) => void): string | undefined {
  const problem = (text: string) => {
    report(diagnostic("invalidTimerName", { name: show(value), problem: text }, at));
    return undefined;
  };
  if (typeof value !== "string" || value === "") return problem('it must be a name like "backup" (for backup.timer and backup.service)');
  if (/\.(timer|service)$/.test(value)) return problem(`give it without .timer or .service: ${JSON.stringify(value.replace(/\.(timer|service)$/, ""))} names both units`);
  if (!NAME.test(value)) return problem("it may only contain letters, digits and _ . : - (starting with a letter, digit or _)");
  if (value.length > NAME_MAX) return problem(`it is longer than ${NAME_MAX} characters (systemd's limit is 255 with .service)`);
  return value;
}

/** What makes a value unusable on one line of a unit file; undefined when it is fine. */
function lineProblem(value: string): string | undefined {
  if (!wellFormed(value)) return "contains a lone UTF-16 surrogate (not valid Unicode)";
  const control = /[\u0000-\u001f\u007f]/.exec(value);
  if (control) {
    const char = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    return control[0] === "\n" ? "contains a newline: a unit file setting is one line" : `contains a control character (${char})`;
  }
  if (value.endsWith("\\")) return "ends with a backslash, which systemd reads as a line continuation";
  if (value !== value.trim()) return "starts or ends with blanks, which systemd strips";
  return undefined;
}

function onCalendar(name: string, value: unknown, at: At, fail: (d: Diagnostic) => void): string | undefined {
  const problem = (text: string) => {
    fail(diagnostic("timerOnCalendar", { name, value: show(value), problem: text }, at));
    return undefined;
  };
  if (typeof value !== "string" || value.trim() === "") return problem('must be a systemd calendar expression such as "daily" or "*-*-* 03:17:00"');
  const line = lineProblem(value);
  if (line !== undefined) return problem(line);
  if (value.includes("%")) return problem("contains %, which no calendar expression has");
  return value;
}

function command(name: string, value: unknown, at: At, fail: (d: Diagnostic) => void): string[] | undefined {
  const problem = (text: string) => {
    fail(diagnostic("timerCommand", { name, problem: text }, at));
    return undefined;
  };
  if (!Array.isArray(value)) return problem(`must be a list: the program and its arguments, not ${show(value)}`);
  const split = splitArgv(value);
  if ("problem" in split) return problem(split.problem);
  const argv = split.argv as string[];
  const program = argv[0]!;
  if (/^[@:+!-]/.test(program)) return problem(`starts with '${program[0]}' (${JSON.stringify(program)}), which systemd reads as a prefix, not a program`);
  if (program.includes("/") && !program.startsWith("/")) return problem(`runs ${JSON.stringify(program)}: systemd needs an absolute path or a bare program name`);
  for (const word of argv) {
    if (!wellFormed(word)) return problem(`has an argument that contains a lone UTF-16 surrogate (${show(word)})`);
    const control = /[\u0000-\u001f\u007f]/.exec(word);
    if (control) {
      const char = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
      return problem(`has an argument that contains ${control[0] === "\n" ? "a newline: a unit file setting is one line" : `a control character (${char})`} (${show(word)})`);
    }
  }
  return argv;
}

function environmentLines(name: string, value: unknown, at: At, fail: (d: Diagnostic) => void): string[] | undefined {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(diagnostic("timerOption", { name, field: "environment", expected: "an object of variable names to strings", value: show(value) }, at));
    return undefined;
  }
  const lines: string[] = [];
  let ok = true;
  for (const variable of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[variable];
    const control = typeof v === "string" ? /[\u0000-\u001f\u007f]/.exec(v) : null;
    const problem = !VARIABLE.test(variable)
      ? "is not a valid name"
      : typeof v !== "string"
        ? `must be a string, not ${show(v)}`
        : !wellFormed(v)
          ? "contains a lone UTF-16 surrogate (not valid Unicode)"
          : control
            ? control[0] === "\n"
              ? "contains a newline: a unit file setting is one line"
              : `contains a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")})`
            : undefined;
    if (problem !== undefined) {
      fail(diagnostic("timerEnvironment", { name, variable: JSON.stringify(variable), problem }, at));
      ok = false;
    } else lines.push(environmentLine(variable, v as string));
  }
  return ok ? lines : undefined;
}
