import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScriptResult, Shell } from "./shells.js";
import { which } from "./shells.js";

/**
 * A throwaway copy of this machine's root filesystem for running bundles
 * that write to absolute paths (/srv, /etc): an overlay with `/` below and
 * a private upper directory above, mounted in a private mount namespace and
 * entered with chroot. Every write lands in `upper`; the machine is
 * untouched. Needs root (CI runs as root).
 */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), "depc-sandbox-"));
  readonly upper = join(this.dir, "upper");
  private readonly work = join(this.dir, "work");
  private readonly merged = join(this.dir, "merged");

  constructor() {
    for (const d of [this.upper, this.work, this.merged]) mkdirSync(d);
  }

  /** Why sandboxes cannot run here, or undefined when they can. */
  static unavailable(): string | undefined {
    if (process.getuid?.() !== 0) return "needs root (run the tests as root, as CI does)";
    if (which("unshare") === undefined || which("chroot") === undefined) return "needs unshare and chroot (util-linux, coreutils)";
    return undefined;
  }

  /** Runs `script args...` under `shell` inside the sandbox. */
  run(shell: Shell, script: string, args: readonly string[] = [], env: Readonly<Record<string, string>> = {}): ScriptResult {
    return this.exec([...shell.argv, script, ...args], { ...env, ...shell.env });
  }

  /** Runs a command inside the sandbox. */
  exec(argv: readonly string[], env: Readonly<Record<string, string>> = {}): ScriptResult {
    const setup = [
      'mount -t overlay overlay -o "lowerdir=/,upperdir=$1,workdir=$2" "$3"',
      'mount --rbind /dev "$3/dev"',
      'mount -t proc proc "$3/proc"',
      'mount -t tmpfs tmpfs "$3/run"',
      'root=$3; shift 3',
      'exec chroot "$root" "$@"',
    ].join(" && ");
    const result = spawnSync(
      "unshare",
      ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", setup, "sandbox", this.upper, this.work, this.merged, ...argv],
      { env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 },
    );
    if (result.error) throw result.error;
    return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
