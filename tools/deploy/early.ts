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
import { join } from "node:path";
import { remoteCommand, SIZE_ON_STDIN } from "./remote.js";
import { runSsh, sshArgv, type RunHandle, type SshSettings, type SshTarget } from "./ssh.js";
import { trace } from "./trace.js";

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
    trace("early: previous manifest read");
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
      const handle = runSsh(target, options.ssh, remoteCommand([nonce, SIZE_ON_STDIN, ...options.bundleArgs], options.sudo), nonce, { sudo: options.sudo, label: h.name as string });
      early.sessions.set(h.name as string, { handle, nonce, key: keyOf(target, options.ssh, options.bundleArgs, options.sudo) });
    }
    trace(`early: ${hosts.length} sessions spawned`);
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
}
