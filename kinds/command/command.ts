import { defineResource, type Dependency, type Relations, type Resource } from "../../model/resource.js";
import type { Secret } from "../../model/secret.js";

/**
 * A command line: an argv list (`["pip", "install", "-r", "req.txt"]`), or a
 * string split into words the way a shell would (`"pip install -r req.txt"`),
 * honouring quotes — but never a shell program: operators (`;`, `|`, `&&`,
 * `>`), globs and `$` expansions are rejected at build time.
 */
export type Argv = readonly [string, ...string[]] | string;

interface CommandCommonOptions extends Relations {
  /** Names the command on the host: in reports, in owed runs, in `after`. */
  readonly name: string;
  /**
   * What to run. An argv list may hold `secret("key")` words: reports show
   * them as `***`, and the command's output is masked when it fails.
   */
  readonly command: Argv | readonly [string, ...(string | Secret)[]];
  /**
   * Working directory (absolute).
   * @default "/"
   */
  readonly cwd?: string;
  /**
   * Extra environment variables; a value may be a `secret("key")` (better
   * than argv: other users of the host cannot see it in the process list).
   * @default {}
   */
  readonly env?: Readonly<Record<string, string | Secret>>;
  /**
   * Seconds before the command is stopped and the run fails (needs `timeout` on the host).
   * @default no limit
   */
  readonly timeout?: number;
  /**
   * What to run when the command leaves the model (it is deleted from it):
   * the command that undoes its effect, run once, in `cwd` with `env`, by
   * the first deploy that no longer declares it. Without it, removing a
   * command from the model does nothing on the host. It is kept on the host
   * (in the state directory's ledger) until then.
   * @default nothing is run
   */
  readonly undo?: Argv;
}

/**
 * A command is not idempotent by itself, so it says when to run; any
 * combination may be given, and all must agree.
 */
interface CommandGuards {
  /** Run only while this path does not exist. */
  readonly creates?: string;
  /** Run only when this check command fails (non-zero exit). */
  readonly unless?: Argv;
  /** Run only when this check command succeeds. */
  readonly onlyIf?: Argv;
  /**
   * Run only when one of these changed in this run — or in an earlier run
   * that failed before this command ran (the run is owed and remembered on
   * the host). Components stand for all their resources.
   */
  readonly whenChanged?: readonly Dependency[];
  /** Run on every apply, reported as a change each time. Say so explicitly. */
  readonly always?: true;
}

type AtLeastOneGuard =
  | { readonly creates: string }
  | { readonly unless: Argv }
  | { readonly onlyIf: Argv }
  | { readonly whenChanged: readonly Dependency[] }
  | { readonly always: true };

/** Options of {@link Command}: a command and at least one guard saying when it runs. */
export type CommandOptions = CommandCommonOptions & CommandGuards & AtLeastOneGuard;

export type CommandResource = Resource<"command", CommandOptions>;

/**
 * Runs a command when its guards say so. In `--check` it reports what it
 * would run instead. After it ran, later resources check the host afresh.
 *
 * ```ts
 * Command({ name: "migrate", command: "bin/manage migrate", cwd: root, whenChanged: [venv, settingsFile] })
 * ```
 */
export function Command(options: CommandOptions): CommandResource {
  return defineResource("command", options, arguments[1]); // the compiler's site marker, if any
}
