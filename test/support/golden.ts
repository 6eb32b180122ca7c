import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createTwoFilesPatch } from "diff";
import { runtimeFunctions, selectRuntime, type RuntimeFunction } from "../../compiler/emit/runtime.js";
import { repoRoot } from "./project.js";

/** `UPDATE_SNAPSHOTS=1 npm test` rewrites golden files; review them with `git diff`. */
export const updating = process.env.UPDATE_SNAPSHOTS === "1";

export const goldenRoot = join(repoRoot, "test", "golden");

/** Every example environment: `examples/<name>/env/<env>.ts`. */
export function exampleEnvironments(): { example: string; env: string; path: string }[] {
  const out: { example: string; env: string; path: string }[] = [];
  for (const example of readdirSync(join(repoRoot, "examples")).sort()) {
    const envDir = join(repoRoot, "examples", example, "env");
    if (!existsSync(envDir)) continue;
    for (const file of readdirSync(envDir).sort()) {
      if (file.endsWith(".ts")) out.push({ example, env: file.slice(0, -3), path: `examples/${example}/env/${file}` });
    }
  }
  return out;
}

/**
 * Compares `actual` with the committed golden file (or writes it when
 * updating). A mismatch fails with a unified diff of the two.
 */
export function matchGolden(relativePath: string, actual: string): void {
  const file = join(goldenRoot, relativePath);
  if (updating) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden file ${relativePath} is missing: run UPDATE_SNAPSHOTS=1 npm test and review it`);
  const expected = readFileSync(file, "utf8");
  if (expected !== actual) {
    const patch = createTwoFilesPatch(`golden/${relativePath}`, "built", expected, actual, "", "", { context: 3 });
    throw new Error(`${relativePath} differs from its golden file (UPDATE_SNAPSHOTS=1 to accept after review):\n${patch}`);
  }
}

// ---- golden bundles without their runtime (see test/golden/README.md) ----

/** The golden file that holds, once, every runtime function some golden bundle carries. */
export const RUNTIME_GOLDEN = "runtime.sh";

const BEGIN = "#@golden runtime functions, kept once in test/golden/runtime.sh:";
const END = "#@golden end";

/**
 * A bundle split into its own text, with the runtime section replaced by the
 * list of the runtime functions it carries (one name a line), and those
 * functions. Throws when the runtime section is not where the emitter puts
 * it: the functions' text, in runtime order, exactly once.
 */
export function splitBundle(text: string, all: readonly RuntimeFunction[] = runtimeFunctions()): { skeleton: string; functions: RuntimeFunction[] } {
  const byName = new Map(all.map((f) => [f.name, f]));
  const defined = new Set([...text.matchAll(/^([a-z_][a-z0-9_]*)\(\)/gm)].map((m) => m[1]!).filter((n) => byName.has(n)));
  const functions = all.filter((f) => defined.has(f.name));
  const section = selectRuntime(defined, all);
  const at = text.indexOf(section);
  if (functions.length === 0 || at === -1 || text.indexOf(section, at + 1) !== -1) throw new Error("the bundle's runtime section is not one contiguous block of runtime functions");
  const list = [BEGIN, ...functions.map((f) => `#@ ${f.name}`), END].join("\n");
  return { skeleton: text.slice(0, at) + list + text.slice(at + section.length), functions };
}

/** The whole bundle again: the skeleton's list replaced by the functions' text from the runtime golden. */
export function joinBundle(skeleton: string, runtime: ReadonlyMap<string, string>): string {
  const begin = skeleton.indexOf(`${BEGIN}\n`);
  const end = skeleton.indexOf(END, begin);
  if (begin === -1 || end === -1) throw new Error("golden bundle without its runtime list");
  const names = skeleton.slice(begin + BEGIN.length + 1, end).split("\n").filter((l) => l !== "").map((l) => l.replace(/^#@ /, ""));
  const texts = names.map((n) => {
    const t = runtime.get(n);
    if (t === undefined) throw new Error(`golden bundle needs ${n}, which is not in test/golden/${RUNTIME_GOLDEN}`);
    return t;
  });
  return skeleton.slice(0, begin) + texts.join("\n\n") + skeleton.slice(end + END.length);
}

/** The runtime golden: each function under a line with its name and the sha256 of its text. */
export function renderRuntimeGolden(functions: readonly RuntimeFunction[]): string {
  const head = [
    "# shellcheck shell=sh",
    "# Golden copy of the runtime functions that the golden bundles carry, each once (test/golden/README.md).",
    "# Each one is preceded by a line \"#@@ NAME sha256:DIGEST\" (DIGEST of its text, comments included).",
  ];
  const parts = functions.map((f) => `#@@ ${f.name} sha256:${createHash("sha256").update(f.text).digest("hex")}\n${f.text}`);
  return `${[head.join("\n"), ...parts].join("\n\n")}\n`;
}

/** Function texts by name from the runtime golden's text. */
export function parseRuntimeGolden(text: string): Map<string, string> {
  const functions = new Map<string, string>();
  for (const part of text.split(/^#@@ /m).slice(1)) {
    const newline = part.indexOf("\n");
    const name = part.slice(0, newline).split(" ")[0]!;
    functions.set(name, part.slice(newline + 1).replace(/\n+$/, ""));
  }
  return functions;
}

/** A golden file's committed text, or undefined. */
export function readGolden(relativePath: string): string | undefined {
  const file = join(goldenRoot, relativePath);
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}
