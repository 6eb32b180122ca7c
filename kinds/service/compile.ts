import { createHash } from "node:crypto";
import { diagnostic, show, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { isResource } from "../../model/resource.js";
import { checkPath, checkPrincipal, wellFormed } from "../checks.js";
import { splitArgv } from "../command/compile.js";
import type { At, KindDefinition } from "../kind.js";

/** systemd's unit name characters (unit-name.c: VALID_CHARS plus '@'); we also require a sane first character. */
const UNIT_BASE = /^[A-Za-z0-9_][A-Za-z0-9:_.\\@-]*$/;
const UNIT_TYPES = ["service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice", "scope"];
const UNIT_REF = new RegExp(`^[A-Za-z0-9_][A-Za-z0-9:_.\\\\@-]*\\.(${UNIT_TYPES.join("|")})$`);
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECTION = /^(Unit|Service|Install|X-[A-Za-z0-9-]+)$/;
const SETTING = /^[A-Za-z][A-Za-z0-9]*$/;
const RESTART = ["no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"];
const TYPES = ["simple", "exec", "forking", "oneshot", "dbus", "notify", "idle"];
const TYPED_FIELDS = ["description", "execStart", "type", "user", "group", "environment", "workingDirectory", "restart", "wants", "wantedBy", "extra", "afterUnits"];
/** Settings the typed fields write: not accepted in `extra`. */
const TYPED_SETTINGS: Record<string, Record<string, string>> = {
  Unit: { Description: "description", After: "after", Wants: "wants" },
  Service: { Type: "type", ExecStart: "execStart", User: "user", Group: "group", Environment: "environment", WorkingDirectory: "workingDirectory", Restart: "restart" },
  Install: { WantedBy: "wantedBy" },
};
const INSTALL_KEYS = /^\s*(WantedBy|RequiredBy|UpheldBy|Alias)\s*=\s*\S/;

/** The first line of every unit depc writes from typed fields. */
export const UNIT_HEADER = "# Written by depc from the deployment model: edits here are overwritten by the next run.";

export const serviceKind: KindDefinition = {
  kind: "service",
  folder: "service",
  // Its unit's name ("web.service"), not a path: a Command named "web.service" is something else.
  claims: "systemd-unit",
  container: false,
  runtime: {
    file: "service.sh",
    calls: [{ fn: "depc_service", params: ["owe", "name", "sha256", "contentfn", "enabled", "running", "reload"] }],
  },
  reacts: true,
  references: { user: "user", group: "group" },
  // Stopped before the resources run: its successor may need its port.
  remove: { fn: "depc_service_remove", params: ["name"], early: true },
  diagnostics: [
    "invalidServiceName",
    "serviceNeedsUnit",
    "serviceUnitAndTyped",
    "serviceUnitContent",
    "serviceNotInstallable",
    "serviceExecStart",
    "serviceFieldValue",
    "serviceUnitRef",
    "serviceEnvironment",
    "serviceExtraSection",
    "serviceExtraKey",
    "serviceOption",
  ],
  check(model, report) {
    const { props, site } = model;
    const unit = unitName(props.name, site, report);
    if (unit === undefined) return undefined;
    const name = JSON.stringify(unit);
    let ok = true;
    const fail = (d: Diagnostic) => {
      report(d);
      ok = false;
    };
    const flag = (field: string, fallback: boolean): boolean => {
      const value = props[field];
      if (value === undefined) return fallback;
      if (typeof value === "boolean") return value;
      fail(diagnostic("serviceOption", { name, field, expected: "true or false", value: show(value) }, site));
      return fallback;
    };
    const enabled = flag("enabled", true);
    const running = flag("running", true);
    const reload = flag("reload", false);

    let content: string | undefined;
    if (props.unit !== undefined) {
      const typed = TYPED_FIELDS.filter((f) => props[f] !== undefined && !(f === "afterUnits" && (props[f] as unknown[]).length === 0));
      if (typed.length > 0) {
        fail(diagnostic("serviceUnitAndTyped", { name, fields: typed.map((f) => (f === "afterUnits" ? "unit names in after" : f)).join(", ") }, site));
      }
      content = checkUnitContent(name, props.unit, enabled, site, fail);
    } else if (props.execStart !== undefined) {
      content = renderUnit(unit, name, props, enabled, site, fail);
    } else {
      fail(diagnostic("serviceNeedsUnit", { name }, site));
    }
    if (!ok || content === undefined) return undefined;
    const bytes = new TextEncoder().encode(content);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    return {
      model,
      key: unit,
      notifiedBy: props.whenChanged as readonly unknown[] | undefined,
      lowered: {
        call: "depc_service",
        args: {
          owe: `service:${unit}`,
          name: unit,
          sha256,
          contentfn: { content: bytes },
          enabled: enabled ? "1" : "0",
          running: running ? "1" : "0",
          reload: reload ? "1" : "0",
        },
      },
      // Stopped before the resources run: its successor may need its port.
      removal: { claim: `/etc/systemd/system/${unit}`, args: { name: unit } },
    };
  },
};

/** `web` and `web.service` name the same unit: `web.service`. */
function unitName(value: unknown, at: At, report: (d: Diagnostic) => void): string | undefined {
  const problem = (text: string) => {
    report(diagnostic("invalidServiceName", { name: show(value), problem: text }, at));
    return undefined;
  };
  if (typeof value !== "string" || value === "" || value === ".service") return problem('it must be a unit name like "web" or "web.service"');
  const base = value.endsWith(".service") ? value.slice(0, -".service".length) : value;
  const suffix = /\.([a-z]+)$/.exec(base)?.[1];
  if (suffix !== undefined && UNIT_TYPES.includes(suffix)) return problem(`it names a .${suffix} unit; Service manages .service units`);
  if (!UNIT_BASE.test(base)) {
    return problem("it may only contain letters, digits and : _ . \\ @ - (starting with a letter, digit or _)");
  }
  const at_ = base.indexOf("@");
  if (at_ >= 0 && (at_ === base.length - 1 || base.indexOf("@", at_ + 1) >= 0)) {
    return problem('a template unit cannot run by itself: name an instance, such as "web@1"');
  }
  const unit = `${base}.service`;
  if (unit.length > 255) return problem("it is longer than systemd's 255 characters");
  return unit;
}

/** The unit file given whole: text that systemd can read, installable when it must be enabled. */
function checkUnitContent(name: string, value: unknown, enabled: boolean, at: At, fail: (d: Diagnostic) => void): string | undefined {
  const problem = (text: string) => {
    fail(diagnostic("serviceUnitContent", { name, problem: text }, at));
    return undefined;
  };
  if (typeof value !== "string") return problem(`must be the unit file's text, not ${show(value)}`);
  if (value.trim() === "") return problem("is empty");
  if (!wellFormed(value)) return problem("contains a lone UTF-16 surrogate: it is not valid Unicode and cannot be written as UTF-8");
  if (value.includes("\0")) return problem("contains a NUL character");
  if (enabled) {
    let section = "";
    let installable = false;
    for (const line of value.split("\n")) {
      const header = /^\s*\[([^\]]*)\]\s*$/.exec(line);
      if (header) section = header[1]!;
      else if (section === "Install" && INSTALL_KEYS.test(line)) installable = true;
    }
    if (!installable) {
      fail(diagnostic("serviceNotInstallable", { name, what: "its unit has no [Install] section with WantedBy=, RequiredBy=, UpheldBy= or Alias=", fix: "add one (WantedBy=multi-user.target)" }, at));
      return undefined;
    }
  }
  return value;
}

/**
 * What makes a value unusable on one line of a unit file; undefined when it
 * is fine. A value written inside quotes may end with a backslash (it is
 * escaped there); elsewhere systemd would read it as a line continuation.
 */
function lineProblem(value: string, quoted = false): string | undefined {
  if (!wellFormed(value)) return "contains a lone UTF-16 surrogate (not valid Unicode)";
  const control = /[\u0000-\u001f\u007f]/.exec(value);
  if (control) {
    const char = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    return control[0] === "\n" ? "contains a newline: a unit file setting is one line" : `contains a control character (${char})`;
  }
  if (!quoted && value.endsWith("\\")) return "ends with a backslash, which systemd reads as a line continuation";
  return undefined;
}

/** `%` starts a systemd specifier (`%n`, `%h`): `%%` is a literal `%`. */
const specifierSafe = (value: string) => value.replace(/%/g, "%%");

/**
 * One `ExecStart=` word, per systemd.service(5) "Command lines": `%%` for
 * `%`, `$$` for `$` (no variable expansion), double quotes with `\\` and
 * `\"` escapes when the word holds anything else than plain characters
 * (blanks, quotes, backslashes, a lone `;`, or nothing at all).
 */
export function execWord(word: string): string {
  const escaped = specifierSafe(word).replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_+=:,./@%$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** One `Environment=` assignment, quoted whole: C escapes and specifiers apply inside. */
export function environmentLine(variable: string, value: string): string {
  return `Environment="${specifierSafe(`${variable}=${value}`).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The unit file written from typed fields (data checked first; every problem reported). */
function renderUnit(unit: string, name: string, props: Record<string, unknown>, enabled: boolean, at: At, fail: (d: Diagnostic) => void): string | undefined {
  let ok = true;
  const bad = (d: Diagnostic) => {
    fail(d);
    ok = false;
  };
  const text = (field: string, value: unknown): string | undefined => {
    if (typeof value !== "string") {
      bad(diagnostic("serviceFieldValue", { name, field, value: show(value), problem: "must be a string" }, at));
      return undefined;
    }
    const problem = lineProblem(value);
    if (problem !== undefined) {
      bad(diagnostic("serviceFieldValue", { name, field, value: show(value), problem }, at));
      return undefined;
    }
    return value;
  };
  const oneOf = (field: string, value: unknown, allowed: readonly string[], fallback: string): string => {
    if (value === undefined) return fallback;
    if (typeof value === "string" && allowed.includes(value)) return value;
    bad(diagnostic("serviceOption", { name, field, expected: `one of ${allowed.join(", ")}`, value: show(value) }, at));
    return fallback;
  };
  const units = (field: string, value: unknown): string[] => {
    const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
    const out: string[] = [];
    for (const item of list) {
      const ref = isResource(item) && item.kind === "service" ? serviceUnitOf(item.props) : item;
      if (typeof ref !== "string" || !UNIT_REF.test(ref) || ref.length > 255) {
        bad(diagnostic("serviceUnitRef", { name, field, value: isResource(item) ? `service ${show((item.props as { name?: unknown }).name)}` : show(ref) }, at));
      } else if (!out.includes(ref)) out.push(ref);
    }
    return out;
  };

  const description = props.description === undefined ? unit : text("description", props.description);
  const exec = splitArgv(props.execStart);
  let argv: string[] | undefined;
  if ("problem" in exec) bad(diagnostic("serviceExecStart", { name, problem: exec.problem }, at));
  else {
    const program = exec.argv[0]!;
    const word = exec.argv.map((w) => [w, lineProblem(w, true)] as const).find(([, p]) => p !== undefined);
    if (/^[@:+!]/.test(program)) {
      bad(diagnostic("serviceExecStart", { name, problem: `starts with '${program[0]}' (${JSON.stringify(program)}), which systemd reads as a prefix, not a program` }, at));
    } else if (program.includes("/") && !program.startsWith("/")) {
      bad(diagnostic("serviceExecStart", { name, problem: `runs ${JSON.stringify(program)}: systemd needs an absolute path or a bare program name` }, at));
    } else if (word !== undefined) {
      bad(diagnostic("serviceExecStart", { name, problem: `has an argument that ${word[1]!} (${show(word[0])})` }, at));
    } else argv = exec.argv;
  }
  const type = oneOf("type", props.type, TYPES, "exec");
  const restart = oneOf("restart", props.restart, RESTART, "on-failure");
  const user = checkPrincipal("service", name, "user" as "owner", props.user, at, bad);
  const group = checkPrincipal("service", name, "group", props.group, at, bad);
  let workingDirectory: string | undefined;
  if (props.workingDirectory !== undefined) {
    const raw = text("workingDirectory", props.workingDirectory);
    if (raw !== undefined) workingDirectory = checkPath("service workingDirectory", raw, at, bad);
    if (workingDirectory !== undefined && workingDirectory !== workingDirectory.trimEnd()) {
      bad(diagnostic("serviceFieldValue", { name, field: "workingDirectory", value: show(workingDirectory), problem: "ends with a blank, which systemd strips" }, at));
    }
  }
  const environment: string[] = [];
  if (props.environment !== undefined) {
    const env = props.environment;
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      bad(diagnostic("serviceOption", { name, field: "environment", expected: "an object of variable names to strings", value: show(env) }, at));
    } else {
      for (const variable of Object.keys(env).sort()) {
        const value = (env as Record<string, unknown>)[variable];
        const problem = !VARIABLE.test(variable)
          ? "is not a valid name"
          : typeof value !== "string"
            ? `must be a string, not ${show(value)}`
            : lineProblem(value, true);
        if (problem !== undefined) bad(diagnostic("serviceEnvironment", { name, variable: JSON.stringify(variable), problem }, at));
        else environment.push(environmentLine(variable, value as string));
      }
    }
  }
  const after = units("after", props.afterUnits);
  const wants = units("wants", props.wants);
  const wantedBy = props.wantedBy === undefined ? ["multi-user.target"] : units("wantedBy", props.wantedBy);
  const extra = extraSections(name, props.extra, at, bad);
  if (!ok || description === undefined || argv === undefined || user === false || group === false || extra === undefined) return undefined;

  const installable = wantedBy.length > 0 || (extra.get("Install") ?? []).some((line) => INSTALL_KEYS.test(line));
  if (enabled && !installable) {
    fail(diagnostic("serviceNotInstallable", { name, what: "wantedBy is empty", fix: 'name a target in wantedBy (such as "multi-user.target")' }, at));
    return undefined;
  }

  const section = (title: string, lines: readonly string[]) => [`[${title}]`, ...lines, ...(extra.get(title) ?? [])];
  const out: string[][] = [
    [UNIT_HEADER, ...section("Unit", [`Description=${specifierSafe(description)}`, ...(after.length > 0 ? [`After=${after.join(" ")}`] : []), ...(wants.length > 0 ? [`Wants=${wants.join(" ")}`] : [])])],
    section("Service", [
      `Type=${type}`,
      `ExecStart=${argv.map(execWord).join(" ")}`,
      ...(user !== undefined ? [`User=${user}`] : []),
      ...(group !== undefined ? [`Group=${group}`] : []),
      ...(workingDirectory !== undefined ? [`WorkingDirectory=${specifierSafe(workingDirectory)}`] : []),
      ...environment,
      `Restart=${restart}`,
    ]),
  ];
  if (wantedBy.length > 0 || extra.has("Install")) out.push(section("Install", wantedBy.length > 0 ? [`WantedBy=${wantedBy.join(" ")}`] : []));
  for (const title of [...extra.keys()].filter((t) => t.startsWith("X-"))) out.push(section(title, []));
  return `${out.map((lines) => lines.join("\n")).join("\n\n")}\n`;
}

/** The unit name of a Service's props (for `after`/`wants` references), or undefined. */
function serviceUnitOf(props: unknown): string | undefined {
  const value = (props as { name?: unknown }).name;
  if (typeof value !== "string") return undefined;
  return value.endsWith(".service") ? value : `${value}.service`;
}

/** `extra`'s lines per section, in the order given; undefined after a problem (reported). */
function extraSections(name: string, value: unknown, at: At, fail: (d: Diagnostic) => void): Map<string, string[]> | undefined {
  const sections = new Map<string, string[]>();
  if (value === undefined) return sections;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(diagnostic("serviceOption", { name, field: "extra", expected: "an object of sections", value: show(value) }, at));
    return undefined;
  }
  let ok = true;
  for (const [title, settings] of Object.entries(value as Record<string, unknown>)) {
    if (!SECTION.test(title)) {
      fail(diagnostic("serviceExtraSection", { name, section: JSON.stringify(title) }, at));
      ok = false;
      continue;
    }
    if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
      fail(diagnostic("serviceOption", { name, field: `extra.${title}`, expected: "an object of settings", value: show(settings) }, at));
      ok = false;
      continue;
    }
    const lines: string[] = [];
    for (const [key, v] of Object.entries(settings as Record<string, unknown>)) {
      const setting = `${title}.${key}`;
      const problem = (text: string) => {
        fail(diagnostic("serviceExtraKey", { name, setting, problem: text }, at));
        ok = false;
      };
      if (!SETTING.test(key)) {
        problem("is not a setting name (letters and digits, starting with a letter)");
        continue;
      }
      const typed = TYPED_SETTINGS[title]?.[key];
      if (typed !== undefined) {
        problem(`is written by the typed field \`${typed}\`; use that`);
        continue;
      }
      const values = Array.isArray(v) ? v : [v];
      for (const item of values) {
        const line =
          typeof item === "boolean" ? (item ? "yes" : "no") : typeof item === "number" && Number.isFinite(item) ? String(item) : typeof item === "string" ? item : undefined;
        const why = line === undefined ? `has the value ${show(item)}: give a string, a number, a boolean or a list of strings and numbers` : lineProblem(line);
        if (why !== undefined) {
          problem(line === undefined ? why : `value ${show(line)} ${why}`);
          break;
        }
        lines.push(`${key}=${line}`);
      }
    }
    sections.set(title, [...(sections.get(title) ?? []), ...lines]);
  }
  return ok ? sections : undefined;
}
