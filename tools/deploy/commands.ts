// The CLI commands `depc deploy`, `depc plan` and `depc rollback`: options,
// then build (or --from), then runHosts. Registered in compiler/cli.ts with
// one `.command(...)` each.
import { join, resolve } from "node:path";
import type { Argv, CommandModule } from "yargs";
import type { Command } from "./run.js";
import type { SshSettings } from "./ssh.js";
import { trace } from "./trace.js";

/** What the commands need of cli.ts's Io (a structural subset, plus tty). */
export interface DeployIo {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly color: boolean;
  /** Draw the progress line; default: stderr is a terminal. */
  readonly tty?: boolean;
}

interface DeployArgs {
  env?: string;
  from?: string;
  out?: string;
  cache: boolean;
  identity?: string;
  jobs: number;
  limit?: string | string[];
  skip?: string | string[];
  user?: string;
  sudo: boolean;
  sshOption?: string | string[];
  sshConfig?: string;
  stateDir?: string;
  timeout?: number;
  evalTimeout?: number;
  json?: string;
  to?: string;
  host?: string;
  address?: string;
  yes?: boolean;
}

/**
 * --jobs' default: hosts at a time, and sessions opened at once. 10 is the
 * most new connections an sshd takes at once without refusing any at
 * OpenSSH's default `MaxStartups 10:30:100` (every session through a
 * bastion's ProxyJump is one of them), and an environment of up to 10
 * independent hosts then costs one round trip, not two.
 */
export const DEFAULT_JOBS = 10;

const DESCRIBE: Record<Command, string> = {
  deploy: "Build, then copy and run each host's bundle over ssh, providers before requirers",
  plan: "Build, then run each host's bundle with --check over ssh: what would change, with diffs (exit 2 when anything would)",
  rollback: "Run again the bundle applied before the current one (or --to DIGEST), as kept on each host",
  decommission: "Remove everything depc manages on a host that left the environment (--host H; --yes to do it, else only show it)",
};

function options<T>(y: Argv<T>, command: Command) {
  let built = y
    .positional("env", { type: "string", describe: "Environment module (env/prod); not needed with --from" })
    .option("from", { type: "string", describe: "Deploy an existing build directory (build/prod) instead of building" })
    .option("out", { type: "string", describe: "Where the build is written", defaultDescription: "build/<environment>" })
    .option("cache", { type: "boolean", default: true, describe: "Reuse the last type-check when no source changed (--no-cache to force)" })
    .option("identity", { type: "string", describe: "age identity file to decrypt secrets/<env>.age with (as for depc build)", defaultDescription: "$DEPC_AGE_KEY, $DEPC_AGE_IDENTITY, or ~/.config/depc/age.key" })
    .option("jobs", { alias: "j", type: "number", default: DEFAULT_JOBS, describe: "Hosts at a time" })
    .option("limit", { type: "string", describe: "Only these hosts (repeat --limit, or comma-separated)" })
    .option("skip", { type: "string", describe: "Leave out these hosts (repeat --skip, or comma-separated)" })
    .option("user", { type: "string", describe: "ssh login user for every host (instead of the model's)" })
    .option("sudo", { type: "boolean", default: false, describe: "Run the bundle as root with 'sudo -n' (NOPASSWD sudo needed)" })
    .option("ssh-option", { alias: "o", type: "string", describe: "An ssh -o option, e.g. ProxyJump=bastion (repeatable)" })
    .option("ssh-config", { alias: "F", type: "string", describe: "ssh config file (ssh -F)" })
    .option("state-dir", { type: "string", describe: "State directory on the hosts (passed to the bundle)", defaultDescription: "/var/lib/depc/<env>, or ~/.local/state/depc/<env> when not root" })
    .option("timeout", { type: "number", describe: "Give up on a host after this many seconds" })
    .option("eval-timeout", { type: "number", describe: "Stop evaluating the model after this many seconds (an endless loop)", defaultDescription: "$DEPC_EVAL_TIMEOUT, or 60" })
    .option("json", { type: "string", describe: "Write the whole run as JSON to this file" });
  if (command === "rollback") built = built.option("to", { type: "string", describe: "Digest (or unique prefix) of the kept bundle to run; default: the one before the current" });
  if (command === "decommission") {
    built = built
      .option("host", { type: "string", demandOption: true, describe: "The host that left the environment" })
      .option("address", { type: "string", describe: "Address or ssh alias of the host, when the build does not know it (an earlier build's manifest.json lists it)" })
      .option("yes", { type: "boolean", default: false, describe: "Remove it; without --yes, only show what would be removed" });
  }
  return built.epilogue(
    command === "decommission"
      ? "Exit codes: 0 removed (without --yes: nothing to remove), 2 without --yes: removals pending, 1 an error, 130 interrupted."
      : command === "plan"
      ? "Exit codes: 0 nothing would change, 2 changes pending, 1 an error (model, ssh, a host), 130 interrupted."
      : "Exit codes: 0 every host converged, 1 a host failed, was unreachable or skipped (or the model has errors), 130 interrupted.",
  );
}

/** A repeatable option: yargs gives undefined, one string, or an array of them. */
const all = (value: string | readonly string[] | undefined): string[] => (value === undefined ? [] : typeof value === "string" ? [value] : value.map(String));
const split = (value: string | readonly string[] | undefined) =>
  all(value)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");

/** Runs one of the commands; resolves to its exit code. */
export async function runCommand(command: Command, args: DeployArgs, io: DeployIo): Promise<number> {
  trace(`${command}: arguments parsed`);
  const [{ buildSource }, { DEPLOY_EXIT, runHosts }] = await Promise.all([import("./source.js"), import("./run.js")]);
  if (!Number.isInteger(args.jobs) || args.jobs < 1) {
    io.stderr("depc: --jobs must be a whole number of 1 or more\n");
    return DEPLOY_EXIT.failed;
  }
  if (args.timeout !== undefined && !(args.timeout > 0)) {
    io.stderr("depc: --timeout must be a positive number of seconds\n");
    return DEPLOY_EXIT.failed;
  }
  if (args.evalTimeout !== undefined && !(args.evalTimeout > 0)) {
    io.stderr("depc: --eval-timeout must be a positive number of seconds\n");
    return DEPLOY_EXIT.failed;
  }
  if (args.user !== undefined && !/^[^\s\-\x00-\x1f\x7f][^\s\x00-\x1f\x7f]*$/.test(args.user)) {
    io.stderr(`depc: --user ${JSON.stringify(args.user)} is not a user name ssh can take\n`);
    return DEPLOY_EXIT.failed;
  }
  // The ssh handshakes run while the model is built (early.ts): the hosts of the environment's previous build.
  const early = await openEarly(command, args, io.cwd);
  trace("build starts");
  const got = await buildSource({ ...(args.env !== undefined ? { env: args.env } : {}), ...(args.from !== undefined ? { from: args.from } : {}), ...(args.out !== undefined ? { out: args.out } : {}), ...(args.identity !== undefined ? { identity: args.identity } : {}), ...(args.evalTimeout !== undefined ? { evalTimeout: args.evalTimeout } : {}), cache: args.cache }, io);
  if (!got.ok) {
    early?.cancelRest();
    if (got.message) io.stderr(`depc: ${got.message}\n`);
    return DEPLOY_EXIT.failed;
  }
  trace("build done");
  let source = got.source;
  const decommissioning = command === "decommission" && args.yes === true;
  if (command === "decommission") {
    const { decommissionSource } = await import("./decommission.js");
    const made = decommissionSource(source, args.host ?? "", args.address);
    if (!made.ok) {
      io.stderr(`depc: ${made.message}\n`);
      return DEPLOY_EXIT.failed;
    }
    source = made.source;
  }
  const exit = await runHosts(
    source,
    {
      command: command === "decommission" && args.yes !== true ? "plan" : command,
      jobs: args.jobs,
      limit: split(args.limit),
      skip: split(args.skip),
      ...(args.user !== undefined ? { user: args.user } : {}),
      sudo: args.sudo,
      ssh: sshSettings(args),
      ...(args.stateDir !== undefined ? { stateDir: args.stateDir } : {}),
      ...(args.to !== undefined ? { to: args.to } : {}),
      ...(args.json !== undefined ? { json: args.json } : {}),
      cwd: io.cwd,
      ...(early !== undefined ? { early } : {}),
    },
    {
      stdout: io.stdout,
      stderr: io.stderr,
      color: io.color,
      tty: io.tty ?? (process.stderr.isTTY === true && process.env.TERM !== "dumb"),
      columns: process.stderr.columns || 80,
    },
  );
  early?.cancelRest();
  trace("hosts done");
  if (decommissioning && exit === DEPLOY_EXIT.ok) {
    // Done: later deploys no longer name it as a host that left.
    const { forgetLeftHost } = await import("./decommission.js");
    forgetLeftHost(resolve(io.cwd, source.buildDir), args.host ?? "");
  }
  return exit;
}

/** `depc deploy|plan|rollback [env]` for yargs; `setExit` receives the exit code. */
export function deployCommand(command: Command, io: DeployIo, setExit: (code: number) => void): CommandModule {
  return {
    command: `${command} [env]`,
    describe: DESCRIBE[command],
    builder: (y: Argv) => options(y, command) as unknown as Argv,
    handler: async (args) => {
      setExit(await runCommand(command, args as unknown as DeployArgs, io));
    },
  };
}

/**
 * A deploy or plan that builds the model: opens the sessions of the hosts
 * its previous build lists (build/<env>/manifest.json, or --out's), so the
 * handshakes overlap the build. None with --from (nothing to overlap), for
 * rollback and decommission, or without a previous build.
 */
async function openEarly(command: Command, args: DeployArgs, cwd: string): Promise<import("./early.js").EarlySessions | undefined> {
  if ((command !== "deploy" && command !== "plan") || args.from !== undefined || args.env === undefined) return undefined;
  const [{ locateEnvironment }, { EarlySessions }, { bundleArgsOf }] = await Promise.all([import("../../compiler/load/locate.js"), import("./early.js"), import("./run.js")]);
  const located = locateEnvironment(args.env, cwd);
  if (located === undefined) return undefined;
  const dir = args.out !== undefined ? resolve(cwd, args.out) : join(located.projectRoot, "build", located.defaultName);
  return EarlySessions.open(join(dir, "manifest.json"), {
    jobs: args.jobs,
    limit: split(args.limit),
    skip: split(args.skip),
    ...(args.user !== undefined ? { user: args.user } : {}),
    sudo: args.sudo,
    ssh: sshSettings(args),
    bundleArgs: bundleArgsOf(command === "plan" ? "check" : "apply", args.stateDir),
  });
}

const sshSettings = (args: DeployArgs): SshSettings => ({
  options: all(args.sshOption),
  ...(args.sshConfig !== undefined ? { configFile: args.sshConfig } : {}),
  ...(args.timeout !== undefined ? { timeoutSeconds: args.timeout } : {}),
});
