// Sessions opened before the build: a deploy of an environment whose build
// is cached costs the build (Node's start, the cache check) plus the ssh
// handshake; the handshake does not depend on the bundles, so it runs while
// the model is built.
//
// The hosts are those of the environment's previous build (its
// manifest.json): a guess. A session opened from it is used only when the
// new build has that host with the same ssh target and the same remote
// command (mode, sudo, state dir); any other is cancelled unused, and a host
// without one opens its own at its turn (run.ts). Nothing runs on a host
// before its bundle arrives (the bootstrap waits for its program line), so
// a guess that turns out wrong costs an idle connection, never a change:
// order, lock, skips and failure causes are those of run.ts's sessions. The
// bundle's size, unknown when the session opens, comes on stdin after the
// program line (SIZE_ON_STDIN).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { locateEnvironment } from "../../compiler/load/locate.js";
import { remoteCommand, SIZE_ON_STDIN } from "./remote.js";
import { runSsh, sshArgv, type RunHandle, type SshSettings, type SshTarget } from "./ssh.js";

/** An opened session: its handle and the nonce its markers carry. */
export interface EarlySession {
  readonly handle: RunHandle;
  readonly nonce: string;
}

export interface EarlyOptions {
  readonly jobs: number;
  readonly limit: readonly string[];
  readonly skip: readonly string[];
  readonly user?: string;
  readonly sudo: boolean;
  readonly ssh: SshSettings;
  /** The bundle's arguments (--check, --quiet, --state-dir). */
  readonly bundleArgs: readonly string[];
}

interface Opened extends EarlySession {
  readonly key: string;
}

/** What must be equal for a session to be used: ssh's whole command line (its config and options too), the bundle's arguments, sudo. */
const keyOf = (target: SshTarget, settings: SshSettings, bundleArgs: readonly string[], sudo: boolean) => JSON.stringify([sshArgv(target, settings, ""), bundleArgs, sudo]);

/** The sessions opened early, by host name. */
export class EarlySessions {
  private readonly sessions = new Map<string, Opened>();

  /** Opens one session per host of `manifestFile` (at most --jobs, earlier waves first); none when it cannot be read. */
  static open(manifestFile: string, options: EarlyOptions): EarlySessions {
    const early = new EarlySessions();
    let manifest: { hosts?: { name?: unknown; address?: unknown; user?: unknown; port?: unknown }[]; waves?: unknown };
    try {
      manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    } catch {
      return early;
    }
    if (!Array.isArray(manifest?.hosts)) return early;
    const waveOf = new Map<string, number>();
    if (Array.isArray(manifest.waves)) manifest.waves.forEach((w, i) => Array.isArray(w) && w.forEach((h) => typeof h === "string" && waveOf.set(h, i)));
    // The same checks as readBuild's (source.ts): nothing but a plain name, address, user and port reaches ssh.
    const SAFE = /^[^\s\-\x00-\x1f\x7f][^\s\x00-\x1f\x7f]*$/;
    const hosts = manifest.hosts
      .filter(
        (h) =>
          typeof h?.name === "string" &&
          typeof h.address === "string" &&
          SAFE.test(h.address) &&
          (h.user === undefined || (typeof h.user === "string" && SAFE.test(h.user))) &&
          (h.port === undefined || (Number.isInteger(h.port) && (h.port as number) >= 1 && (h.port as number) <= 65535)),
      )
      .filter((h) => (options.limit.length === 0 || options.limit.includes(h.name as string)) && !options.skip.includes(h.name as string))
      .sort((a, b) => (waveOf.get(a.name as string) ?? 0) - (waveOf.get(b.name as string) ?? 0))
      .slice(0, Math.max(1, options.jobs));
    for (const h of hosts) {
      const user = options.user ?? (h.user as string | undefined);
      const target: SshTarget = { address: h.address as string, ...(user !== undefined ? { user } : {}), ...(h.port !== undefined ? { port: h.port as number } : {}) };
      const nonce = randomBytes(12).toString("hex");
      const handle = runSsh(target, options.ssh, remoteCommand([nonce, SIZE_ON_STDIN, ...options.bundleArgs], options.sudo), nonce, { sudo: options.sudo });
      early.sessions.set(h.name as string, { handle, nonce, key: keyOf(target, options.ssh, options.bundleArgs, options.sudo) });
    }
    return early;
  }

  /** The session of `host` when it was opened for this target and these bundle arguments; it is then the caller's. */
  take(host: string, target: SshTarget, settings: SshSettings, bundleArgs: readonly string[], sudo: boolean): EarlySession | undefined {
    const s = this.sessions.get(host);
    if (s === undefined) return undefined;
    this.sessions.delete(host);
    if (s.key === keyOf(target, settings, bundleArgs, sudo)) return s;
    s.handle.cancel();
    return undefined;
  }

  /** Ends every session not taken (its host is not in the build, or will not run). */
  cancelRest(): void {
    for (const s of this.sessions.values()) s.handle.cancel();
    this.sessions.clear();
  }

  /** Every session not taken yet (Ctrl-C stops them). */
  handles(): RunHandle[] {
    return [...this.sessions.values()].map((s) => s.handle);
  }
}

/** Where bin/depc.js leaves the sessions it opened before loading the CLI (the bundled CLI has its own copy of this module). */
export const EARLY_SESSIONS = Symbol.for("depc.earlySessions");

/**
 * bin/depc.js's head start: the sessions of `depc deploy|plan ARGS`, opened
 * before Node loads the CLI. A small parser of the deploy options; any
 * argument it does not know (or a form it does not take) means no head
 * start, never a different deploy: the CLI parses the arguments again, and
 * a session is used only when its ssh command line, bundle arguments and
 * sudo are exactly the deploy's.
 */
export function openEarlyFromArgv(command: string, args: readonly string[], cwd: string): EarlySessions | undefined {
  if (command !== "deploy" && command !== "plan") return undefined;
  const WITH_VALUE = new Map([
    ["--from", "from"], ["--out", "out"], ["-j", "jobs"], ["--jobs", "jobs"], ["--limit", "limit"], ["--skip", "skip"], ["--user", "user"],
    ["-o", "sshOption"], ["--ssh-option", "sshOption"], ["-F", "sshConfig"], ["--ssh-config", "sshConfig"], ["--state-dir", "stateDir"],
    ["--timeout", "timeout"], ["--eval-timeout", "ignored"], ["--json", "ignored"], ["--identity", "ignored"],
  ]);
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  let sudo = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) {
      positional.push(a);
      continue;
    }
    if (a === "--sudo") sudo = true;
    else if (a === "--cache" || a === "--no-cache") continue;
    else {
      const eq = a.startsWith("--") ? a.indexOf("=") : -1;
      const name = WITH_VALUE.get(eq > 0 ? a.slice(0, eq) : a);
      if (name === undefined) return undefined;
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined || (eq < 0 && value.startsWith("-"))) return undefined;
      values.set(name, [...(values.get(name) ?? []), value]);
    }
  }
  const one = (name: string) => {
    const v = values.get(name);
    return v === undefined ? undefined : v.length === 1 ? v[0] : null;
  };
  const list = (name: string) => (values.get(name) ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
  const [from, out, jobsText, user, sshConfig, stateDir, timeoutText] = ["from", "out", "jobs", "user", "sshConfig", "stateDir", "timeout"].map(one);
  if ([from, out, jobsText, user, sshConfig, stateDir, timeoutText].includes(null) || positional.length > 1) return undefined;
  const jobs = jobsText === undefined ? 8 : Number(jobsText);
  const timeout = timeoutText === undefined ? undefined : Number(timeoutText);
  if (!Number.isInteger(jobs) || jobs < 1 || (timeout !== undefined && !(timeout > 0))) return undefined;
  let dir: string;
  if (from !== undefined) dir = resolve(cwd, from!);
  else if (positional[0] !== undefined) {
    const located = locateEnvironment(positional[0], cwd);
    if (located === undefined) return undefined;
    dir = out !== undefined ? resolve(cwd, out!) : join(located.projectRoot, "build", located.defaultName);
  } else return undefined;
  return EarlySessions.open(join(dir, "manifest.json"), {
    jobs,
    limit: list("limit"),
    skip: list("skip"),
    ...(user !== undefined ? { user: user! } : {}),
    sudo,
    ssh: { options: values.get("sshOption") ?? [], ...(sshConfig !== undefined ? { configFile: sshConfig! } : {}), ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}) },
    bundleArgs: [...(command === "plan" ? ["--check"] : []), "--quiet", ...(stateDir !== undefined ? ["--state-dir", stateDir!] : [])],
  });
}
