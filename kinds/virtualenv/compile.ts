import { createHash } from "node:crypto";
import { diagnostic, show, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { checkPath, wellFormed } from "../checks.js";
import type { At, KindDefinition } from "../kind.js";

/** A program on the host: a name looked up on PATH, or an absolute path (checked with checkPath). */
export const PROGRAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;

/**
 * VirtualEnv: lowered to `depc_virtualenv PATH PYTHON SYSTEM DIGEST REQFN PIPOPT...`
 * (virtualenv.sh). DIGEST identifies what pip is asked to do (the
 * requirements text and the options); the runtime adds the interpreter's
 * identity, which only the host knows.
 */
export const virtualenvKind: KindDefinition = {
  kind: "virtualenv",
  folder: "virtualenv",
  claims: "path",
  container: true,
  runtime: { file: "virtualenv.sh", calls: [{ fn: "depc_virtualenv", params: ["path", "python", "system", "digest", "reqfn", "pipopt..."] }] },
  reacts: false,
  remove: { fn: "depc_virtualenv_remove", params: ["path"] },
  diagnostics: ["virtualenvPython", "virtualenvNotAList", "virtualenvRequirement", "virtualenvPipOption"],
  check(model, report) {
    const { props, site } = model;
    const path = checkPath("VirtualEnv", props.path, site, report);
    if (path === undefined) return undefined;
    const shown = JSON.stringify(path);
    let ok = true;
    const fail = (d: Diagnostic) => {
      report(d);
      ok = false;
    };
    const python = props.python === undefined ? "python3" : checkProgram(props.python, site);
    if (python === undefined) fail(diagnostic("virtualenvPython", { path: shown, value: show(props.python) }, site));
    const requirements = stringList(shown, "requirements", props.requirements, site, fail, (index, problem) =>
      fail(diagnostic("virtualenvRequirement", { path: shown, index: String(index), problem }, site)),
    );
    const pipOptions = stringList(shown, "pipOptions", props.pipOptions, site, fail, (index, problem) =>
      fail(diagnostic("virtualenvPipOption", { path: shown, index: String(index), problem }, site)),
    );
    if (!ok || python === undefined || requirements === undefined || pipOptions === undefined) return undefined;
    const text = requirements.map((r) => (r.endsWith("\n") ? r : `${r}\n`)).join("");
    const content = new TextEncoder().encode(text);
    const digest = createHash("sha256")
      .update(JSON.stringify({ requirements: text, pipOptions }))
      .digest("hex");
    return {
      model,
      key: path,
      lowered: {
        call: "depc_virtualenv",
        args: {
          path,
          python,
          system: props.systemSitePackages === true ? "1" : "0",
          digest: `sha256:${digest}`,
          reqfn: requirements.length === 0 ? "" : { content },
          pipopt: pipOptions,
        },
      },
      removal: { claim: path, args: { path } },
    };
  },
};

/** A program name (`python3`) or a normalized absolute path; undefined when neither. */
export function checkProgram(value: unknown, at: At): string | undefined {
  if (typeof value !== "string") return undefined;
  if (PROGRAM_NAME.test(value)) return value;
  if (!value.startsWith("/")) return undefined;
  let bad = false;
  const path = checkPath("program", value, at, () => (bad = true));
  return bad ? undefined : path;
}

function stringList(
  path: string,
  field: string,
  value: unknown,
  at: At,
  fail: (d: Diagnostic) => void,
  problem: (index: number, text: string) => void,
): string[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    fail(diagnostic("virtualenvNotAList", { path, field, found: show(value) }, at));
    return undefined;
  }
  let ok = true;
  value.forEach((item: unknown, index) => {
    const text =
      typeof item !== "string"
        ? `is ${show(item)}, not a string`
        : item.trim() === ""
          ? "is empty"
          : item.includes("\0")
            ? "contains a NUL character"
            : !wellFormed(item)
              ? "contains a lone UTF-16 surrogate"
              : field === "pipOptions" && /[\u0000-\u001f\u007f]/.test(item)
                ? "contains a control character"
                : undefined;
    if (text !== undefined) {
      problem(index, text);
      ok = false;
    }
  });
  return ok ? (value as string[]) : undefined;
}
