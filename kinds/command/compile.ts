import { parse } from "shell-quote";
import { diagnostic, show, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { checkPath } from "../checks.js";
import type { At, KindDefinition, RunSpec } from "../kind.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const commandKind: KindDefinition = {
  kind: "command",
  folder: "command",
  claims: "command",
  container: false,
  runtime: {
    file: "command.sh",
    calls: [{ fn: "depc_command", params: ["owe", "display", "creates", "timeout", "notified", "always", "runfn", "unlessfn", "onlyiffn"] }],
  },
  reacts: true,
  // Only with `undo`: its argv travels as data in the ledger (the bundle that runs it no longer declares it).
  remove: { fn: "depc_command_remove", params: ["display", "cwd", "nenv", "words..."] },
  // Its argv and environment: reports show the command line, so secrets in it are masked.
  secrets: { fields: ["command", "env"], masked: true, argvFields: ["command"] },
  diagnostics: ["invalidCommandName", "invalidCommand", "invalidCommandEnv", "commandWithoutGuard", "invalidTimeout"],
  check(model, report) {
    const { props, site } = model;
    const name = props.name;
    if (typeof name !== "string" || !NAME.test(name)) {
      report(diagnostic("invalidCommandName", { name: show(name) }, site));
      return undefined;
    }
    const shown = JSON.stringify(name);
    let ok = true;
    const fail = (d: Diagnostic) => {
      report(d);
      ok = false;
    };
    const cwd = props.cwd === undefined ? "/" : checkPath("command cwd", props.cwd, site, fail);
    const env = checkEnv(shown, props.env, site, fail);
    const run = argvOf(shown, "command", props.command, site, fail);
    const unless = props.unless === undefined ? undefined : argvOf(shown, "unless", props.unless, site, fail);
    const onlyIf = props.onlyIf === undefined ? undefined : argvOf(shown, "onlyIf", props.onlyIf, site, fail);
    const creates = props.creates === undefined ? undefined : checkPath("command creates", props.creates, site, fail);
    const undo = props.undo === undefined ? undefined : argvOf(shown, "undo", props.undo, site, fail);
    const timeout = props.timeout;
    if (timeout !== undefined && !(Number.isInteger(timeout) && (timeout as number) > 0)) {
      fail(diagnostic("invalidTimeout", { name: shown, value: show(timeout) }, site));
    }
    const whenChanged = props.whenChanged as readonly unknown[] | undefined;
    const always = props.always === true;
    if (creates === undefined && unless === undefined && onlyIf === undefined && whenChanged === undefined && !always) {
      fail(diagnostic("commandWithoutGuard", { name: shown }, site));
    }
    if (!ok || cwd === undefined || env === undefined || run === undefined) return undefined;
    const spec = (argv: readonly string[]): RunSpec => ({ argv, cwd, env });
    return {
      model,
      key: name,
      notifiedBy: whenChanged,
      lowered: {
        call: "depc_command",
        args: {
          owe: `command:${name}`,
          display: display(run),
          creates: creates ?? "",
          timeout: timeout === undefined ? "" : String(timeout),
          notified: whenChanged === undefined ? "0" : "1",
          always: always ? "1" : "0",
          runfn: { run: spec(run) },
          unlessfn: unless === undefined ? undefined : { run: spec(unless) },
          onlyiffn: onlyIf === undefined ? undefined : { run: spec(onlyIf) },
        },
      },
      // Its undo travels as data in the host's ledger: the bundle that runs it no longer declares it.
      removal:
        undo === undefined
          ? {}
          : { args: { display: display(undo), cwd, nenv: String(Object.keys(env).length), words: [...Object.keys(env).sort().map((k) => `${k}=${env[k]}`), ...undo] } },
    };
  },
};

/** An argv from a list, or from a string split like a shell would — never a shell program. */
function argvOf(name: string, field: string, value: unknown, at: At, report: (d: Diagnostic) => void): string[] | undefined {
  const result = splitArgv(value);
  if ("argv" in result) return result.argv;
  report(diagnostic("invalidCommand", { name, field, problem: result.problem }, at));
  return undefined;
}

/**
 * An argv from a list, or from a string split like a shell would — never a
 * shell program; or what is wrong with it ("is empty", "contains ..."),
 * worded to follow the field's name. Shared with Service's `execStart`.
 */
export function splitArgv(
  value: unknown,
  words: { readonly runner: string; readonly envField: string } = { runner: "depc", envField: "env" },
): { readonly argv: string[] } | { readonly problem: string } {
  const problem = (text: string) => ({ problem: text });
  let argv: unknown[];
  if (typeof value === "string") {
    const expanded: string[] = [];
    argv = parse(value, (variable) => {
      expanded.push(variable);
      return `$${variable}`;
    });
    if (expanded.length > 0) return problem(`uses $${expanded[0]}: variables are not expanded; ${words.envField === "env" ? "pass env" : `use ${words.envField}`} or an argv list`);
    const special = argv.find((w) => typeof w !== "string") as { op?: string; pattern?: string; comment?: string } | undefined;
    if (special !== undefined) {
      const what = special.comment !== undefined ? "a comment" : special.op === "glob" ? `a glob (${special.pattern})` : `the shell operator ${JSON.stringify(special.op)}`;
      return problem(`contains ${what}: ${words.runner} runs one program, not a shell; use an argv list, or ["sh", "-c", script] deliberately`);
    }
  } else if (Array.isArray(value)) {
    argv = value;
  } else {
    return problem("must be an argv list or a string");
  }
  if (argv.length === 0 || argv[0] === "") return problem("is empty");
  if (typeof argv[0] === "string" && argv[0].startsWith("-")) return problem(`starts with '-' (${JSON.stringify(argv[0])}), which is not a program`);
  if (argv.some((w) => typeof w !== "string" || w.includes("\0"))) return problem("has an argument that is not a string without NUL");
  return { argv: argv as string[] };
}

function checkEnv(name: string, value: unknown, at: At, report: (d: Diagnostic) => void): Record<string, string> | undefined {
  if (value === undefined) return {};
  const env: Record<string, string> = {};
  let ok = true;
  for (const [variable, v] of Object.entries(value as Record<string, unknown>)) {
    const problem = !VARIABLE.test(variable) ? "is not a valid name" : typeof v !== "string" || v.includes("\0") ? "must be a string without NUL" : undefined;
    if (problem) {
      report(diagnostic("invalidCommandEnv", { name, variable: JSON.stringify(variable), problem }, at));
      ok = false;
    } else env[variable] = v as string;
  }
  return ok ? env : undefined;
}

/** The command as a user reads it in reports: words, quoted when needed. */
function display(argv: readonly string[]): string {
  return argv
    .map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : JSON.stringify(w)))
    .join(" ")
    .replace(/[\u0000-\u001f\u007f]/g, "?");
}
