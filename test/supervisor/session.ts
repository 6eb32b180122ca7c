import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScriptResult } from "../support/shells.js";

/**
 * A sandbox that lives across commands (test/support/sandbox.ts mounts a
 * fresh overlay per command, which cannot hold a daemon between runs): an
 * overlay of `/` in a private mount namespace, held open by a `sleep`
 * process; every command enters it with nsenter + chroot. Daemons started
 * inside keep running between commands and share the machine's network
 * (tests reach them on 127.0.0.1). `shared` (a host directory) is
 * bind-mounted at /depc-test, so the test can hand in bundles while the
 * overlay is mounted. Needs root.
 */
export class Session {
  readonly dir = mkdtempSync(join(tmpdir(), "depc-sv-"));
  readonly upper = join(this.dir, "upper");
  readonly shared = join(this.dir, "shared");
  private readonly merged = join(this.dir, "merged");
  private holder: ChildProcess | undefined;

  async start(): Promise<void> {
    const work = join(this.dir, "work");
    for (const d of [this.upper, work, this.merged, this.shared]) mkdirSync(d, { mode: 0o755 });
    const setup = [
      'mount -t overlay overlay -o "lowerdir=/,upperdir=$1,workdir=$2" "$3"',
      'mount --rbind /dev "$3/dev"',
      'mount -t proc proc "$3/proc"',
      'mount -t tmpfs tmpfs "$3/run"',
      'mkdir -p "$3/depc-test"',
      'mount --bind "$4" "$3/depc-test"',
      "echo ready",
      "exec sleep 100000",
    ].join(" && ");
    const holder = spawn("unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", setup, "session", this.upper, work, this.merged, this.shared], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.holder = holder;
    await new Promise<void>((resolve, reject) => {
      let err = "";
      holder.stderr!.on("data", (d) => (err += d));
      holder.stdout!.on("data", (d) => String(d).includes("ready") && resolve());
      holder.on("exit", (code) => reject(new Error(`sandbox setup failed (${code}): ${err}`)));
    });
  }

  /** Runs argv as root inside the sandbox. */
  exec(argv: readonly string[], env: Readonly<Record<string, string>> = {}, timeoutMs = 120_000): ScriptResult {
    const vars = Object.entries({ PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", ...env }).map(([k, v]) => `${k}=${v}`);
    const r = spawnSync("nsenter", ["-t", String(this.holder!.pid), "-m", "--", "chroot", this.merged, "/usr/bin/env", ...vars, ...argv], {
      encoding: "utf8",
      timeout: timeoutMs,
    });
    if (r.error) throw r.error;
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  }

  /** {@link exec} without blocking the event loop, for long runs (a blocked vitest worker misses its RPC deadlines). */
  execAsync(argv: readonly string[], env: Readonly<Record<string, string>> = {}, timeoutMs = 120_000): Promise<ScriptResult> {
    const vars = Object.entries({ PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", ...env }).map(([k, v]) => `${k}=${v}`);
    const child = spawn("nsenter", ["-t", String(this.holder!.pid), "-m", "--", "chroot", this.merged, "/usr/bin/env", ...vars, ...argv], {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
    });
  }

  /** Runs argv inside the sandbox as `user` (groups and HOME from /etc/passwd). */
  execAs(user: string, argv: readonly string[], env: Readonly<Record<string, string>> = {}): ScriptResult {
    const home = this.exec(["sh", "-c", 'getent passwd "$1" | cut -d: -f6', "sh", user]).stdout.trim();
    const vars = Object.entries({ HOME: home, USER: user, ...env }).map(([k, v]) => `${k}=${v}`);
    return this.exec(["setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", "/usr/bin/env", ...vars, ...argv]);
  }

  /** A file of the sandbox as the host sees it (its upper layer), or undefined. */
  read(path: string): string | undefined {
    const p = join(this.upper, path);
    return existsSync(p) ? readFileSync(p, "utf8") : undefined;
  }

  /** Stops the daemon whose pidfile is `pidfile` (a sandbox path) by its pid and waits until it is gone. */
  async stopDaemon(pidfile: string): Promise<void> {
    const read = this.exec(["cat", pidfile]);
    const pid = read.status === 0 ? Number(read.stdout.trim()) : NaN;
    if (!Number.isInteger(pid) || pid <= 1) return;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return;
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }

  async stop(): Promise<void> {
    const holder = this.holder;
    if (holder !== undefined && holder.exitCode === null) {
      const gone = new Promise((r) => holder.once("exit", r));
      holder.kill("SIGTERM");
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A TCP port on 127.0.0.1 that is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** GET http://127.0.0.1:PORT/PATH: the body, or undefined when nothing answers. */
export async function httpGet(port: number, path = "/"): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    return await response.text();
  } catch {
    return undefined;
  }
}
