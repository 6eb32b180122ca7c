import { join, resolve } from "node:path";
import yargs, { type Argv } from "yargs";
import type { CompileResult } from "./build.js";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { formatDiagnostics, shownPath } from "./diagnostics/format.js";
import type { GraphFormat } from "../tools/inspect/command.js";
import { depcVersion } from "./package-info.js";

// Command modules load on demand: `depc deploy --from` must not pay for the
// compiler, nor `depc build` for age encryption. Startup is the floor of
// every no-op deploy.

/** A mistake on the command line: yargs has printed it; exit 1. */
class UsageError extends Error {}

const COMMANDS = ["build", "check", "inspect", "graph", "init", "secrets", "deploy", "plan", "rollback", "decommission", "publish", "status"];

/** Exit codes of the depc command (documented in the README). */
export const EXIT = { ok: 0, userError: 1, internalError: 70 } as const;

export interface Io {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Colours are for terminals, and never with NO_COLOR. */
  readonly color: boolean;
}

export function defaultIo(): Io {
  return {
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    color: process.stderr.isTTY === true && !("NO_COLOR" in process.env) && process.env.TERM !== "dumb",
  };
}

interface EnvArgs {
  env: string;
  cache: boolean;
  identity?: string;
  evalTimeout?: number;
}

/** `--eval-timeout`, shared with deploy and plan: the time limit of evaluating the model. */
export const evalTimeoutOption = {
  type: "number",
  describe: "Stop evaluating the model after this many seconds (an endless loop)",
  defaultDescription: "$DEPC_EVAL_TIMEOUT, or 60",
} as const;

/** yargs check of --eval-timeout: a positive number of seconds (a string is a usage error's message). */
export function checkEvalTimeout(args: { readonly [key: string]: unknown }): true | string {
  const value = args["eval-timeout"];
  if (value !== undefined && !(typeof value === "number" && value > 0)) return `--eval-timeout must be a positive number of seconds, not ${String(value)}`;
  return true;
}

const envPositional = <T>(y: Argv<T>) =>
  y
    .positional("env", {
      type: "string",
      demandOption: true,
      describe: "Environment module: env/prod, env/prod.ts, or a directory with index.ts",
    })
    .option("cache", { type: "boolean", default: true, describe: "Reuse the last type-check when no source changed (--no-cache to force)" })
    .option("identity", { type: "string", describe: "age identity file to decrypt secrets/<env>.age with", defaultDescription: "$DEPC_AGE_KEY, $DEPC_AGE_IDENTITY, or ~/.config/depc/age.key" })
    .option("eval-timeout", evalTimeoutOption)
    .check(checkEvalTimeout);

/** Runs the CLI; resolves to the process exit code. Never throws. */
export async function main(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  let exitCode: number = EXIT.ok;
  try {
    // Only the command asked for (or all of them, for help) is loaded.
    const first = argv.find((word) => !word.startsWith("-"));
    // A word that is no command (a typo: `depc biuld`) loads them all, so
    // that the suggestion can name any of them.
    const known = first === undefined || COMMANDS.includes(first);
    const wants = (name: string) => (first === undefined && !argv.includes("--version")) || first === name || !known;
    const [secrets, deploy, publish, status] = await Promise.all([
      wants("secrets") ? import("../tools/secrets/command.js") : undefined,
      wants("deploy") || wants("plan") || wants("rollback") || wants("decommission") ? import("../tools/deploy/commands.js") : undefined,
      wants("publish") ? import("../tools/publish/command.js") : undefined,
      wants("status") ? import("../tools/status/command.js") : undefined,
    ]);
    const setExit = (code: number) => (exitCode = code);
    let parser = yargs([...argv])
      .scriptName("depc")
      .usage("depc — compile a typed deployment model into one POSIX shell bundle per host\n\nUsage: $0 <command> [options]")
      .command(
        "build <env..>",
        "Type-check the model and write build/<env>/<host>.sh for every host, plus manifest.json (several environments: each in turn)",
        (y) => envPositional(y).option("out", { type: "string", describe: "Output directory (one environment only)", defaultDescription: "build/<environment>" }),
        async (args) => {
          const envs = args.env as unknown as string[];
          if (args.out !== undefined && envs.length > 1) {
            io.stderr("depc: --out takes one environment; build several without --out (each goes to build/<environment>).\n");
            exitCode = EXIT.userError;
            return;
          }
          exitCode = await eachEnvironment(envs, (env) => build({ ...(args as unknown as EnvArgs & { out?: string }), env }, io));
        },
      )
      .command(
        "check <env..>",
        "Type-check and validate the model; write nothing (several environments: each in turn)",
        (y) => envPositional(y),
        async (args) => {
          exitCode = await eachEnvironment(args.env as unknown as string[], (env) => check({ ...(args as unknown as EnvArgs), env }, io));
        },
      )
      .command(
        "inspect <env>",
        "Print hosts, components (with each setting and where it came from), resources, wiring and waves",
        (y) => envPositional(y).option("json", { type: "boolean", default: false, describe: "Print JSON for tools instead of text" }),
        async (args) => {
          const { inspectCommand } = await import("../tools/inspect/command.js");
          exitCode = await inspectCommand(args as unknown as EnvArgs & { json: boolean }, io);
        },
      )
      .command(
        "graph <env>",
        "Write the dependency graph: hosts as clusters, components and resources as nodes",
        (y) =>
          envPositional(y)
            .option("format", { choices: ["dot", "mermaid"] as const, default: "dot" as const, describe: "Graphviz DOT or Mermaid" })
            .option("out", { type: "string", describe: "Write to this file instead of stdout" }),
        async (args) => {
          const { graphCommand } = await import("../tools/inspect/command.js");
          exitCode = await graphCommand(args as unknown as EnvArgs & { format: GraphFormat; out?: string }, io);
        },
      )
      .command(
        "init [dir]",
        "Create a deployment project (package.json, tsconfig.json, components/, env/dev.ts, README) in dir",
        (y) =>
          y
            .positional("dir", { type: "string", describe: "Directory to create it in", defaultDescription: "the current directory" })
            .option("name", { type: "string", describe: "Package name", defaultDescription: "from the directory's name" })
            .option("depc-spec", { type: "string", describe: "The depc dependency in package.json (e.g. file:../depc)", defaultDescription: `^${depcVersion}` }),
        async (args) => {
          const { initCommand } = await import("../tools/init/init.js");
          exitCode = initCommand({ dir: args.dir, name: args.name, depcSpec: args["depc-spec"] }, io);
        },
      )
    if (secrets) parser = parser.command(secrets.secretsCommand(io, setExit));
    if (publish) parser = parser.command(publish.publishCommand(io, setExit));
    if (deploy) {
      for (const name of ["deploy", "plan", "rollback", "decommission"] as const) parser = parser.command(deploy.deployCommand(name, io, setExit));
    }
    if (status) parser = parser.command(status.statusCommand(io, setExit));
    skipHelpRendering(parser);
    await parser
      .demandCommand(1, "Give a command, e.g. depc build <env>; depc --help lists them all.")
      .recommendCommands()
      .strict()
      .version(depcVersion)
      .help()
      .alias("h", "help")
      .epilogue("Exit codes: 0 success, 1 errors in the model or usage (printed), 2 plan: changes pending, 70 an internal error of depc.")
      .wrap(Math.min(100, process.stdout.columns ?? 100))
      .exitProcess(false)
      .fail((message, error) => {
        // An Error is a bug (in depc or yargs); a check's string is the user's mistake.
        if (error && typeof error !== "string") throw error;
        // yargs' suggestion alone ("Did you mean build?") does not say what was wrong.
        const text = first !== undefined && message.startsWith("Did you mean ") ? `Unknown command ${JSON.stringify(first)}. ${message}` : message;
        io.stderr(`depc: ${text}\nRun 'depc --help' for usage.\n`);
        // Throwing stops yargs from running the command's handler anyway.
        throw new UsageError(message);
      })
      .parseAsync();
  } catch (error) {
    if (error instanceof UsageError) return EXIT.userError;
    io.stderr(`depc: internal error: ${(error as Error)?.stack ?? String(error)}\nThis is a bug in depc, not in your model: please report it with the output above.\n`);
    return EXIT.internalError;
  }
  return exitCode;
}

/**
 * yargs renders a command's whole help text before running its handler, in
 * case the handler calls showHelp() (depc's never do): 15–30 ms of every
 * command, on the path of each no-op deploy. Help asked for (`--help`) and
 * usage errors render it as before. Feature-checked: another yargs version
 * without this internal only costs the time.
 */
function skipHelpRendering(parser: object): void {
  const internal = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage !== undefined && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => {};
}

/** Runs `run` for every environment, all of them even after a failure; the worst exit code. */
async function eachEnvironment(envs: readonly string[], run: (env: string) => Promise<number>): Promise<number> {
  let code: number = EXIT.ok;
  for (const env of envs) code = Math.max(code, await run(env));
  return code;
}

async function build(args: EnvArgs & { out?: string }, io: Io): Promise<number> {
  const started = performance.now();
  const result = await compileFor(args, io);
  if (!result.ok || !result.bundles || !result.manifest) return EXIT.userError;
  // build/ belongs to the project, wherever in it depc runs.
  const outDir = args.out !== undefined ? resolve(io.cwd, args.out) : join(result.projectRoot ?? io.cwd, "build", result.manifest.environment);
  const { withLeftHosts, writeBuild } = await import("./output.js");
  const failed = writeBuild(outDir, result.bundleBytes ?? result.bundles, withLeftHosts(outDir, result.manifest));
  if (failed) return report([failed], result, io);
  const shown = shownPath(io.cwd, outDir);
  for (const host of result.manifest.hosts) {
    const secrets = host.secrets === true ? ", with secrets (mode 0600)" : "";
    io.stdout(`  ${shown}/${host.bundle}  ${host.resources} resource${host.resources === 1 ? "" : "s"}${secrets}\n`);
  }
  const total = result.manifest.hosts.reduce((n, h) => n + h.resources, 0);
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  io.stdout(
    `depc: built ${result.manifest.environment}: ${plural(result.manifest.hosts.length, "host")}, ${plural(total, "resource")} in ${seconds}s` +
      `${result.cached ? " (type-check cached)" : ""}\n`,
  );
  return EXIT.ok;
}

async function check(args: EnvArgs, io: Io): Promise<number> {
  const result = await compileFor(args, io);
  if (!result.ok || !result.manifest) return EXIT.userError;
  const total = result.manifest.hosts.reduce((n, h) => n + h.resources, 0);
  io.stdout(`depc: ${result.manifest.environment} is valid: ${plural(result.manifest.hosts.length, "host")}, ${plural(total, "resource")}\n`);
  return EXIT.ok;
}

async function compileFor(args: EnvArgs, io: Io): Promise<CompileResult> {
  const { compile } = await import("./build.js");
  const result = await compile(args.env, {
    cwd: io.cwd,
    identityFile: args.identity,
    ...(args.cache ? {} : { refreshCache: true }),
    ...(args.evalTimeout !== undefined ? { evalTimeoutSeconds: args.evalTimeout } : {}),
  });
  if (result.diagnostics.length > 0) report(result.diagnostics, result, io);
  return result;
}

function report(diagnostics: readonly Diagnostic[], result: CompileResult, io: Io): number {
  io.stderr(formatDiagnostics(diagnostics, { color: io.color, cwd: io.cwd, sources: result.sources }));
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  if (errors > 0) io.stderr(`\nFound ${plural(errors, "error")}. No bundle was written.\n`);
  return EXIT.userError;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
