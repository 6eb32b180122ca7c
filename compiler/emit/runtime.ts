import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kinds } from "../../kinds/registry.js";
import { packageRoot } from "../package-info.js";

/** A shell function of the runtime (`runtime/`, `kinds/<kind>/`), with the comment lines directly above it. */
export interface RuntimeFunction {
  readonly name: string;
  readonly text: string;
  /** Other runtime functions it calls. */
  readonly calls: readonly string[];
}

const START = /^([a-z_][a-z0-9_]*)\(\) *\{/;

/**
 * Splits runtime files into functions: a function starts at `name() {` in
 * column 0 and ends at the next line that is exactly `}` (or on the same
 * line for one-liners). Anything else at top level is not allowed: runtime
 * files define functions only, so that a bundle can carry just the ones it
 * uses (esbuild-style tree shaking of runtime helpers).
 */
export function parseRuntime(files: ReadonlyArray<{ name: string; text: string }>): RuntimeFunction[] {
  const functions: { name: string; text: string }[] = [];
  for (const file of files) {
    const lines = file.text.split("\n");
    let comments: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const start = START.exec(line);
      if (start) {
        const body = [line];
        if (!/\}\s*$/.test(line) || /\{\s*$/.test(line)) {
          while (++i < lines.length && lines[i] !== "}") body.push(lines[i]!);
          if (i >= lines.length) throw new Error(`depc: ${file.name}: function ${start[1]} has no closing '}' line`);
          body.push("}");
        }
        functions.push({ name: start[1]!, text: [...comments, ...body].join("\n") });
        comments = [];
      } else if (line.startsWith("#")) {
        comments.push(line);
      } else if (line.trim() === "") {
        comments = [];
      } else {
        throw new Error(`depc: ${file.name}:${i + 1}: top-level code is not allowed in the runtime: ${line}`);
      }
    }
  }
  const names = new Set(functions.map((f) => f.name));
  return functions.map((f) => ({
    ...f,
    calls: [...new Set(f.text.match(/\bdepc_[a-z0-9_]+/g) ?? [])].filter((n) => n !== f.name && names.has(n)),
  }));
}

let loaded: RuntimeFunction[] | undefined;

/**
 * The runtime's files, package-relative: the core (`runtime/*.sh`) and each
 * registered kind's own file, in order of their file names (so a bundle's
 * functions keep one order wherever a file lives).
 */
export function runtimeFiles(): string[] {
  const core = readdirSync(join(packageRoot, "runtime"))
    .filter((n) => n.endsWith(".sh"))
    .map((n) => `runtime/${n}`);
  const own = kinds.map((k) => `kinds/${k.folder}/${k.runtime.file}`);
  const base = (path: string) => path.slice(path.lastIndexOf("/") + 1);
  return [...new Set([...core, ...own])].sort((a, b) => (base(a) < base(b) ? -1 : base(a) > base(b) ? 1 : 0));
}

/** The runtime of this depc installation. */
export function runtimeFunctions(): RuntimeFunction[] {
  loaded ??= parseRuntime(runtimeFiles().map((name) => ({ name, text: readFileSync(join(packageRoot, name), "utf8") })));
  return loaded;
}

/** The text of the functions reachable from `roots`, in runtime order. */
export function selectRuntime(roots: Iterable<string>, all: readonly RuntimeFunction[] = runtimeFunctions()): string {
  // Hosts of one environment mostly use the same functions: 1,000 bundles, a few selections.
  const key = [...roots].sort().join(" ");
  let memo = selections.get(all);
  if (memo === undefined) selections.set(all, (memo = new Map()));
  let text = memo.get(key);
  if (text === undefined) memo.set(key, (text = selectFrom(key.split(" "), all)));
  return text;
}

const selections = new WeakMap<readonly RuntimeFunction[], Map<string, string>>();

function selectFrom(roots: Iterable<string>, all: readonly RuntimeFunction[]): string {
  const byName = new Map(all.map((f) => [f.name, f]));
  const wanted = new Set<string>();
  const visit = (name: string) => {
    if (wanted.has(name)) return;
    const fn = byName.get(name);
    if (fn === undefined) throw new Error(`depc: runtime function ${name} does not exist in runtime/ or a kind's .sh file`);
    wanted.add(name);
    fn.calls.forEach(visit);
  };
  for (const root of roots) visit(root);
  return all
    .filter((f) => wanted.has(f.name))
    .map((f) => f.text)
    .join("\n\n");
}
