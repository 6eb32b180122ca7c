/**
 * The documented parameters of runtime functions: the first comment line
 * above a function that starts with its name, `# depc_x A B [C] D...:`
 * (words up to a `:`, the end of the line or a word that is not a
 * parameter). `[C]` is optional, `D...`
 * takes one or more words, `[D...]` any number. The checks compare these
 * with what the compiler passes: today an argument count (from the
 * lowering), later the named parameters of the kinds' typed definitions
 * (`parameterProblems` takes a list of names).
 */
import type { RuntimeFunction } from "./bundle.js";

export interface Parameter {
  /** As documented, without brackets and dots: `PATH`, `enable|disable`. */
  readonly name: string;
  readonly optional: boolean;
  readonly repeated: boolean;
}

export interface Signature {
  readonly function: string;
  readonly parameters: readonly Parameter[];
  /** The header line, for messages. */
  readonly line: string;
}

const WORD = /^(\[)?([A-Z][A-Z0-9_]*|[a-z]+(?:\|[a-z]+)+|\.\.\.)(\.\.\.)?(\])?$/;

/** The signature documented above `fn`, or undefined when it has no header line. */
export function documentedSignature(fn: Pick<RuntimeFunction, "name" | "text">): Signature | undefined {
  const comments = fn.text.split("\n").filter((l) => l.startsWith("#"));
  const line = comments.find((l) => l === `# ${fn.name}` || l.startsWith(`# ${fn.name} `) || l.startsWith(`# ${fn.name}:`));
  if (line === undefined) return undefined;
  const rest = line.slice(`# ${fn.name}`.length);
  const colon = rest.indexOf(":");
  const words = (colon === -1 ? rest : rest.slice(0, colon)).trim().split(/\s+/).filter((w) => w !== "");
  const parameters: Parameter[] = [];
  for (const word of words) {
    const m = WORD.exec(word);
    // Prose after the parameters ("# depc_warn MESSAGE / depc_err MESSAGE:") ends them.
    if (m === null || (m[1] === undefined) !== (m[4] === undefined)) break;
    parameters.push({ name: m[2]!, optional: m[1] !== undefined, repeated: m[3] !== undefined });
  }
  return { function: fn.name, parameters, line };
}

/** How many words a call may pass: [min, max]. */
export function arityRange(signature: Signature): readonly [number, number] {
  const min = signature.parameters.filter((p) => !p.optional).length;
  const max = signature.parameters.some((p) => p.repeated) ? Number.POSITIVE_INFINITY : signature.parameters.length;
  return [min, max];
}

/** Problems of a call of `fn` with `count` arguments (empty when the documentation allows it). */
export function arityProblems(fn: Pick<RuntimeFunction, "name" | "text">, count: number): string[] {
  const signature = documentedSignature(fn);
  if (signature === undefined) return [`${fn.name} is called with ${count} arguments but has no "# ${fn.name} PARAM...:" header comment`];
  const [min, max] = arityRange(signature);
  if (count >= min && count <= max) return [];
  const allowed = max === Number.POSITIVE_INFINITY ? `${min} or more` : min === max ? `${min}` : `${min} to ${max}`;
  return [`${fn.name} is called with ${count} arguments; its header documents ${allowed}: ${signature.line}`];
}

/**
 * Problems of `fn`'s documentation against the parameter names a definition
 * gives (in order; optional and repeated ones as documented, `[SALT]` is `SALT`).
 */
export function parameterProblems(fn: Pick<RuntimeFunction, "name" | "text">, names: readonly string[]): string[] {
  const signature = documentedSignature(fn);
  if (signature === undefined) return [`${fn.name} has no "# ${fn.name} ${names.join(" ")}:" header comment`];
  const documented = signature.parameters.map((p) => p.name);
  return documented.join(" ") === names.join(" ") ? [] : [`${fn.name} documents ${documented.join(" ") || "no parameters"}, the definition has ${names.join(" ") || "none"}: ${signature.line}`];
}

/**
 * Whether a mention like `depc_file PATH MODE ... CONTENTFN` (words after the
 * name, brackets allowed) names the documented parameters in order; trailing
 * optional ones may be left out, or given without brackets.
 */
export function mentionMatches(signature: Signature, words: readonly string[]): boolean {
  const plain = words.map((w) => w.replace(/^\[|\]$/g, "").replace(/\.\.\.$/, "").replace(/^\[|\]$/g, ""));
  const names = signature.parameters.map((p) => p.name);
  if (plain.length > names.length) return false;
  if (plain.some((w, i) => w !== names[i])) return false;
  return signature.parameters.slice(plain.length).every((p) => p.optional);
}
