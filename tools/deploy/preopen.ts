// Sessions opened before the CLI loads: bin/depc.js calls preopen() for
// `depc deploy` and `depc plan` before it imports the CLI (yargs, the
// commands: tens of milliseconds), so the ssh handshakes start that much
// earlier. The arguments are read here by a small parser that knows the
// deploy options; anything it does not know (another spelling, --help, an
// option it has no rule for) and it opens nothing, and the CLI opens the
// sessions itself once it has parsed them (commands.ts).
//
// A guess cannot change what a deploy does: a session is used only when the
// key of the CLI's own parse matches (early.ts: ssh's command line, the
// bundle's arguments, sudo, --timeout); any other is cancelled unused, and
// --limit/--skip/--jobs read wrongly only open sessions that are cancelled or
// leave hosts to open their own at their turn.
import { join, resolve } from "node:path";
import { locateEnvironment } from "../../compiler/load/locate.js";
import { EarlySessions } from "./early.js";
import { bundleArgsOf } from "./remote.js";
import type { SshSettings } from "./ssh.js";

/** Where preopen() leaves the sessions for the CLI (a global: bin/depc.js and the bundled CLI are separate module graphs). */
const SLOT = Symbol.for("depc.deploy.preopened");

/** --jobs' default (commands.ts DEFAULT_JOBS; a test checks that they agree). */
export const PREOPEN_DEFAULT_JOBS = 10;

interface Parsed {
  command: "deploy" | "plan";
  env: string;
  out?: string;
  jobs: number;
  limit: string[];
  skip: string[];
  user?: string;
  sudo: boolean;
  ssh: SshSettings;
  stateDir?: string;
}

const WITH_VALUE = new Set(["--out", "--ssh-config", "-F", "--ssh-option", "-o", "--jobs", "-j", "--limit", "--skip", "--user", "--state-dir", "--timeout", "--eval-timeout", "--json", "--identity"]);
const FLAGS = new Set(["--sudo", "--no-sudo", "--cache", "--no-cache"]);

/** The deploy options of `argv` (from the command on), or undefined when it has anything this parser does not know. */
export function parseDeployArgv(argv: readonly string[]): Parsed | undefined {
  const [command, ...rest] = argv;
  if (command !== "deploy" && command !== "plan") return undefined;
  const values = new Map<string, string[]>();
  const flags = new Map<string, boolean>();
  let env: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    let arg = rest[i]!;
    let value: string | undefined;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (WITH_VALUE.has(arg)) {
      if (value === undefined) {
        value = rest[++i];
        if (value === undefined || value.startsWith("-")) return undefined;
      }
      const name = { "-F": "--ssh-config", "-o": "--ssh-option", "-j": "--jobs" }[arg] ?? arg;
      values.set(name, [...(values.get(name) ?? []), value]);
    } else if (FLAGS.has(arg) && value === undefined) {
      flags.set(arg.replace(/^--no-/, "--"), !arg.startsWith("--no-"));
    } else if (!arg.startsWith("-") && value === undefined && env === undefined) {
      env = arg;
    } else {
      return undefined;
    }
  }
  if (env === undefined) return undefined;
  const one = (name: string) => {
    const v = values.get(name);
    return v === undefined ? undefined : v.at(-1);
  };
  const list = (name: string) => (values.get(name) ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
  const jobs = one("--jobs") === undefined ? PREOPEN_DEFAULT_JOBS : Number(one("--jobs"));
  const timeout = one("--timeout") === undefined ? undefined : Number(one("--timeout"));
  if (!Number.isInteger(jobs) || jobs < 1 || (timeout !== undefined && !(timeout > 0))) return undefined;
  const configFile = one("--ssh-config");
  const out = one("--out");
  const user = one("--user");
  const stateDir = one("--state-dir");
  return {
    command,
    env,
    ...(out !== undefined ? { out } : {}),
    jobs,
    limit: list("--limit"),
    skip: list("--skip"),
    ...(user !== undefined ? { user } : {}),
    sudo: flags.get("--sudo") ?? false,
    ssh: { options: values.get("--ssh-option") ?? [], ...(configFile !== undefined ? { configFile } : {}), ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}) },
    ...(stateDir !== undefined ? { stateDir } : {}),
  };
}

/** Opens the sessions of a deploy or plan of `argv` (process.argv after the script) and leaves them for {@link takePreopened}. Never throws. */
export function preopen(argv: readonly string[], cwd: string): void {
  try {
    const p = parseDeployArgv(argv);
    if (p === undefined || (p.user !== undefined && !/^[^\s\-\x00-\x1f\x7f][^\s\x00-\x1f\x7f]*$/.test(p.user))) return;
    const located = locateEnvironment(p.env, cwd);
    if (located === undefined) return;
    const dir = p.out !== undefined ? resolve(cwd, p.out) : join(located.projectRoot, "build", located.defaultName);
    (globalThis as Record<symbol, unknown>)[SLOT] = EarlySessions.open(join(dir, "manifest.json"), {
      jobs: p.jobs,
      limit: p.limit,
      skip: p.skip,
      ...(p.user !== undefined ? { user: p.user } : {}),
      sudo: p.sudo,
      ssh: p.ssh,
      bundleArgs: bundleArgsOf(p.command === "plan" ? "check" : "apply", p.stateDir),
    });
  } catch {
    /* The CLI opens the sessions itself. */
  }
}

/** The sessions preopen() opened, once (then they are the caller's). */
export function takePreopened(): Pick<EarlySessions, "take" | "cancelRest"> | undefined {
  const g = globalThis as Record<symbol, unknown>;
  const early = g[SLOT] as Pick<EarlySessions, "take" | "cancelRest"> | undefined;
  delete g[SLOT];
  return early;
}
