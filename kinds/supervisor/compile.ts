import { createHash } from "node:crypto";
import { splitArgv } from "../command/compile.js";
import { diagnostic, show, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { isResource } from "../../model/resource.js";
import { checkPath } from "../checks.js";
import type { At, KindDefinition } from "../kind.js";

/*
 * Supervisor and Program. What supervisord makes of a config value decides
 * the quoting here (supervisor 4, options.py / datatypes.py / process.py):
 *
 * - Config files are read by Python's configparser with inline comments on:
 *   a `;` or `#` preceded by whitespace ends the value, whatever quotes say.
 *   Values are stripped of leading and trailing whitespace; a line break
 *   ends a value (or continues it, on an indented line).
 * - Every value is then expanded with Python's `%` formatting (`%(here)s`),
 *   `environment` too: a literal `%` must be written `%%`. But first the
 *   text `%(here)s` is replaced everywhere, `%%(here)s` included, so that
 *   text must never appear: values holding `(here)s` are rejected, and in
 *   a command an empty `''` is put between `%` and `(here)s`.
 * - `command` is split with `shlex.split` (POSIX rules: '…', "…", `\x`).
 *   We single-quote words, write `'` as `'\''`, and `;`/`#` as `'\;'`/`'\#'`
 *   (a backslash, never whitespace, precedes them), `%` as `%%`.
 * - `environment` is split by a non-POSIX `shlex.shlex`: quotes are kept,
 *   then every leading and trailing quote character is stripped, and there
 *   are no escapes. So a value is double-quoted (single-quoted when it holds
 *   `"`); it may not hold both, nor start or end with a quote, nor hold
 *   whitespace followed by `;` or `#`.
 */

const PROGRAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OPTION_KEY = /^[a-z_][a-z0-9_]*$/;
/** Characters a path may have to be used unquoted in `files =` and `serverurl =` lines. */
const PLAIN_PATH = /^[A-Za-z0-9_@+=:,./-]+$/;
/** Control characters but tab (configparser and shlex keep a tab inside a value). */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;
const COMMENT_CUT = /\s[;#]/;
/** Fields of ProgramOptions that `options` may not set, and keys depc relies on. */
const RESERVED = new Set(["command", "directory", "environment", "user", "autostart", "stopasgroup", "killasgroup", "startsecs", "process_name", "numprocs", "numprocs_start"]);
/** Seconds depc waits for RUNNING beyond startsecs. */
const WAIT_MARGIN = 15;
/** sun_path holds 108 bytes including the terminating NUL. */
const SOCKET_MAX = 107;

interface SupervisorTarget {
  /** The resource key: the user flavour's base, the system flavour's confDir. */
  readonly key: string;
  readonly confDir: string;
  /** supervisord's main config, given to every `supervisorctl -c`. */
  readonly config: string;
  readonly supervisord: string;
  readonly supervisorctl: string;
  /** User flavour: where program logs go. */
  readonly logDir?: string;
}

/** Resolves a Supervisor resource's options; reports problems when `report` is given. */
function supervisorTarget(props: Readonly<Record<string, unknown>>, at: At, report: (d: Diagnostic) => void): SupervisorTarget | undefined {
  let ok = true;
  const fail = (d: Diagnostic) => {
    report(d);
    ok = false;
  };
  const bin = props.bin === undefined ? undefined : checkPath("supervisor bin", props.bin, at, fail);
  const tool = (name: string) => (bin === undefined ? name : `${bin}/${name}`);
  if (props.flavour === "system") {
    const config = props.config === undefined ? "/etc/supervisor/supervisord.conf" : checkPath("supervisor config", props.config, at, fail);
    const confDir = props.confDir === undefined ? "/etc/supervisor/conf.d" : checkPath("supervisor confDir", props.confDir, at, fail);
    if (confDir !== undefined) plainPath("Supervisor: confDir", confDir, at, fail);
    if (!ok || config === undefined || confDir === undefined) return undefined;
    return { key: confDir, confDir, config, supervisord: tool("supervisord"), supervisorctl: tool("supervisorctl") };
  }
  if (props.flavour === "user") {
    const base = checkPath("supervisor base", props.base, at, fail);
    if (base !== undefined) {
      plainPath("Supervisor: base", base, at, fail);
      const socket = `${base}/supervisor.sock`;
      const length = new TextEncoder().encode(socket).length;
      if (length > SOCKET_MAX) fail(diagnostic("supervisorSocketTooLong", { socket: JSON.stringify(socket), length, max: SOCKET_MAX }, at));
    }
    if (!ok || base === undefined) return undefined;
    return {
      key: base,
      confDir: `${base}/conf.d`,
      config: `${base}/supervisord.conf`,
      supervisord: tool("supervisord"),
      supervisorctl: tool("supervisorctl"),
      logDir: `${base}/logs`,
    };
  }
  report(diagnostic("invalidSupervisorFlavour", { value: show(props.flavour) }, at));
  return undefined;
}

function plainPath(what: string, path: string, at: At, report: (d: Diagnostic) => void): void {
  if (!PLAIN_PATH.test(path)) {
    report(diagnostic("unrepresentableSupervisorValue", { what, value: JSON.stringify(path), problem: "has characters other than letters, digits and _@+=:,./- (depc writes it into space-separated lists and URLs)" }, at));
  }
}

/** The config of a deployment-owned supervisord; every path derives from `base`. */
function userConfig(base: string): string {
  return [
    `; supervisord of ${base}, written by depc`,
    "[unix_http_server]",
    `file = ${base}/supervisor.sock`,
    "chmod = 0700",
    "",
    "[supervisord]",
    `logfile = ${base}/logs/supervisord.log`,
    `pidfile = ${base}/supervisord.pid`,
    `childlogdir = ${base}/logs`,
    `directory = ${base}`,
    "",
    "[rpcinterface:supervisor]",
    "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
    "",
    "[supervisorctl]",
    `serverurl = unix://${base}/supervisor.sock`,
    "",
    "[include]",
    `files = ${base}/conf.d/*.conf`,
    "",
  ]
    .join("\n")
    .replace(/%/g, "%%");
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export const supervisorKind: KindDefinition = {
  kind: "supervisor",
  folder: "supervisor",
  // The user flavour's base, the system flavour's confDir: its programs' configs live below it.
  claims: "path",
  container: true,
  runtime: {
    file: "supervisor.sh",
    calls: [
      { fn: "depc_supervisor_system", params: ["ctl", "conf"] },
      { fn: "depc_supervisor_user", params: ["base", "supervisord", "ctl", "sha256", "contentfn"] },
    ],
  },
  reacts: false,
  // The user flavour only: the system's supervisord is not depc's.
  remove: { fn: "depc_supervisor_user_remove", params: ["base", "ctl"] },
  diagnostics: ["invalidSupervisorFlavour", "supervisorSocketTooLong", "unrepresentableSupervisorValue"],
  check(model, report) {
    const target = supervisorTarget(model.props, model.site, report);
    if (target === undefined) return undefined;
    if (model.props.flavour === "system") {
      return {
        model,
        key: target.key,
        lowered: { call: "depc_supervisor_system", args: { ctl: target.supervisorctl, conf: target.config } },
        // The system's supervisord is not depc's: nothing to remove.
        removal: {},
      };
    }
    const content = new TextEncoder().encode(userConfig(target.key));
    return {
      model,
      key: target.key,
      lowered: {
        call: "depc_supervisor_user",
        args: { base: target.key, supervisord: target.supervisord, ctl: target.supervisorctl, sha256: sha256(content), contentfn: { content } },
      },
      removal: { claim: target.key, args: { base: target.key, ctl: target.supervisorctl } },
    };
  },
};

export const programKind: KindDefinition = {
  kind: "program",
  folder: "supervisor",
  // Its config file, <confDir>/<name>.conf: a program name per supervisord, and a path no File may claim too.
  claims: "path",
  container: false,
  runtime: {
    file: "supervisor.sh",
    calls: [{ fn: "depc_supervisor_program", params: ["owe", "name", "confpath", "sha256", "contentfn", "ctl", "conf", "autostart", "wait", "cold"] }],
  },
  reacts: true,
  references: { user: "user" },
  // cold: true, stopped before what it depends on changes (compiler/emit/evade.ts).
  evade: { fn: "depc_supervisor_program_evade", params: ["owe", "name", "ctl", "conf"] },
  // Stopped before the resources run, so that a renamed program can take over its port.
  remove: { fn: "depc_supervisor_program_remove", params: ["name", "confpath", "ctl", "conf"], early: true },
  diagnostics: [
    "invalidProgramName",
    "programWithoutSupervisor",
    "invalidProgramCommand",
    "invalidProgramEnvironment",
    "invalidProgramOption",
    "invalidProgramStartsecs",
    "invalidProgramFlag",
    "unrepresentableSupervisorValue",
  ],
  check(model, report) {
    const { props, site } = model;
    const name = props.name;
    if (typeof name !== "string" || !PROGRAM_NAME.test(name)) {
      report(diagnostic("invalidProgramName", { name: show(name) }, site));
      return undefined;
    }
    const shown = JSON.stringify(name);
    let ok = true;
    const fail = (d: Diagnostic) => {
      report(d);
      ok = false;
    };
    let target: SupervisorTarget | undefined;
    if (isResource(props.supervisor) && props.supervisor.kind === "supervisor") {
      // Its own problems are reported at its own declaration.
      target = supervisorTarget(props.supervisor.props as Readonly<Record<string, unknown>>, site, () => {});
      if (target === undefined) ok = false;
    } else {
      fail(diagnostic("programWithoutSupervisor", { name: shown, found: isResource(props.supervisor) ? `a ${props.supervisor.kind} resource` : show(props.supervisor) }, site));
    }
    const command = commandLine(shown, props.command, site, fail);
    const lines: [string, string][] = [];
    if (command !== undefined) lines.push(["command", command]);
    if (props.directory !== undefined) {
      const directory = checkPath("program directory", props.directory, site, fail);
      if (directory !== undefined) {
        const value = supervisorValue(`Program ${shown}: directory`, directory, site, fail);
        if (value !== undefined) lines.push(["directory", value]);
      }
    }
    const environment = environmentLine(shown, props.environment, site, fail);
    if (environment !== undefined && environment !== "") lines.push(["environment", environment]);
    if (props.user !== undefined) {
      const user = props.user;
      if ((typeof user === "number" && Number.isInteger(user) && user >= 0) || (typeof user === "string" && /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(user) && user.length <= 64)) {
        lines.push(["user", String(user)]);
      } else fail(diagnostic("invalidPrincipal", { kind: "Program", path: shown, field: "user", value: show(user) }, site));
    }
    const autostart = flag(shown, "autostart", props.autostart, true, site, fail);
    const stopasgroup = flag(shown, "stopasgroup", props.stopasgroup, false, site, fail);
    const cold = flag(shown, "cold", props.cold, false, site, fail);
    lines.push(["autostart", String(autostart)], ["stopasgroup", String(stopasgroup)], ["killasgroup", String(stopasgroup)]);
    const startsecs = props.startsecs === undefined ? 1 : props.startsecs;
    if (typeof startsecs !== "number" || !Number.isInteger(startsecs) || startsecs < 0 || startsecs > 3600) {
      fail(diagnostic("invalidProgramStartsecs", { name: shown, value: show(props.startsecs) }, site));
    } else lines.push(["startsecs", String(startsecs)]);
    const options = optionLines(shown, props.options, site, fail);
    if (!ok || target === undefined || command === undefined || options === undefined) return undefined;
    const given = new Set(options.map(([k]) => k));
    if (!given.has("redirect_stderr")) lines.push(["redirect_stderr", "true"]);
    if (target.logDir !== undefined && !given.has("stdout_logfile")) lines.push(["stdout_logfile", `${target.logDir}/${name}.log`.replace(/%/g, "%%")]);
    lines.push(...options);
    const text = [`; written by depc`, `[program:${name}]`, ...lines.map(([k, v]) => `${k} = ${v}`), ""].join("\n");
    const content = new TextEncoder().encode(text);
    const confPath = `${target.confDir}/${name}.conf`;
    const whenChanged = props.whenChanged as readonly unknown[] | undefined;
    return {
      model,
      key: confPath,
      notifiedBy: whenChanged,
      lowered: {
        call: "depc_supervisor_program",
        args: {
          owe: `program:${confPath}`,
          name,
          confpath: confPath,
          sha256: sha256(content),
          contentfn: { content },
          ctl: target.supervisorctl,
          conf: target.config,
          autostart: autostart ? "1" : "0",
          wait: String((startsecs as number) + WAIT_MARGIN),
          // '' when hot; a required parameter, so that later ones can follow it.
          cold: cold ? coldKey(confPath) : "",
        },
      },
      evasion: cold ? { owe: coldKey(confPath), args: { name, ctl: target.supervisorctl, conf: target.config } } : undefined,
      // Stopped before the resources run, so that a renamed program can take over its port.
      removal: { claim: confPath, args: { name, confpath: confPath, ctl: target.supervisorctl, conf: target.config } },
    };
  },
};

/** The owed start of a cold program that was stopped (runtime/evade.sh); a program's reaction key is `program:CONFPATH`. */
const coldKey = (confPath: string) => `program-cold:${confPath}`;

function flag(name: string, field: string, value: unknown, fallback: boolean, at: At, report: (d: Diagnostic) => void): boolean {
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  report(diagnostic("invalidProgramFlag", { name, field, value: show(value) }, at));
  return fallback;
}

/** A value written as it is (after `%` doubling): it must survive configparser unchanged. */
function supervisorValue(what: string, value: string, at: At, report: (d: Diagnostic) => void): string | undefined {
  const problem = valueProblem(value);
  if (problem !== undefined) {
    report(diagnostic("unrepresentableSupervisorValue", { what, value: JSON.stringify(value), problem }, at));
    return undefined;
  }
  return value.replace(/%/g, "%%");
}

function controlProblem(value: string): string | undefined {
  const control = CONTROL.exec(value);
  if (control) return `contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}, which a supervisor config cannot hold`;
  // Replaced textually by supervisor before `%%` is read (options.py expand_here).
  if (value.includes("(here)s")) return "contains (here)s, which supervisor replaces by a directory even after %%";
  return undefined;
}

function valueProblem(value: string): string | undefined {
  const control = controlProblem(value);
  if (control) return control;
  if (value !== value.trim()) return "starts or ends with whitespace, which supervisor strips";
  if (COMMENT_CUT.test(value)) return "has whitespace followed by ';' or '#', which starts a comment in a supervisor config";
  return undefined;
}

/** The `command =` value: argv words quoted for supervisor's shlex.split. */
function commandLine(name: string, value: unknown, at: At, report: (d: Diagnostic) => void): string | undefined {
  const problem = (text: string) => {
    report(diagnostic("invalidProgramCommand", { name, problem: text }, at));
    return undefined;
  };
  const split = splitArgv(value, { runner: "supervisord", envField: "environment" });
  if ("problem" in split) return problem(split.problem);
  const argv = split.argv;
  const words = argv as string[];
  for (const w of words) {
    const control = CONTROL.exec(w);
    if (control) {
      const char = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
      return problem(`has the argument ${JSON.stringify(w)} with the control character ${char}, which a supervisor config cannot hold`);
    }
  }
  return words.map(commandWord).join(" ");
}

/** One argv word for supervisor's `command =` (see the notes at the top). */
export function commandWord(word: string): string {
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(word)) return word;
  let out = "'";
  for (const ch of word) {
    if (ch === "'") out += "'\\''";
    else if (ch === ";" || ch === "#") out += `'\\${ch}'`;
    else if (ch === "%") out += "%%";
    else out += ch;
  }
  // supervisor replaces the text %(here)s before any other parsing, even
  // after a %: an empty '' (shlex joins it away) keeps it from appearing.
  return `${out}'`.replace(/%\(here\)s/g, "%''(here)s");
}

function environmentLine(name: string, value: unknown, at: At, report: (d: Diagnostic) => void): string | undefined {
  if (value === undefined) return "";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    report(diagnostic("invalidProgramEnvironment", { name, variable: "(all)", problem: "must be an object of strings" }, at));
    return undefined;
  }
  const pairs: string[] = [];
  let ok = true;
  for (const [variable, v] of Object.entries(value as Record<string, unknown>)) {
    const problem = !VARIABLE.test(variable)
      ? "is not a valid name"
      : typeof v !== "string"
        ? "must be a string"
        : (controlProblem(v) ??
          (COMMENT_CUT.test(v)
            ? "has whitespace followed by ';' or '#', which starts a comment in a supervisor config"
            : v.includes('"') && v.includes("'")
            ? "holds both ' and \", which supervisor cannot read back"
            : /^['"]|['"]$/.test(v)
              ? "starts or ends with a quote, which supervisor strips"
              : undefined));
    if (problem !== undefined) {
      report(diagnostic("invalidProgramEnvironment", { name, variable: JSON.stringify(variable), problem }, at));
      ok = false;
      continue;
    }
    const text = (v as string).replace(/%/g, "%%");
    pairs.push(`${variable}=${text.includes('"') ? `'${text}'` : `"${text}"`}`);
  }
  return ok ? pairs.join(",") : undefined;
}

function optionLines(name: string, value: unknown, at: At, report: (d: Diagnostic) => void): [string, string][] | undefined {
  if (value === undefined) return [];
  const lines: [string, string][] = [];
  let ok = true;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const problem = !OPTION_KEY.test(key)
      ? "is not a supervisor option name (lowercase letters, digits and _)"
      : RESERVED.has(key)
        ? "is set by depc or by a field of Program; use that field"
        : typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))
          ? undefined
          : typeof v !== "string"
            ? "must be a string, a number or a boolean"
            : v === ""
              ? "must not be empty"
              : valueProblem(v);
    if (problem !== undefined) {
      report(diagnostic("invalidProgramOption", { name, option: JSON.stringify(key), problem }, at));
      ok = false;
    } else lines.push([key, String(v).replace(/%/g, "%%")]);
  }
  return ok ? lines : undefined;
}
