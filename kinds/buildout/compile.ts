import { createHash } from "node:crypto";
import { isResource } from "../../model/resource.js";
import { diagnostic, show } from "../../compiler/diagnostics/diagnostic.js";
import { checkPath, wellFormed } from "../checks.js";
import type { Argument, KindDefinition } from "../kind.js";
import { checkProgram, virtualenvKind } from "../virtualenv/compile.js";

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const RESERVED = new Set(["buildout.cfg", ".depc-buildout", ".installed.cfg"]);

/**
 * Buildout: lowered to
 * `depc_buildout OWE DIR EXECUTABLE OFFLINE TIMEOUT NOTIFIED DIGEST FILES...`
 * (buildout.sh), FILES being NAME SHA256 CONTENTFN per file, buildout.cfg first, then the extra files by name.
 * Its key is DIR/buildout.cfg: the directory itself is usually declared as a
 * Directory, which the buildout then follows.
 */
export const buildoutKind: KindDefinition = {
  kind: "buildout",
  folder: "buildout",
  // DIR/buildout.cfg.
  claims: "path",
  container: false,
  runtime: {
    file: "buildout.sh",
    calls: [{ fn: "depc_buildout", params: ["owe", "dir", "executable", "offline", "timeout", "notified", "digest", "files..."] }],
  },
  reacts: true,
  remove: { fn: "depc_buildout_remove", params: ["dir"] },
  diagnostics: ["buildoutConfig", "buildoutExtraFile", "buildoutExecutable", "buildoutTimeout"],
  check(model, report) {
    const { props, site } = model;
    const dir = checkPath("Buildout", props.directory, site, report);
    if (dir === undefined) return undefined;
    const shown = JSON.stringify(dir);
    let ok = true;
    const files: [string, string][] = [];
    if (typeof props.config !== "string") {
      report(diagnostic("buildoutConfig", { path: shown }, site));
      ok = false;
    } else if (!wellFormed(props.config)) {
      report(diagnostic("notWellFormed", { what: `Buildout ${shown}: buildout.cfg`, value: "(not shown)" }, site));
      ok = false;
    } else files.push(["buildout.cfg", props.config]);
    const extra = (props.extraFiles ?? {}) as Record<string, unknown>;
    for (const name of Object.keys(extra).sort()) {
      const content = extra[name];
      const problem = !FILE_NAME.test(name)
        ? "must be a plain file name ([A-Za-z0-9_][A-Za-z0-9._-]*)"
        : RESERVED.has(name)
          ? `is reserved: ${name === "buildout.cfg" ? "give buildout.cfg as config" : "depc or buildout writes it"}`
          : typeof content !== "string"
            ? `needs its content as a string, not ${show(content)}`
            : !wellFormed(content)
              ? "contains a lone UTF-16 surrogate"
              : undefined;
      if (problem !== undefined) {
        report(diagnostic("buildoutExtraFile", { path: shown, name: JSON.stringify(name), problem }, site));
        ok = false;
      } else files.push([name, content as string]);
    }

    const venv = isResource(props.executable) && props.executable.kind === virtualenvKind.kind ? props.executable : undefined;
    let executable: string | undefined;
    if (venv !== undefined) {
      const base = (venv.props as { path?: unknown }).path;
      executable = typeof base === "string" ? checkProgram(`${base}/bin/buildout`, site) : undefined;
      // An invalid venv path is reported by the VirtualEnv itself.
      if (executable === undefined) ok = false;
    } else {
      executable = props.executable === undefined ? "buildout" : checkProgram(props.executable, site);
      if (executable === undefined) {
        report(diagnostic("buildoutExecutable", { path: shown, value: isResource(props.executable) ? `a ${props.executable.kind}` : show(props.executable) }, site));
        ok = false;
      }
    }
    const timeout = props.timeout;
    if (timeout !== undefined && !(Number.isInteger(timeout) && (timeout as number) > 0)) {
      report(diagnostic("buildoutTimeout", { path: shown, value: show(timeout) }, site));
      ok = false;
    }
    if (!ok || executable === undefined) return undefined;

    const offline = props.offline === true;
    const key = `${dir}/buildout.cfg`;
    const contents: Argument[] = [];
    const shas: [string, string][] = [];
    for (const [name, text] of files) {
      const bytes = new TextEncoder().encode(text);
      const sha = createHash("sha256").update(bytes).digest("hex");
      shas.push([name, sha]);
      contents.push(name, sha, { content: bytes });
    }
    const digest = createHash("sha256").update(JSON.stringify({ files: shas, executable, offline })).digest("hex");
    const whenChanged = (props.whenChanged as readonly unknown[] | undefined) ?? [];
    const notifiedBy = venv === undefined ? whenChanged : [venv, ...whenChanged];
    return {
      model,
      key,
      notifiedBy: notifiedBy.length === 0 ? undefined : notifiedBy,
      lowered: {
        call: "depc_buildout",
        args: {
          owe: `buildout:${key}`,
          dir,
          executable,
          offline: offline ? "1" : "0",
          timeout: timeout === undefined ? "" : String(timeout),
          notified: notifiedBy.length === 0 ? "0" : "1",
          digest: `sha256:${digest}`,
          files: contents,
        },
      },
      // The directory: a Directory that stays in the model keeps it.
      removal: { claim: dir, args: { dir } },
    };
  },
};
