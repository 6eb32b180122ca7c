import type { Diagnostic, Location } from "../diagnostics/diagnostic.js";
import type { ResourceModel } from "../model.js";

/** What a resource needs from the host, checked for all resources in one pass. */
export interface Fact {
  readonly type: "f" | "d" | "l";
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
 * argument is passed by name; `undefined` becomes ''.
 */
export type Argument = string | { readonly content: Uint8Array } | { readonly run: RunSpec } | undefined;

/** A resource lowered to one runtime call (data only; the emitter writes the shell). */
export interface Lowered {
  readonly call: string;
  readonly args: readonly Argument[];
  readonly fact?: Fact;
}

/**
 * How a resource is removed when it leaves the model: its entry in the
 * host's ledger (runtime-sh/ledger.sh). Parameters are data; the runtime
 * passes them to `fn` as arguments, never as shell code.
 */
export interface Removal {
  /** The path it occupies on the host; another current resource claiming it keeps it. */
  readonly claim?: string;
  /** A `depc_*_remove` runtime function; undefined: nothing to remove. */
  readonly fn?: string;
  readonly params?: readonly string[];
  /** Removed before the resources run: a process that could hold what its successor needs (a port). */
  readonly early?: boolean;
  /** Removed only when depc created it (the runtime records whether the path existed). */
  readonly ifNew?: boolean;
}

/** A resource after validation: its identity on the host and its lowering. */
export interface CheckedResource {
  readonly model: ResourceModel;
  readonly kind: string;
  /** Identity on the host (a normalized path); two resources may not share one. */
  readonly key: string;
  /** Whether other resources may live below `key` (only directories). */
  readonly container: boolean;
  /** What this resource reacts to (its runs are owed when one of them changes). */
  readonly notifiedBy?: readonly unknown[];
  readonly lowered: Lowered;
  /** Its ledger entry: how it is removed when it leaves the model. */
  readonly removal: Removal;
}

/** The compiler side of a resource kind: how it is validated and lowered. */
export interface ResourceKind {
  readonly kind: string;
  /** Validates the props; returns the checked resource, or diagnostics. */
  check(model: ResourceModel, report: (d: Diagnostic) => void): CheckedResource | undefined;
}

export type At = Location | undefined;
