/**
 * Test helper: build bundles in exactly the shape the compiler's emitter
 * produces (see runtime-sh/README.md, "The bundle"), from a list of
 * hand-written resources. The runtime functions are split and tree-shaken
 * with the same rules the compiler uses, so these tests also check that the
 * runtime files keep the shape the compiler relies on.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { INCOMPLETE_GUARD } from "../../compiler/emit/bundle.js";

export const RUNTIME_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "runtime-sh");

export interface RuntimeFunction {
  readonly name: string;
  readonly file: string;
  /** Comment lines directly above, the definition line, the body and the closing `}`. */
  readonly text: string;
  /** `depc_*` words in the body (candidate calls). */
  readonly words: ReadonlySet<string>;
}

/**
 * Split every runtime-sh/*.sh file into functions: a function starts at a line
 * `name() {` at column 0 and ends at the next line that is exactly `}`;
 * comment lines directly above belong to it. Throws on anything else outside
 * a function (blank lines and comments are allowed).
 */
export function runtimeFunctions(dir: string = RUNTIME_DIR): Map<string, RuntimeFunction> {
  const functions = new Map<string, RuntimeFunction>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sh")).sort()) {
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    let comments: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? "";
      const start = /^([A-Za-z_][A-Za-z0-9_]*)\(\) \{$/.exec(line);
      if (start) {
        const name = start[1] ?? "";
        const body: string[] = [];
        let j = i + 1;
        for (; j < lines.length && lines[j] !== "}"; j++) body.push(lines[j] ?? "");
        if (j >= lines.length) throw new Error(`${file}:${i + 1}: function ${name} has no closing '}' line`);
        if (functions.has(name)) throw new Error(`${file}:${i + 1}: function ${name} is defined twice`);
        const words = new Set(body.join("\n").match(/depc_[a-z0-9_]+/g) ?? []);
        functions.set(name, { name, file, text: [...comments, line, ...body, "}"].join("\n"), words });
        comments = [];
        i = j;
      } else if (line.startsWith("#")) {
        comments.push(line);
      } else if (line.trim() === "") {
        comments = [];
      } else {
        throw new Error(`${file}:${i + 1}: top-level code outside a function: ${line}`);
      }
    }
  }
  return functions;
}

/** The runtime functions reachable from `roots`, in runtime file order. */
export function treeShake(roots: Iterable<string>, functions = runtimeFunctions()): RuntimeFunction[] {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    const fn = functions.get(name);
    if (fn === undefined || seen.has(name)) continue;
    seen.add(name);
    for (const w of fn.words) if (!seen.has(w)) queue.push(w);
  }
  return [...functions.values()].filter((f) => seen.has(f.name));
}

export interface FileResource {
  readonly kind: "file";
  readonly path: string;
  readonly content: string | Uint8Array;
  /** 4-digit octal like `0644`; '' = unmanaged. @default '0644' */
  readonly mode?: string;
  readonly owner?: string;
  readonly group?: string;
}

export interface DirectoryResource {
  readonly kind: "directory";
  readonly path: string;
  /** @default '0755' */
  readonly mode?: string;
  readonly owner?: string;
  readonly group?: string;
}

export interface SymlinkResource {
  readonly kind: "symlink";
  readonly path: string;
  readonly target: string;
}

/**
 * A future resource kind, not in the expect table: `body` becomes the
 * function `depc_custom_N` (shell text written by the test).
 */
export interface CustomResource {
  readonly kind: "custom";
  readonly key: string;
  readonly body: string;
}

export type Resource = FileResource | DirectoryResource | SymlinkResource | CustomResource;

export interface BundleSpec {
  readonly env?: string;
  readonly host?: string;
  readonly resources: readonly Resource[];
  /** Extra shell text (helper functions for custom resources), placed before `depc_main "$@"`. */
  readonly extra?: string;
  /** Runtime functions to carry in addition to those the resources use. */
  readonly extraRoots?: readonly string[];
}

/** Single-quote a string for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function tableMode(mode: string): string {
  if (mode === "") return "-";
  return String(Number.parseInt(mode, 8).toString(8));
}

/** Text that can travel in a quoted heredoc: valid UTF-8, no controls but \n and \t. */
function heredocText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) return undefined;
  return text;
}

function delimiterFor(text: string): string {
  const lines = new Set(text.split("\n"));
  let delim = "DEPC_EOF";
  for (let n = 2; lines.has(delim); n++) delim = `DEPC_EOF_${n}`;
  return delim;
}

/** printf format text for bytes: printable ASCII literal, `%%`, `\\`, the rest `\ooo`. */
function printfChunks(bytes: Uint8Array, maxChunk = 32 * 1024): string[] {
  const chunks: string[] = [];
  let cur = "";
  for (const b of bytes) {
    let piece: string;
    if (b === 0x25) piece = "%%";
    else if (b === 0x5c) piece = "\\\\";
    else if (b >= 0x20 && b < 0x7f && b !== 0x27) piece = String.fromCharCode(b);
    else piece = `\\${b.toString(8).padStart(3, "0")}`;
    if (cur.length + piece.length > maxChunk) {
      chunks.push(cur);
      cur = "";
    }
    cur += piece;
  }
  if (cur !== "") chunks.push(cur);
  return chunks;
}

function contentFunction(name: string, bytes: Uint8Array): string {
  if (bytes.length === 0) return `${name}() { :; }`;
  const text = heredocText(bytes);
  if (text !== undefined) {
    const delim = delimiterFor(text);
    if (text.endsWith("\n")) return `${name}() {\n  cat <<'${delim}'\n${text}${delim}\n}`;
    return `${name}() {\n  depc_text_nonl <<'${delim}'\n${text}\n${delim}\n}`;
  }
  const lines = printfChunks(bytes).map((c) => `  printf '${c}'`);
  return `${name}() {\n${lines.join("\n")}\n}`;
}

function toBytes(content: string | Uint8Array): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : content;
}

/** Build a bundle in the compiler's format. */
export function buildBundle(spec: BundleSpec): string {
  const env = spec.env ?? "test";
  const host = spec.host ?? "host1";
  const expect: string[] = [];
  const statPaths: string[] = [];
  const shaPaths: string[] = [];
  const steps: string[] = [];
  const contents: string[] = [];
  const extra: string[] = [];
  const roots = new Set<string>(["depc_main", "depc_step"]);
  spec.resources.forEach((r, i) => {
    const n = i + 1;
    if (r.kind === "file") {
      const bytes = toBytes(r.content);
      const mode = r.mode ?? "0644";
      const digest = sha256(bytes);
      expect.push([n, "f", r.path, tableMode(mode), r.owner || "-", r.group || "-", digest].join("\t"));
      statPaths.push(r.path);
      shaPaths.push(r.path);
      steps.push(`  # [${n}] file ${r.path} (test.ts:${n}:1)`);
      steps.push(
        `  depc_step ${n} file ${shq(r.path)} depc_file ${shq(r.path)} ${shq(mode)} ${shq(r.owner ?? "")} ${shq(r.group ?? "")} ${shq(digest)} depc_content_${n}`,
      );
      contents.push(contentFunction(`depc_content_${n}`, bytes));
      roots.add("depc_file");
      if (contents.at(-1)?.includes("depc_text_nonl")) roots.add("depc_text_nonl");
    } else if (r.kind === "directory") {
      const mode = r.mode ?? "0755";
      expect.push([n, "d", r.path, tableMode(mode), r.owner || "-", r.group || "-", "-"].join("\t"));
      statPaths.push(r.path);
      steps.push(`  # [${n}] directory ${r.path} (test.ts:${n}:1)`);
      steps.push(
        `  depc_step ${n} directory ${shq(r.path)} depc_directory ${shq(r.path)} ${shq(mode)} ${shq(r.owner ?? "")} ${shq(r.group ?? "")}`,
      );
      roots.add("depc_directory");
    } else if (r.kind === "symlink") {
      expect.push([n, "l", r.path, "-", "-", "-", "-"].join("\t"));
      statPaths.push(r.path);
      steps.push(`  # [${n}] symlink ${r.path} (test.ts:${n}:1)`);
      steps.push(`  depc_step ${n} symlink ${shq(r.path)} depc_symlink ${shq(r.path)} ${shq(r.target)}`);
      roots.add("depc_symlink");
    } else {
      steps.push(`  # [${n}] custom ${r.key} (test.ts:${n}:1)`);
      steps.push(`  depc_step ${n} custom ${shq(r.key)} depc_custom_${n}`);
      extra.push(`depc_custom_${n}() {\n${r.body}\n}`);
      for (const w of r.body.match(/depc_[a-z0-9_]+/g) ?? []) roots.add(w);
    }
  });
  for (const w of spec.extra?.match(/depc_[a-z0-9_]+/g) ?? []) roots.add(w);
  for (const w of spec.extraRoots ?? []) roots.add(w);
  const facts: string[] = [];
  for (let i = 0; i < statPaths.length; i += 256) {
    facts.push(`  depc_fact_stat ${statPaths.slice(i, i + 256).map(shq).join(" ")}`);
  }
  for (let i = 0; i < shaPaths.length; i += 256) {
    facts.push(`  depc_fact_sha256 ${shaPaths.slice(i, i + 256).map(shq).join(" ")}`);
  }
  if (statPaths.length > 0) roots.add("depc_fact_stat");
  if (shaPaths.length > 0) roots.add("depc_fact_sha256");
  const runtime = treeShake(roots).map((f) => f.text);
  return [
    "#!/bin/sh",
    INCOMPLETE_GUARD,
    // SC2016: data is single-quoted on purpose; SC2317: resource and content
    // functions are called indirectly (depc_step runs "$@").
    "# shellcheck shell=sh disable=SC2016,SC2317",
    `# depc bundle for host "${host}" in environment "${env}"`,
    "# built by test/runtime/bundle.ts",
    "{",
    "trap - EXIT",
    `DEPC_ENV=${shq(env)}`,
    `DEPC_HOST=${shq(host)}`,
    "DEPC_VERSION='0.1.0'",
    `DEPC_SOURCES='sha256:${"0".repeat(64)}'`,
    `DEPC_COUNT=${spec.resources.length}`,
    "",
    runtime.join("\n\n"),
    "",
    "depc_expect() {",
    "  cat <<'DEPC_EOF'",
    ...expect,
    "DEPC_EOF",
    "}",
    "depc_notifies() {",
    "  :",
    "}",
    "depc_facts() {",
    ...(facts.length > 0 ? facts : ["  :"]),
    "}",
    "depc_resources() {",
    ...(steps.length > 0 ? steps : ["  :"]),
    "}",
    ...contents,
    ...extra,
    ...(spec.extra !== undefined ? [spec.extra] : []),
    'depc_main "$@"',
    "}",
    "",
  ].join("\n");
}
