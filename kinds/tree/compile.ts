import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, type Stats } from "node:fs";
import { join } from "node:path";
import { diagnostic, show } from "../../compiler/diagnostics/diagnostic.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { isDirectorySource } from "../../model/from-directory.js";
import { checkPath, checkPrincipal } from "../checks.js";
import type { Argument, At, KindDefinition } from "../kind.js";

/** The most bytes of file content one Tree may put into a bundle (each file also obeys the per-content limit). */
export const MAX_TREE_BYTES = 32 * 1024 * 1024;

/** One entry of the source, by its path relative to the source (`.` for the top). */
interface Entry {
  readonly rel: string;
  readonly type: "d" | "f";
  readonly mode: "0755" | "0644";
  readonly bytes?: Uint8Array;
}

export const treeKind: KindDefinition = {
  kind: "tree",
  folder: "tree",
  claims: "path",
  // Everything below it is the Tree's: it removes what the source lacks.
  container: false,
  runtime: { file: "tree.sh", calls: [{ fn: "depc_tree", params: ["path", "owner", "group", "manifest", "contents..."] }] },
  reacts: false,
  remove: { fn: "depc_tree_remove", params: ["path"], ifNew: true },
  diagnostics: [
    "treeSourceInvalid",
    "treeSourceMissing",
    "treeSourceNotDirectory",
    "treeUnreadable",
    "treeSpecialFile",
    "treeSymlink",
    "treeTooLarge",
    "treeBadName",
    "treeExcludeInvalid",
  ],
  check(model, report) {
    const { props, site } = model;
    const path = checkPath("tree", props.path, site, report);
    if (path === undefined) return undefined;
    const shown = JSON.stringify(path);
    const owner = checkPrincipal("tree", shown, "owner", props.owner, site, report);
    const group = checkPrincipal("tree", shown, "group", props.group, site, report);
    const exclude = excludePatterns(props.exclude, shown, site, report);
    if (!isDirectorySource(props.source)) {
      report(diagnostic("treeSourceInvalid", { path: shown, found: show(props.source) }, site));
      return undefined;
    }
    if (owner === false || group === false || exclude === undefined) return undefined;
    const entries = walk(props.source.path, props.source.given, exclude.map((e) => new RegExp(e)), shown, site, report);
    if (entries === undefined) return undefined;
    const files = entries.filter((e) => e.type === "f");
    const size = files.reduce((n, e) => n + e.bytes!.length, 0);
    if (size > MAX_TREE_BYTES) {
      const args = { path: shown, size: String(size), count: String(files.length), max: String(MAX_TREE_BYTES), maxMiB: String(MAX_TREE_BYTES / 1024 / 1024) };
      report(diagnostic("treeTooLarge", args, site));
      return undefined;
    }
    // The manifest: exclusions, then every entry sorted (parents first), files' digests.
    const lines = [
      ...exclude.map((re) => `x\t${re}`),
      ...entries.map((e) => `${e.type}\t${e.mode}\t${e.bytes === undefined ? "-" : createHash("sha256").update(e.bytes).digest("hex")}\t${e.rel}`),
    ];
    const contents: Argument[] = files.map((e) => ({ content: e.bytes!, builtin: true }));
    return {
      model,
      key: path,
      lowered: {
        call: "depc_tree",
        args: {
          path,
          owner: owner ?? "",
          group: group ?? "",
          manifest: { content: new TextEncoder().encode(`${lines.join("\n")}\n`), builtin: true },
          contents,
        },
      },
      removal: { claim: path, args: { path } },
    };
  },
};

/** The exclude option as EREs (for awk on the host and RegExp here), or undefined after a report. */
function excludePatterns(value: unknown, shown: string, site: At, report: (d: Diagnostic) => void): string[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    report(diagnostic("treeExcludeInvalid", { path: shown, found: show(value) }, site));
    return undefined;
  }
  const out: string[] = [];
  for (const p of value) {
    if (typeof p !== "string" || p.replace(/^\/+|\/+$/g, "") === "" || /[\u0000-\u001f\u007f]/.test(p)) {
      report(diagnostic("treeExcludeInvalid", { path: shown, found: show(p) }, site));
      return undefined;
    }
    out.push(globToEre(p));
  }
  return out;
}

/**
 * A glob as an ERE over a relative path: `*` and `?` within a name, `**`
 * across directories; without `/` it matches a name at any depth, with `/`
 * from the top; either way what it matches takes everything below along.
 * Only constructs that JavaScript, gawk, mawk and busybox awk read alike.
 */
export function globToEre(glob: string): string {
  const pattern = glob.replace(/^\/+|\/+$/g, "");
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        re += "(.*/)?";
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" || c === "^") re += `\\${c}`;
    else if (".$+(){}|[]".includes(c)) re += `[${c}]`;
    else re += c;
  }
  return glob.includes("/") ? `^${re}(/|$)` : `(^|/)${re}(/|$)`;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The source's entries, sorted, without times or owners (reproducible); undefined after a report. */
function walk(root: string, given: string, exclude: readonly RegExp[], shown: string, site: At, report: (d: Diagnostic) => void): Entry[] | undefined {
  let top: Stats;
  try {
    top = lstatSync(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") report(diagnostic("treeSourceMissing", { path: shown, dir: JSON.stringify(root), given: JSON.stringify(given) }, site));
    else report(diagnostic("treeUnreadable", { path: shown, file: JSON.stringify(root), reason: reasonOf(error) }, site));
    return undefined;
  }
  if (!top.isDirectory()) {
    report(diagnostic("treeSourceNotDirectory", { path: shown, dir: JSON.stringify(root) }, site));
    return undefined;
  }
  const entries: Entry[] = [{ rel: ".", type: "d", mode: "0755" }];
  let ok = true;
  const visit = (dir: string, prefix: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort(byteOrder);
    } catch (error) {
      report(diagnostic("treeUnreadable", { path: shown, file: JSON.stringify(dir), reason: reasonOf(error) }, site));
      ok = false;
      return;
    }
    for (const name of names) {
      const rel = prefix === "" ? name : `${prefix}/${name}`;
      const full = join(dir, name);
      if (exclude.some((re) => re.test(rel))) continue;
      const control = /[\u0000-\u001f\u007f]/.exec(name);
      if (control !== null) {
        const char = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
        report(diagnostic("treeBadName", { path: shown, file: show(full), char }, site));
        ok = false;
        continue;
      }
      const st = lstatSync(full);
      if (st.isSymbolicLink()) {
        report(diagnostic("treeSymlink", { path: shown, file: JSON.stringify(full) }, site));
        ok = false;
      } else if (st.isDirectory()) {
        entries.push({ rel, type: "d", mode: "0755" });
        visit(full, rel);
      } else if (st.isFile()) {
        try {
          entries.push({ rel, type: "f", mode: (st.mode & 0o111) !== 0 ? "0755" : "0644", bytes: new Uint8Array(readFileSync(full)) });
        } catch (error) {
          report(diagnostic("treeUnreadable", { path: shown, file: JSON.stringify(full), reason: reasonOf(error) }, site));
          ok = false;
        }
      } else {
        const type = st.isFIFO() ? "named pipe" : st.isSocket() ? "socket" : st.isCharacterDevice() ? "character device" : "block device";
        report(diagnostic("treeSpecialFile", { path: shown, file: JSON.stringify(full), type }, site));
        ok = false;
      }
    }
  };
  visit(root, "");
  // Parents first in byte order of the whole relative path ("a" < "a-b" < "a/b" does not hold: '-' < '/'), so sort by path segments.
  return ok ? entries.sort((a, b) => (a.rel === "." ? -1 : b.rel === "." ? 1 : segmentOrder(a.rel, b.rel))) : undefined;
}

function segmentOrder(a: string, b: string): number {
  const x = a.split("/");
  const y = b.split("/");
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = byteOrder(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

function reasonOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e.code === "EACCES") return "permission denied";
  if (e.code === "ENOENT") return "no such file";
  return e.message;
}
