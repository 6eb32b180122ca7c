/**
 * Test helper: real bundles from a list of hand-written resources. Files,
 * directories and symlinks go through the compiler's own resource kinds
 * (validation, key, lowering) and its emitter (`emitBundle`), so the runtime
 * tests run exactly the bundles `depc build` writes. The runtime is split and
 * tree-shaken by the compiler's `parseRuntime` / `selectRuntime` too.
 *
 * A `custom` resource stands for a kind the compiler does not have: its body
 * becomes the shell function `depc_custom_N` that `depc_step` runs, carried
 * in the bundle's runtime section with any `extra` functions of the test.
 */
import { readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { emitBundle } from "../../compiler/emit/bundle.js";
import { shellQuote } from "../../compiler/emit/quote.js";
import { parseRuntime, selectRuntime, type RuntimeFunction as CompilerRuntimeFunction } from "../../compiler/emit/runtime.js";
import type { HostModel, ResourceModel } from "../../compiler/model.js";
import type { CheckedResource, KindDefinition } from "../../kinds/kind.js";
import { kindDefinition } from "../../kinds/registry.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Every runtime file: the core (runtime/*.sh) and each kind's (kinds/<kind>/*.sh), by file name. */
export const RUNTIME_FILES: readonly string[] = [
  ...readdirSync(join(REPO, "runtime"))
    .filter((f) => f.endsWith(".sh"))
    .map((f) => join(REPO, "runtime", f)),
  ...readdirSync(join(REPO, "kinds"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(REPO, "kinds", d.name))
        .filter((f) => f.endsWith(".sh"))
        .map((f) => join(REPO, "kinds", d.name, f)),
    ),
].sort((a, b) => (basename(a) < basename(b) ? -1 : basename(a) > basename(b) ? 1 : 0));

export interface RuntimeFunction {
  readonly name: string;
  readonly file: string;
  /** Comment lines directly above, the definition line, the body and the closing `}`. */
  readonly text: string;
  /** `depc_*` words in the body (candidate calls, and the variables it uses). */
  readonly words: ReadonlySet<string>;
  /** The other runtime functions it calls (what tree shaking follows). */
  readonly calls: readonly string[];
}

function runtimeFiles(files: readonly string[]): { name: string; text: string }[] {
  return files.map((path) => ({ name: basename(path), text: readFileSync(path, "utf8") }));
}

/**
 * Every function of the runtime files, split by the compiler's `parseRuntime`
 * (which throws on anything but functions and comments at top level).
 */
export function runtimeFunctions(paths: readonly string[] = RUNTIME_FILES): Map<string, RuntimeFunction> {
  const files = runtimeFiles(paths);
  const fileOf = new Map<string, string>();
  for (const file of files) for (const f of parseRuntime([file])) fileOf.set(f.name, file.name);
  const functions = new Map<string, RuntimeFunction>();
  for (const f of parseRuntime(files)) {
    if (functions.has(f.name)) throw new Error(`${fileOf.get(f.name)}: function ${f.name} is defined twice`);
    const lines = f.text.split("\n");
    const body = lines.slice(lines.findIndex((l) => l.startsWith(`${f.name}()`)) + 1).join("\n");
    const words = new Set(body.match(/depc_[a-z0-9_]+/g) ?? []);
    functions.set(f.name, { name: f.name, file: fileOf.get(f.name)!, text: f.text, words, calls: f.calls });
  }
  return functions;
}

/** The runtime functions reachable from `roots`, in runtime file order (unknown roots are ignored). */
export function treeShake(roots: Iterable<string>, functions = runtimeFunctions()): RuntimeFunction[] {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    const fn = functions.get(name);
    if (fn === undefined || seen.has(name)) continue;
    seen.add(name);
    for (const c of fn.calls) if (!seen.has(c)) queue.push(c);
  }
  return [...functions.values()].filter((f) => seen.has(f.name));
}

export interface FileResource {
  readonly kind: "file";
  readonly path: string;
  readonly content: string | Uint8Array;
  /** 4-digit octal like `0644`. @default '0644' (what the compiler chooses) */
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

/**
 * A resource of a test-only collected kind (KindDefinition.collect): the
 * resources with equal `group` (default "g") are one call of the test's own
 * shell function `depc_test_group KEY...` (in `extra`), which reports each
 * member's outcome by its ordinal (runtime/collect.sh).
 */
export interface CollectedResource {
  readonly kind: "collected";
  readonly key: string;
  readonly group?: string;
}

export type Resource = FileResource | DirectoryResource | SymlinkResource | CustomResource | CollectedResource;

export interface BundleSpec {
  readonly env?: string;
  readonly host?: string;
  readonly resources: readonly Resource[];
  /** Extra shell functions (helpers of custom resources), carried in the bundle's runtime section. */
  readonly extra?: string;
  /** Runtime functions to carry in addition to those the resources use. */
  readonly extraRoots?: readonly string[];
  /** The reactions (`kind:name`) a resource owes when it changes, by its position in `resources` (0-based). */
  readonly notifications?: Readonly<Record<number, readonly string[]>>;
}

/** Single-quote a string for sh: the compiler's own {@link shellQuote}. */
export const shq = shellQuote;

/** The stdlib's props for a test resource: '' owner/group = unmanaged = not given. */
function props(r: Exclude<Resource, CustomResource | CollectedResource>): Record<string, unknown> {
  const given = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  if (r.kind === "symlink") return { path: r.path, target: r.target };
  if (r.mode === "") throw new Error(`test bundle: ${r.kind} ${r.path}: the compiler never emits an unmanaged mode ('')`);
  const common = { path: r.path, mode: r.mode, owner: given(r.owner), group: given(r.group) };
  return r.kind === "file" ? { ...common, content: r.content } : common;
}

/** A test-only kind: one shell function written by the test, no arguments, no fact. */
function customKind(fn: string): KindDefinition {
  return {
    kind: "custom",
    folder: "",
    claims: "command",
    container: false,
    runtime: { file: "", calls: [{ fn, params: [] }] },
    reacts: false,
    diagnostics: [],
    check: () => undefined,
  };
}

/** The test-only collected kind of {@link CollectedResource}: grouped by `props.group`, one call of `depc_test_group KEY...`. */
export const collectedTestKind: KindDefinition = {
  kind: "collected",
  folder: "",
  claims: "command",
  container: false,
  runtime: { file: "", calls: [{ fn: "depc_test_group", params: ["keys..."] }] },
  reacts: false,
  // Per member, like every collected kind (the test writes the function, if it removes).
  remove: { fn: "depc_test_group_remove", params: ["key"] },
  diagnostics: [],
  check: () => undefined,
  collect: {
    by: (r) => String(r.model.props.group),
    lower: (members) => ({ call: "depc_test_group", args: { keys: members.map((m) => m.key) } }),
  },
};

/** Build a bundle with the compiler's emitter. Throws when the compiler would reject a resource. */
export function buildBundle(spec: BundleSpec): string {
  const env = spec.env ?? "test";
  const host = spec.host ?? "host1";
  const testFunctions: string[] = [];
  const resources: CheckedResource[] = spec.resources.map((r, i) => {
    const n = i + 1;
    const model: ResourceModel = {
      kind: r.kind,
      props: r.kind === "custom" || r.kind === "collected" ? {} : props(r),
      site: { file: "test.ts", line: n, column: 1 },
      declarationIndex: i,
      owner: undefined,
      origin: {},
    };
    if (r.kind === "collected") {
      const definition = collectedTestKind;
      return {
        model: { ...model, props: { group: r.group ?? "g" } },
        kind: definition.kind,
        definition,
        key: r.key,
        container: false,
        lowered: { call: "depc_test_group", args: { keys: [r.key] } },
        removal: { args: { key: r.key } },
      };
    }
    if (r.kind === "custom") {
      testFunctions.push(`depc_custom_${n}() {\n${r.body}\n}`);
      const definition = customKind(`depc_custom_${n}`);
      return { model, kind: definition.kind, definition, key: r.key, container: false, lowered: { call: `depc_custom_${n}`, args: {} } };
    }
    const problems: Diagnostic[] = [];
    const definition = kindDefinition(r.kind);
    const checked = definition.check(model, (d) => problems.push(d));
    if (checked === undefined || problems.length > 0) {
      throw new Error(`test bundle: the compiler rejects ${r.kind} ${r.path}: ${problems.map((d) => d.message).join("; ")}`);
    }
    return { ...checked, kind: definition.kind, definition, container: definition.container };
  });
  if (spec.extra !== undefined) testFunctions.push(spec.extra);

  // The runtime plus the test's own functions, split and tree-shaken like the runtime.
  const own = parseRuntime([{ name: "test.sh", text: testFunctions.join("\n\n") }]).map((f) => f.name);
  const all: CompilerRuntimeFunction[] = parseRuntime([...runtimeFiles(RUNTIME_FILES), { name: "test.sh", text: testFunctions.join("\n\n") }]);
  const known = new Set(all.map((f) => f.name));
  const extraRoots = (spec.extraRoots ?? []).filter((name) => known.has(name));

  const hostModel: HostModel = { name: host, address: host, user: undefined, port: undefined, data: {}, resources: [], components: [], site: undefined };
  return emitBundle({
    environment: env,
    host: hostModel,
    resources,
    notifications: new Map(Object.entries(spec.notifications ?? {}).map(([i, owed]) => [resources[Number(i)]!, owed])),
    depcVersion: "0.1.0",
    siteOf: (r) => `${r.model.site!.file}:${r.model.site!.line}:${r.model.site!.column}`,
    selectRuntime: (roots) => selectRuntime([...roots, ...own, ...extraRoots], all),
  });
}
