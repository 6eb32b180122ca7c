import type { Diagnostic, Location } from "../compiler/diagnostics/diagnostic.js";
import type { messages } from "../compiler/diagnostics/messages.js";
import type { ResourceModel } from "../compiler/model.js";

/**
 * What a resource needs from the host, checked for all resources in one pass.
 * Type "e": the path is only stat'ed (the ledger learns whether it existed
 * before the run, for `remove.ifNew`); the preflight never verifies it, so
 * the resource always runs its own check (a Tree).
 */
export interface Fact {
  readonly type: "f" | "d" | "l" | "e";
  readonly path: string;
  readonly mode?: number;
  readonly owner?: string;
  readonly group?: string;
  readonly sha256?: string;
}

/** A command to run, emitted as a shell function that runs it in a subshell. */
export interface RunSpec {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * An argument of a runtime call: a string; bytes, emitted as a content
 * function; or a command, emitted as a function that runs it. A function
 * argument is passed by name; `undefined` becomes ''. Content with
 * `builtin` is written by the shell's printf builtin, not a here-document
 * and `cat` (no process per file where printf is a builtin: a kind that
 * writes many files).
 */
export type Argument = string | { readonly content: Uint8Array; readonly builtin?: boolean } | { readonly run: RunSpec } | undefined;

/**
 * A runtime call's parameters, in call order, named as the `.sh` function's
 * header comment names them (lower case): `path` is PATH. `[salt]` is an
 * optional last parameter (left out when undefined); `pipopt...` takes the
 * rest (a list, spread). A test checks each `.sh` header against this list.
 */
export type Param = string;

/** One shell function a kind lowers to, with its named parameters. */
export interface RuntimeCall {
  readonly fn: string;
  readonly params: readonly Param[];
}

/** A resource lowered to one runtime call, with named arguments (data only; the emitter writes the shell). */
export interface Lowered {
  /** One of its kind's `runtime.calls`. */
  readonly call: string;
  readonly args: Readonly<Record<string, Argument | readonly Argument[]>>;
  readonly fact?: Fact;
}

/**
 * What a resource claims on its host, so that two resources claiming one
 * thing are a diagnostic (DEPC2005) while different things with the same
 * name are not: a Service "web.service" (a systemd unit) and a Command
 * "web.service" (a command name) do not collide. Path claims also nest:
 * nothing may live below a path claimed by a non-container.
 */
export type KeyNamespace = "path" | "systemd-unit" | "command" | "user" | "group" | "cron-job" | "logrotate-entry" | "health-check" | "package";

/** A resource after validation: its identity on the host and its lowering. */
export interface CheckedResource {
  readonly model: ResourceModel;
  readonly kind: string;
  /** Its kind's definition. */
  readonly definition: KindDefinition;
  /** Identity on the host within `definition.claims` (a normalized path, a unit name, ...); two resources may not share one. */
  readonly key: string;
  /**
   * More keys it claims in the same namespace besides `key`, checked like
   * `key` (DEPC2005): a Timer "backup" claims "backup.timer" and also
   * "backup.service", which a Service "backup" would write too.
   */
  readonly alsoClaims?: readonly string[];
  /** Whether other resources may live below `key` (a path claim only: directories). */
  readonly container: boolean;
  /** What this resource reacts to (its runs are owed when one of them changes); only for kinds that react. */
  readonly notifiedBy?: readonly unknown[];
  readonly lowered: Lowered;
  /**
   * Its entry in the host's ledger (runtime/ledger.sh): the path it occupies
   * (another current resource claiming it keeps it) and the arguments of its
   * kind's `remove` call, named by `remove.params`. No `args`: nothing to
   * remove (a Command without `undo`, the system's supervisord).
   */
  readonly removal?: { readonly claim?: string; readonly args?: Readonly<Record<string, string | readonly string[]>> };
  /**
   * Cold deployment (batou's `deployment = "cold"`): the arguments of its
   * kind's `evade` call, which stops it before a resource it depends on
   * changes; `owe` is the owed key (`kind-cold:key`) that says it must be
   * started again (its own step does that, or the next run's after a kill).
   * What it depends on: see compiler/emit/evade.ts.
   */
  readonly evasion?: { readonly owe: string; readonly args: Readonly<Record<string, string>> };
}

/**
 * How a kind's resources are removed when they leave the model: a shell
 * function in its `.sh` file with named parameters, like `runtime.calls`.
 * The arguments travel as data in the host's ledger, never as shell code.
 */
export interface RemoveCall extends RuntimeCall {
  /** Removed before the resources run: a process that could hold what its successor needs (a port). */
  readonly early?: boolean;
  /** Removed only when depc created it: the runtime records whether the path existed before the run. */
  readonly ifNew?: boolean;
}

/** What `check` returns: a checked resource but for what the definition supplies. */
export type Checked = Omit<CheckedResource, "definition" | "kind" | "container">;

export type MessageId = keyof typeof messages;

/** What an option of a resource may name on its host (see `KindDefinition.references`). */
export type Reference = "path" | "user" | "group";

/**
 * A kind whose resources of one host are applied together, by one runtime
 * call per group: all Packages of a host (one query, one install), all
 * cron lines of a user (one crontab block), all logrotate entries of a
 * host (one file). Each member stays its own resource: its key, its
 * diagnostics, its own ok/changed/failed line, its ledger entry and its
 * removal. See compiler/ARCHITECTURE.md, "Collected kinds".
 */
export interface Collect {
  /** The group a checked resource joins on its host; resources of this kind with equal results are one group. */
  by(resource: CheckedResource): string;
  /**
   * The group's one runtime call (one of `runtime.calls`), its members in
   * run order. The call reports each member's outcome by its ordinal in
   * `members` (1-based): `depc_member_change ORDINAL NAME DETAIL`,
   * `depc_member_fail ORDINAL MESSAGE [OUTPUT_FILE]` (runtime/collect.sh).
   * `check()` of a collected kind returns as `lowered` its own group of one
   * (what `lower([it])` gives), which `lower` may read from each member.
   */
  lower(members: readonly CheckedResource[]): Lowered;
}

/**
 * The compiler's view of one resource kind: everything the phases need to
 * know about it. The phases ask the definition; none tests a kind's name.
 * Registered in kinds/registry.ts.
 */
export interface KindDefinition {
  /** The registered name, set by its factory (`File` sets "file"). */
  readonly kind: string;
  /** Its folder under kinds/ (holding `runtime.file`). */
  readonly folder: string;
  /** What its key claims on the host. */
  readonly claims: KeyNamespace;
  /** Whether other resources may live below its key (a path claim: directories, a venv, a supervisor's base). */
  readonly container: boolean;
  /** Its shell side: the `.sh` file in its folder and the functions it lowers to. */
  readonly runtime: { readonly file: string; readonly calls: readonly RuntimeCall[] };
  /** Whether it can be notified (`whenChanged`): a change of what it reacts to owes its run. */
  readonly reacts: boolean;
  /** How a resource that left the model is removed from the host (see runtime/ledger.sh). */
  readonly remove?: RemoveCall;
  /**
   * Which props may hold `secret(...)` values, and whether its reports and
   * program output must show `***` for them (a command line is printed; a
   * file's content is not). The program of an argv field (its first word)
   * names the command everywhere, so it may never be secret.
   */
  readonly secrets?: { readonly fields: readonly string[]; readonly masked: boolean; readonly argvFields?: readonly string[] };
  /**
   * Options whose values name something another resource of the host may
   * make: a path (a resource claiming it), a user or a group (a kind that
   * `provides` one). A resource naming it is ordered after its maker without
   * an explicit `after` (compiler/order.ts). Values that are numbers or name
   * nothing managed on the host add no edge. A value may be a list.
   */
  readonly references?: Readonly<Record<string, Reference>>;
  /** What its resources make, named by their key (User: "user", Group: "group"), for `references`. */
  readonly provides?: Exclude<Reference, "path">;
  /**
   * How a resource of this kind that asks for a cold deployment (its
   * `evasion`) is stopped before what it depends on changes: a shell function
   * of its `.sh` whose first parameter is `owe` (the owed start it records
   * before stopping). Called at most once per run.
   */
  readonly evade?: RuntimeCall;
  /**
   * Batched apply: consecutive resources of this kind (two or more in run
   * order) are first staged together, then run one by one. The bundle calls
   * `stage` with each resource's call arguments (after `depc_batch_stage`
   * skipped those the preflight verified), then `flush` once, which does the
   * work in a few processes for the whole run and records each index it
   * completed; the resource's own call then only reports that result (see
   * runtime/README.md, "Batches"). Staging must change nothing a later
   * resource of the run could see except through the flush, and a resource
   * the flush did not complete must still work the normal way.
   */
  readonly batch?: { readonly stage: string; readonly flush: string };
  /** Its diagnostics (besides the shared path, mode and owner checks). */
  readonly diagnostics: readonly MessageId[];
  /** Its resources of a host are applied by one call per group (see {@link Collect}); default: one call each. */
  readonly collect?: Collect;
  /** Validates the props and lowers the resource; reports problems and returns undefined on any. */
  check(model: ResourceModel, report: (d: Diagnostic) => void): Checked | undefined;
}

export type At = Location | undefined;

/** A parameter's name without its `[optional]` or `rest...` marks. */
export const paramName = (param: Param): string => {
  // Memoized: emitting asks for every parameter of every resource (102,000 resources in a large build).
  let name = paramNames.get(param);
  if (name === undefined) paramNames.set(param, (name = param.replace(/^\[(.*)\]$/, "$1").replace(/\.\.\.$/, "")));
  return name;
};
const paramNames = new Map<Param, string>();

/**
 * A lowered resource's arguments in call order, by its call's named
 * parameters. A call its kind does not declare, or a missing or unknown
 * argument name, is a bug in the kind (an internal error, exit 70).
 */
export function positionalArguments(definition: KindDefinition, lowered: Lowered): Argument[] {
  const call = definition.runtime.calls.find((c) => c.fn === lowered.call);
  if (call === undefined) throw new Error(`kind ${JSON.stringify(definition.kind)} lowered to ${lowered.call}, which it does not declare in runtime.calls`);
  return callArguments(definition, call, lowered.args);
}

/** The parameter names of a call, memoized per call (one per kind: 102,000 resources in a large build ask). */
const callParamNames = new WeakMap<RuntimeCall, ReadonlySet<string>>();

function callArguments(definition: KindDefinition, call: RuntimeCall, args: Lowered["args"]): Argument[] {
  let names = callParamNames.get(call);
  if (names === undefined) callParamNames.set(call, (names = new Set(call.params.map(paramName))));
  const where = () => `kind ${JSON.stringify(definition.kind)}`;
  for (const name in args) {
    if (!names.has(name)) throw new Error(`${where()}: ${call.fn} has no parameter ${Object.keys(args).filter((n) => !names.has(n)).join(", ")}`);
  }
  const out: Argument[] = [];
  for (const param of call.params) {
    const name = paramName(param);
    const value = args[name];
    if (param.endsWith("...")) {
      if (!Array.isArray(value)) throw new Error(`${where()}: ${call.fn}'s ${name} must be a list`);
      out.push(...(value as readonly Argument[]));
    } else if (param.startsWith("[")) {
      if (value !== undefined) out.push(value as Argument);
    } else {
      if (!(name in args)) throw new Error(`${where()}: ${call.fn} lacks its argument ${name}`);
      if (Array.isArray(value)) throw new Error(`${where()}: ${call.fn}'s ${name} must not be a list`);
      out.push(value as Argument);
    }
  }
  return out;
}

/** A removal's arguments in call order, by its kind's `remove.params` (a mismatch is a bug in the kind, exit 70). */
export function removeArguments(definition: KindDefinition, args: Readonly<Record<string, string | readonly string[]>>): string[] {
  const remove = definition.remove;
  if (remove === undefined) throw new Error(`kind ${JSON.stringify(definition.kind)} has removal arguments but no remove call`);
  return callArguments(definition, remove, args) as string[];
}
