import type { HostModel } from "../model.js";
import { positionalArguments, removeArguments, type CheckedResource, type Fact } from "../../kinds/kind.js";
import { content, contentFunction } from "./content.js";
import { commentText, shellQuote } from "./quote.js";
import type { RunSpec } from "../../kinds/kind.js";
import { runtimeFunctions, selectRuntime } from "./runtime.js";
import { sensitivityOf } from "../secrets/sensitive.js";
import { evasions } from "./evade.js";

export interface BundleInput {
  readonly environment: string;
  readonly host: HostModel;
  /** In run order. */
  readonly resources: readonly CheckedResource[];
  /** The reactions each resource owes when it changes. */
  readonly notifications: ReadonlyMap<CheckedResource, readonly string[]>;
  readonly depcVersion: string;
  /** A resource's declaration site for its comment, e.g. `env/prod.ts:9:5`. */
  readonly siteOf: (resource: CheckedResource) => string;
  /** What the host does with what left the model; default "remove". */
  readonly removal?: "remove" | "report";
  /**
   * The runtime text for the functions the bundle calls (`roots`) and what
   * they call. Default: {@link selectRuntime} over the runtime files. The runtime
   * tests pass one that adds shell functions of their own.
   */
  readonly selectRuntime?: (roots: ReadonlySet<string>) => string;
}

/**
 * Line 2 of every bundle, the first to run: a bundle cut short anywhere
 * after it (in the header comment, in the block, before the final `}`)
 * exits 1 with this message (the shell's syntax error first, when cut inside
 * the block); the block's first line disarms it. Every shell of the matrix
 * runs an EXIT trap after a syntax error. (A copy cut inside the first two
 * lines cannot say so: it is empty or a shell syntax error.)
 */
export const INCOMPLETE_GUARD = `{ trap 'echo "depc: this bundle is incomplete: it ends before its last line; copy it again" >&2; exit 1' EXIT; }`;

/** The fewest consecutive resources of a batching kind worth a batch. */
const BATCH_MIN = 2;

/** Paths per fact-gathering call: keeps each command line far below ARG_MAX. */
const FACT_CHUNK = 256;

/**
 * Phase 5: one host's bundle. Deterministic by construction: the text
 * depends only on the input (no clock, no temp paths, no map order).
 */
export function emitBundle(input: BundleInput): string {
  const { head, runtime } = emitBundleParts(input);
  return head + runtime;
}

/**
 * A bundle in two parts, `head + runtime`: what is the host's own (header,
 * resources, tables, contents), then the runtime section with the closing
 * lines, the same text (the same string) for every bundle that uses the
 * same runtime functions. Most of a bundle's bytes are its runtime: a build
 * encodes and stores each distinct runtime section once.
 */
export function emitBundleParts(input: BundleInput): { readonly head: string; readonly runtime: string } {
  const { host, resources } = input;
  const roots = new Set(["depc_main", "depc_step"]);
  // text: the step's lines; batchable: one depc_step of its own (not a member of a collected group).
  const steps: { resource: CheckedResource; index: number; text: string; batchable: boolean }[] = [];
  const contents: string[] = [];
  const facts: { index: number; fact: Fact }[] = [];

  // Collected kinds (KindDefinition.collect): one call per group, at its first member.
  const groupOf = new Map<CheckedResource, { first: number; ordinal: number; members: CheckedResource[]; indices: number[] }>();
  const groups = new Map<string, { first: number; members: CheckedResource[]; indices: number[] }>();
  resources.forEach((resource, i) => {
    const collect = resource.definition.collect;
    if (collect === undefined) return;
    const id = `${resource.kind}\0${collect.by(resource)}`;
    const group = groups.get(id) ?? { first: i + 1, members: [], indices: [] };
    groups.set(id, group);
    group.members.push(resource);
    group.indices.push(i + 1);
    groupOf.set(resource, { ...group, ordinal: group.members.length });
  });

  resources.forEach((resource, i) => {
    const index = i + 1;
    const group = groupOf.get(resource);
    const comment = `  # [${index}] ${resource.kind} ${commentText(resource.key)} (${commentText(input.siteOf(resource))})`;
    if (group !== undefined && group.first !== index) {
      steps.push({
        resource,
        index,
        text: `${comment}, in the call of [${group.first}]\n  depc_step ${index} ${resource.kind} ${shellQuote(resource.key)} depc_collected ${group.first} ${group.ordinal}`,
        batchable: false,
      });
      return;
    }
    const lowered = group === undefined ? resource.lowered : resource.definition.collect!.lower(group.members);
    const { call, fact } = lowered;
    const args = positionalArguments(resource.definition, lowered);
    roots.add(call);
    let functions = 0;
    let contentCount = 0;
    // A command holding secrets: its words for reports show *** instead, and its output is masked.
    const masks = resource.definition.secrets?.masked === true ? (group?.members ?? [resource]).flatMap(secretMasks) : [];
    const masker = masks.length > 0 ? `depc_secrets_${index}` : undefined;
    if (masker !== undefined) {
      roots.add("depc_masked");
      contents.push(contentFunction(masker, new TextEncoder().encode(`${masks.join("\n")}\n`)));
    }
    const words = args.map((arg) => {
      if (arg === undefined) return "''";
      if (typeof arg === "string") return shellQuote(maskText(arg, masks));
      if ("run" in arg) {
        const name = `depc_run_${index}_${++functions}`;
        contents.push(runFunction(name, arg.run, masker));
        return name;
      }
      // A resource with several contents (Buildout's config files): _2, _3, … after the first.
      const name = `depc_content_${index}${++contentCount === 1 ? "" : `_${contentCount}`}`;
      const fn = content(name, arg.content, arg.builtin === true);
      contents.push(fn.text);
      if (fn.textNonl) roots.add("depc_text_nonl");
      return name;
    });
    if (group !== undefined) {
      // The group's one call first, then this member's line from its outcome (runtime/collect.sh).
      roots.add("depc_collect").add("depc_collected");
      const { indices } = group;
      steps.push({
        resource,
        index,
        text:
          `${comment}, with ${indices.length === 1 ? "no other" : indices.slice(1).map((n) => `[${n}]`).join(" ")} in one call\n` +
          `  depc_collect ${shellQuote(indices.join(" "))} ${call} ${words.join(" ")}\n` +
          `  depc_step ${index} ${resource.kind} ${shellQuote(resource.key)} depc_collected ${index} 1`,
        batchable: false,
      });
      return;
    }
    steps.push({ resource, index, text: `${comment}\n  depc_step ${index} ${resource.kind} ${shellQuote(resource.key)} ${call} ${words.join(" ")}`, batchable: true });
    if (fact !== undefined) facts.push({ index, fact });
  });

  // Runs of consecutive resources of a kind with `batch` (KindDefinition):
  // their steps go into one function, run once to stage them all (depc_step
  // only stages then), flushed in one batched pass, and run once more.
  const stepLines: string[] = [];
  for (let i = 0; i < steps.length; ) {
    const batch = steps[i]!.resource.definition.batch;
    let j = i + 1;
    if (batch !== undefined && steps[i]!.batchable) {
      while (j < steps.length && steps[j]!.batchable && steps[j]!.resource.definition === steps[i]!.resource.definition) j++;
    }
    if (batch === undefined || j - i < BATCH_MIN) {
      stepLines.push(steps[i]!.text);
      i++;
      continue;
    }
    const run = steps.slice(i, j);
    const name = `depc_batch_${run[0]!.index}`;
    roots.add("depc_batch").add(batch.stage).add(batch.flush);
    // Defined where it runs, its steps unindented, so the bundle still reads in run order.
    stepLines.push(
      `  # [${run[0]!.index}]-[${run[run.length - 1]!.index}]: ${run.length} ${run[0]!.resource.kind} resources, staged in one batch, then run in order`,
      `  ${name}() {`,
      ...run.map((s) => s.text),
      "  }",
      `  depc_batch ${name} ${batch.stage} ${batch.flush}`,
    );
    i = j;
  }

  // Which reactions each resource index owes when it changes, grouped by reaction list.
  const owing = new Map<string, number[]>();
  resources.forEach((resource, i) => {
    const reactions = input.notifications.get(resource);
    if (reactions === undefined || reactions.length === 0) return;
    const calls = reactions.map((r) => `depc_owe ${shellQuote(r)}`).join("; ");
    owing.set(calls, [...(owing.get(calls) ?? []), i + 1]);
  });
  const notifyCases = [...owing].map(([calls, indices]) => `    ${indices.join(" | ")}) ${calls} ;;`);
  if (notifyCases.length > 0) roots.add("depc_owe");

  const factCalls: string[] = [];
  const statPaths = facts.map((f) => f.fact.path);
  const sumPaths = facts.filter((f) => f.fact.type === "f").map((f) => f.fact.path);
  for (const [fn, paths] of [["depc_fact_stat", statPaths], ["depc_fact_sha256", sumPaths]] as const) {
    if (paths.length > 0) roots.add(fn);
    for (let i = 0; i < paths.length; i += FACT_CHUNK) {
      factCalls.push(`  ${fn} ${paths.slice(i, i + FACT_CHUNK).map(shellQuote).join(" ")}`);
    }
  }
  const table = facts.map(({ index, fact }) =>
    [index, fact.type, fact.path, fact.mode === undefined ? "-" : fact.mode.toString(8), fact.owner ?? "-", fact.group ?? "-", fact.sha256 ?? "-"].join("\t"),
  );

  // The host's ledger of this bundle (runtime/ledger.sh). Every bundle can
  // remove every kind: the host's old ledger may name kinds this one lacks.
  const ledger = resources.map(ledgerLine);
  for (const name of removeFunctions()) roots.add(name);

  const cold = evasions(host, resources, input.notifications);
  for (const fn of cold.roots) roots.add(fn);

  const count = resources.length;
  const head = [
    "#!/bin/sh",
    INCOMPLETE_GUARD,
    "# shellcheck shell=sh",
    "# shellcheck disable=SC2317 # resource functions are called indirectly, through depc_step",
    "# shellcheck disable=SC2016 # user data is single-quoted on purpose: it must never expand",
    `# depc bundle for host ${JSON.stringify(host.name)} in environment ${JSON.stringify(input.environment)}`,
    `# depc ${input.depcVersion}, ${count} resource${count === 1 ? "" : "s"}`,
    "#",
    `# Apply: sh ${host.name}.sh    Check: sh ${host.name}.sh --check    Help: sh ${host.name}.sh --help`,
    "# Generated by `depc build` from the model: review it, diff it, do not edit it.",
    "# The whole script is one { ... } block, parsed before any of it runs: a copy cut short",
    "# anywhere fails to parse and runs nothing; the trap on line 2 then says it is incomplete.",
    "{",
    "trap - EXIT",
    `DEPC_ENV=${shellQuote(input.environment)}`,
    `DEPC_HOST=${shellQuote(host.name)}`,
    `DEPC_VERSION=${shellQuote(input.depcVersion)}`,
    `DEPC_COUNT=${count}`,
    `DEPC_REMOVALS=${input.removal ?? "remove"}`,
    "",
    "# ---- resources, in order (the runtime that runs them is at the end) ----",
    "",
    "depc_resources() {",
    stepLines.length > 0 ? stepLines.join("\n") : "  :",
    "}",
    "",
    "# ---- expected state: checked for all resources in one pass before any runs ----",
    "",
    // Through contentFunction like file content: a path with bidi controls goes as printf escapes.
    table.length > 0 ? contentFunction("depc_expect", new TextEncoder().encode(`${table.join("\n")}\n`)) : "depc_expect() {\n  :\n}",
    "# Reactions owed when a resource changes; recorded on the host before the resource runs (withdrawn if nothing changed).",
    "depc_notifies() {",
    notifyCases.length > 0 ? `  case $1 in\n${notifyCases.join("\n")}\n  esac` : "  :",
    "}",
    "# Cold resources (a Program with cold: true), stopped before a resource they depend on changes (runtime/evade.sh).",
    cold.table,
    "depc_facts() {",
    factCalls.length > 0 ? factCalls.join("\n") : "  :",
    "}",
    "# The host's ledger after this run: what depc manages here and how each is removed once it leaves the model.",
    // Through contentFunction like depc_expect: a path with bidi controls goes as printf escapes.
    ledger.length > 0 ? contentFunction("depc_ledger", new TextEncoder().encode(`${ledger.join("\n")}\n`)) : "depc_ledger() {\n  :\n}",
    ...(contents.length > 0 ? ["", "# ---- file contents and commands ----", "", contents.join("\n")] : []),
  ];
  return { head: `${head.join("\n")}\n`, runtime: runtimeSection((input.selectRuntime ?? selectRuntime)(roots)) };
}

/** The end of a bundle: the runtime functions, then the one call; memoized per selection (a selection is one string). */
function runtimeSection(selected: string): string {
  let section = runtimeSections.get(selected);
  if (section === undefined) {
    section = [
      "",
      "# ---- runtime: the functions of depc's runtime (runtime/, kinds/*/) that this host uses ----",
      "# (All of them are defined before anything runs: the one call below comes last.)",
      "",
      selected,
      "",
      'depc_main "$@"',
      "}",
      "",
    ].join("\n");
    // A handful of selections per build; the runtime tests make more, each with their own functions.
    if (runtimeSections.size >= 64) runtimeSections.clear();
    runtimeSections.set(selected, section);
  }
  return section;
}

const runtimeSections = new Map<string, string>();

/** Every kind's remove function: every bundle carries them (see the ledger above). */
function removeFunctions(): readonly string[] {
  removes ??= runtimeFunctions()
    .filter((f) => /^depc_[a-z0-9_]+_remove$/.test(f.name))
    .map((f) => f.name);
  return removes;
}

let removes: readonly string[] | undefined;

/**
 * One ledger entry: KIND KEY CLAIM FLAGS FN PARAM..., TAB-separated, each
 * field escaped (backslash, tab, newline) so an entry is one line of data.
 */
function ledgerLine(resource: CheckedResource): string {
  const { definition } = resource;
  const { claim, args } = resource.removal ?? {};
  const remove = args === undefined ? undefined : definition.remove;
  const keep = resource.model.props.keep === true;
  const flags = keep || remove?.early === true || remove?.ifNew === true ? [keep && "keep", remove?.early === true && "early", remove?.ifNew === true && "ifnew"].filter((f) => f !== false).join(",") : "-";
  let line = `${ledgerField(resource.kind)}\t${ledgerField(resource.key)}\t${ledgerField(claim ?? "-")}\t${ledgerField(flags)}`;
  if (remove === undefined || args === undefined) return `${line}\t-`;
  line += `\t${ledgerField(remove.fn)}`;
  for (const arg of removeArguments(definition, args)) line += `\t${ledgerField(arg)}`;
  return line;
}

/** A ledger field: `\\`, `\t`, `\n` for backslash, tab and newline; nothing else changes. */
export function ledgerField(value: string): string {
  if (!LEDGER_ESCAPED.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n");
}

const LEDGER_ESCAPED = /[\\\t\n]/;

/**
 * A command as a function: a subshell that changes directory, exports the
 * environment and execs the program — `exec` so that a program named like a
 * shell function or builtin is still the program. Arguments to the function
 * go before the program (the runtime passes `timeout N` there).
 */
function runFunction(name: string, run: RunSpec, masker?: string): string {
  const env = Object.keys(run.env)
    .sort()
    .map((k) => `export ${k}=${shellQuote(run.env[k]!)} && `)
    .join("");
  const exec = masker === undefined ? "exec" : `depc_masked ${masker}`;
  // Two commands setting one variable would otherwise be SC2030/SC2031 ("modified in a subshell"): meant so.
  const directive = env === "" ? "" : "# shellcheck disable=SC2030,SC2031 # each command's env lives in its own subshell\n";
  return `${directive}${name}() ( cd -- ${shellQuote(run.cwd)} && ${env}${exec} "$@" ${run.argv.map(shellQuote).join(" ")} )`;
}

/**
 * What to mask in a resource's reports and output: every line of every
 * secret value it holds, as it is and as a JSON string shows it.
 */
function secretMasks(resource: CheckedResource): string[] {
  const values = sensitivityOf(resource.model)?.values ?? [];
  const lines = values.flatMap((v) => v.split("\n")).filter((l) => l.trim() !== "");
  const forms = lines.flatMap((l) => [l, JSON.stringify(l).slice(1, -1), l.replace(/[\u0000-\u001f\u007f]/g, "?")]);
  // Longest first, so that a secret containing another is masked whole.
  return [...new Set(forms)].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

function maskText(text: string, masks: readonly string[]): string {
  return masks.reduce((t, m) => t.split(m).join("***"), text);
}
