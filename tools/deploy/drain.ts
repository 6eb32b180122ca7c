// Drain: takes a host's instance out of a load balancer before its bundle
// runs and puts it back after, by running a small program over ssh on the
// load balancer's host (the manifest's `drains`, from require(key, { drain })).
//
// The programs follow remote.ts's protocol (program on stdin's first line,
// markers with a per-run nonce), so classify.ts explains an ssh failure the
// same way as for a bundle. Data (socket, names, argv) are arguments, never
// program text. Their one result line, `ok TEXT`, `skip TEXT` or `fail
// TEXT`, comes before the exit marker.
//
// HAProxy: its runtime API on the admin socket. Debian's haproxy package
// configures `stats socket /run/haproxy/admin.sock mode 660 level admin`,
// but ships no client for it: the program uses socat, else an `nc` that
// has -U (OpenBSD netcat); without either it fails naming both.
// `set server B/S state drain` stops new sessions; then `show stat` is
// polled until the server's current sessions (scur, field 5) are 0.
// No admin socket, or a backend or server HAProxy does not know (yet), is
// "skip": an instance that is not in rotation needs no draining (the first
// deploy, before HAProxy is configured).
import { randomBytes } from "node:crypto";
import type { ManifestDrain } from "../../compiler/emit/manifest.js";
import { programLine, remoteCommand } from "./remote.js";
import { runSsh, type RunHandle, type SshSettings, type SshTarget } from "./ssh.js";

export type DrainAction = "leave" | "back";

export interface DrainResult {
  readonly via: string;
  readonly action: DrainAction;
  readonly adapter: ManifestDrain["adapter"];
  /** ok: done; skip: nothing to do (not in rotation); fail: the host's deploy fails. */
  readonly outcome: "ok" | "skip" | "fail";
  /** One line, bytes from the host included (shown escaped by the printer). */
  readonly message: string;
  readonly startedAtMs: number;
  readonly durationMs: number;
}

const MARK = `m() { printf "@@%s %s\\n" "$n" "$*"; }`;

/** `sh -c PROGRAM depc NONCE SOCKET BACKEND SERVER drain|ready TIMEOUT`. */
export const HAPROXY_PROGRAM = [
  `n=$1`,
  `k=$2`,
  `b=$3`,
  `v=$4`,
  `a=$5`,
  `w=$6`,
  MARK,
  `m begin`,
  `m run`,
  `ask() { if command -v socat >/dev/null 2>&1; then printf "%s\\n" "$1" | socat -t 5 - "UNIX-CONNECT:$k" 2>&1; elif command -v nc >/dev/null 2>&1 && nc -h 2>&1 | grep -q -e " -U"; then printf "%s\\n" "$1" | nc -U "$k" 2>&1; else echo "needs socat (or an nc with -U) to talk to HAProxy's admin socket; neither is installed"; return 127; fi; }`,
  `finish() { m exit "$1"; m end; exit "$1"; }`,
  `if [ ! -S "$k" ]; then echo "skip no HAProxy admin socket at $k"; finish 0; fi`,
  `o=$(ask "set server $b/$v state $a") || { echo "fail $(printf %s "$o" | tr "\\n" " ")"; finish 1; }`,
  `o=$(printf %s "$o" | tr "\\n" " " | sed "s/ *$//")`,
  `case $o in "") ;; *"No such"*) echo "skip HAProxy answered: $o"; finish 0 ;; *) echo "fail HAProxy answered: $o"; finish 1 ;; esac`,
  `if [ "$a" = ready ]; then echo "ok $b/$v is ready"; finish 0; fi`,
  // Polled every 0.2 s where sleep takes fractions (GNU, busybox), else every second.
  `t0=$(date +%s)`,
  `while :; do c=$(ask "show stat $b 4 -1" | awk -F, -v b="$b" -v s="$v" '$1 == b && $2 == s { print $5 }'); if [ "$c" = 0 ]; then echo "ok $b/$v drained ($(( $(date +%s) - t0 ))s)"; finish 0; fi; if [ $(( $(date +%s) - t0 )) -ge "$w" ]; then echo "fail $b/$v still has \${c:-?} sessions after \${w}s"; finish 1; fi; sleep 0.2 2>/dev/null || sleep 1; done`,
].join("; ");

/** `sh -c PROGRAM depc NONCE ARGV...`: runs the command, its output (last 5 lines) in the result line. */
export const COMMAND_PROGRAM = [
  `n=$1`,
  `shift`,
  MARK,
  `m begin`,
  `m run`,
  `o=$("$@" 2>&1 </dev/null)`,
  `s=$?`,
  `o=$(printf %s "$o" | tail -n 5 | tr "\\n" " " | sed "s/ *$//")`,
  `if [ "$s" = 0 ]; then echo "ok $o"; else echo "fail exit $s\${o:+: $o}"; fi`,
  `m exit "$s"`,
  `m end`,
  `exit "$s"`,
].join("; ");

export interface DrainRunContext {
  readonly target: (host: string) => SshTarget;
  readonly ssh: SshSettings;
  readonly sudo: boolean;
  readonly handles: Set<RunHandle>;
  readonly clock: () => number;
}

/** Runs one drain step on its load balancer's host. */
export async function runDrain(step: ManifestDrain, action: DrainAction, ctx: DrainRunContext): Promise<DrainResult> {
  const nonce = randomBytes(12).toString("hex");
  const args =
    step.adapter === "haproxy"
      ? [nonce, step.socket, step.backend, step.server, action === "leave" ? "drain" : "ready", String(step.timeoutSeconds)]
      : [nonce, ...(action === "leave" ? step.leave : step.back)];
  const program = step.adapter === "haproxy" ? HAPROXY_PROGRAM : COMMAND_PROGRAM;
  const t0 = ctx.clock();
  const lines: string[] = [];
  const handle = runSsh(ctx.target(step.via), { ...ctx.ssh, timeoutSeconds: step.timeoutSeconds + 15 }, remoteCommand(args, ctx.sudo), nonce, {
    input: programLine(program),
    sudo: ctx.sudo,
    events: { output: (line) => lines.push(line) },
  });
  ctx.handles.add(handle);
  const { outcome } = await handle.done;
  ctx.handles.delete(handle);
  const base = { via: step.via, action, adapter: step.adapter, startedAtMs: Math.round(t0), durationMs: Math.round(ctx.clock() - t0) };
  if (!outcome.ran) return { ...base, outcome: "fail", message: outcome.cause.message };
  const last = lines.filter((l) => /^(ok|skip|fail)( |$)/.test(l)).at(-1) ?? `fail exit ${outcome.exit} without a result line`;
  const [word, ...rest] = last.split(" ");
  const result = outcome.exit === 0 ? (word === "skip" ? "skip" : "ok") : "fail";
  return { ...base, outcome: result, message: rest.join(" ") };
}

/** The line printed for a step: `lb1: apps/app1 drained (0s)`. */
export function drainLine(r: DrainResult): string {
  const what = r.action === "leave" ? "leave" : "back";
  if (r.outcome === "fail") return `${r.via}: ${what} failed: ${r.message}`;
  if (r.outcome === "skip") return `${r.via}: ${what}: nothing to do (${r.message})`;
  return `${r.via}: ${r.message || `${what} done`}`;
}
