// The host side of `depc deploy`: the small sh programs that ssh runs there.
//
// Transport: one ssh session per host. The remote command is the constant
// `sh -c 'IFS= read -r p; eval "$p"' depc ARGS...` (see remoteCommand); the
// session's stdin carries the program (its first line, which `read` consumes
// byte by byte, leaving the rest), then the bundle. So the program is never
// parsed by the user's login shell, whatever it is (sh, bash, zsh, fish, csh).
// The program saves exactly SIZE bytes of stdin to a private temp dir, runs
// it with `sh`, then prints the bundle's exit status and its --report on
// stdout between marker lines that carry a per-run random nonce, so nothing
// the bundle prints (diffs of host files included) can be taken for one.
// It uses only POSIX sh and tools every host has (mktemp, head, wc, tr, cat,
// kill, rm, sleep, find), plus `setsid` where there is one (Linux, busybox)
// and `test -O` (posh has none: it then leaves earlier runs' dirs).
//
// The upload holds the whole bundle, secrets included: it must not outlive
// the run, however the run ends (issue 13, finding 3).
// - Its directory, $TMPDIR/depc-run.PID.XXXXXX (0700), is removed by the
//   EXIT trap; HUP, INT, TERM and PIPE (a marker written after the
//   connection went away) end the program through it.
// - What a SIGKILL leaves is removed by the next run: at its start, every
//   depc-run.PID.* of this user whose PID is gone (and a day-old
//   depc-run.XXXXXX, the name before the PID was in it).
// - When depc goes away (stdin's EOF: depc stopped, --timeout, the ssh
//   client or the sshd session killed, the connection closed), the bundle is
//   stopped at once: TERM to its process group (its own, through setsid), so
//   a long command of the bundle ends too and the runtime's trap releases
//   the lock; KILL after STOP_GRACE_SECONDS if it is still there.

import { shellQuote } from "../../compiler/emit/quote.js";

/** Marker lines: `@@<nonce> <word> [text]`. */
export type MarkerWord = "begin" | "fail" | "run" | "exit" | "report" | "end" | "state" | "kept" | "order" | "log" | "choose";

/** How long a bundle has to stop after TERM once depc is gone, before KILL. depc's messages quote it. */
export const STOP_GRACE_SECONDS = 10;

// Shared pieces. `m` prints a marker line; `c` cleans up: signals are ignored
// from then on (nothing interrupts it), a bundle still running is stopped
// and waited for, then the upload directory goes.
const PRELUDE = [
  `m() { printf "@@%s %s\\n" "$n" "$*"; }`,
  `c() { trap "" HUP INT TERM PIPE; if [ -n "$p" ]; then kill -TERM "$q" 2>/dev/null; kill -TERM "$p" 2>/dev/null; wait "$p"; fi; [ -z "$d" ] || rm -rf "$d"; }`,
  `d=`,
  `p=`,
  `q=`,
  `trap c EXIT`,
  `trap "exit 129" HUP`,
  `trap "exit 130" INT`,
  `trap "exit 143" TERM`,
  // Trapped, not ignored: a trap does not pass to the bundle, and the default would end the program without its EXIT trap.
  `trap "exit 141" PIPE`,
  // The directory is private (0700); the umask is left alone: the bundle inherits it.
  `t=\${TMPDIR:-/tmp}`,
  // Leftovers of earlier runs: depc-run.PID.XXXXXX whose PID is gone (SIGKILL), and a day-old
  // upload of depc versions before the PID was in the name (depc-run.XXXXXX holding b.sh).
  // Only this user's (-O): root must not delete a tree that another user can change under it.
  `for x in "$t"/depc-run.*; do if [ -d "$x" ] && [ ! -L "$x" ] && [ -O "$x" ]; then y=\${x#"$t"/depc-run.}; case $y in [0-9]*.*) y=\${y%%.*}; case $y in *[!0-9]*) ;; *) kill -0 "$y" 2>/dev/null || rm -rf "$x" 2>/dev/null ;; esac ;; ??????) if [ -f "$x/b.sh" ] && [ -n "$(find "$x" -prune -mtime +0 2>/dev/null)" ]; then rm -rf "$x" 2>/dev/null; fi ;; esac; fi; done`,
  `d=$(mktemp -d "$t/depc-run.$$.XXXXXX" 2>/dev/null) || { d=$t/depc-run.$$.0; mkdir -m 700 "$d" 2>/dev/null || { d=; m fail tmp cannot create a private directory in "$t"; exit 71; }; }`,
];

// Runs "$d/b.sh" with the remaining arguments and --report, then hands back
// exit status and report. depc keeps the session's stdin open until it has
// read the end marker: a watcher waits for its EOF (depc stopped, Ctrl-C, the
// connection dropped) and then stops the bundle (TERM to its process group,
// KILL STOP_GRACE_SECONDS later), so no run goes on unattended. The bundle
// runs in the background for that (its stdin is /dev/null), in a session of
// its own where setsid exists (q: the group, else the bundle alone). A
// process group is only ever signalled by a shell's builtin kill: an external
// one may misread "-PID" (procps' kill takes "-84" for kill(-8), "-1234" for
// kill(-1): every process). The bundle's pid is signalled too: the group
// does not exist until setsid has run. `(exec ...) &`: $! is then the
// bundle itself in every shell (yash keeps a wrapper process around a plain
// `cmd &`). The watcher is stopped once the bundle has ended.
const RUN = [
  `m run`,
  `exec 3<&0`,
  `if command -v setsid >/dev/null 2>&1 && [ "$(command -v kill)" = kill ]; then (exec setsid sh "$d/b.sh" "$@" --report "$d/r" </dev/null 3<&-) & p=$!; q=-$p; else (exec sh "$d/b.sh" "$@" --report "$d/r" </dev/null 3<&-) & p=$!; q=$p; fi`,
  `(cat <&3 >/dev/null 2>&1; kill -TERM "$q" 2>/dev/null; kill -TERM "$p" 2>/dev/null; sleep ${STOP_GRACE_SECONDS}; kill -KILL "$q" 2>/dev/null; kill -KILL "$p" 2>/dev/null) >/dev/null 2>&1 &`,
  `w=$!`,
  `exec 3<&-`,
  `wait "$p"`,
  `s=$?`,
  `p=`,
  `kill "$w" 2>/dev/null`,
  `m exit "$s"`,
  `if [ -f "$d/r" ]; then m report; cat "$d/r"; fi`,
  `m end`,
  `exit "$s"`,
];

/** One line: statements joined with "; " (none after a background "&"). */
const oneLine = (statements: readonly string[]) => statements.map((st, i) => (i === statements.length - 1 ? st : st.endsWith("&") ? `${st} ` : `${st}; `)).join("");

/**
 * Deploy/plan: `sh -c PROGRAM depc NONCE SIZE [BUNDLE ARGS...]` with the
 * bundle on stdin. SIZE `-`: the size is the line of stdin after the program
 * (a session opened before the bundle was built, see {@link SIZE_ON_STDIN}).
 */
export const RUN_PROGRAM = oneLine([
  `n=$1`,
  `z=$2`,
  `shift 2`,
  ...PRELUDE,
  `m begin`,
  `if [ "$z" = - ]; then IFS= read -r z || z=; fi`,
  `case $z in ""|*[!0-9]*) m fail upload bad size; exit 72 ;; esac`,
  // Exactly SIZE bytes (stdin stays open, see RUN); head's message goes through a pipe: a file beside the upload may not fit either (disk full).
  `if e=$(head -c "$z" 2>&1 >"$d/b.sh"); then :; else m fail upload "$(printf %s "$e" | tr "\\n" " ")"; exit 72; fi`,
  // wc's number without its padding (BSD pads it), by the shell: no `| tr` (two processes per run).
  `k=$(wc -c <"$d/b.sh")`,
  `k=\${k#"\${k%%[0-9]*}"}`,
  `if [ "$k" = "$z" ]; then :; else m fail truncated "$k" of "$z" bytes arrived; exit 72; fi`,
  ...RUN,
]);

/**
 * Rollback: `sh -c PROGRAM depc NONCE ENV STATE_DIR [BUNDLE ARGS...]` (STATE_DIR
 * may be empty: the runtime's default).
 * Lists the kept bundles (newest first), bundles/.order and the tail of runs.log, asks for a
 * digest on stdin (an empty line: none), copies that kept bundle to a temp
 * file and runs it like a deploy.
 */
export const ROLLBACK_PROGRAM = oneLine([
  `n=$1`,
  `e=$2`,
  `s=$3`,
  `shift 3`,
  ...PRELUDE,
  `m begin`,
  // The runtime's rule (runtime/state.sh): --state-dir, DEPC_STATE_DIR, /var/lib/depc/ENV as root, else the XDG state home.
  `if [ -z "$s" ]; then s=\${DEPC_STATE_DIR:-}; fi`,
  `if [ -z "$s" ]; then if [ "$(id -u)" = 0 ]; then s=/var/lib/depc/$e; else s=\${XDG_STATE_HOME:-$HOME/.local/state}/depc/$e; fi; fi`,
  `m state "$s"`,
  `m kept`,
  `if [ -d "$s/bundles" ]; then (cd "$s/bundles" && ls -t); fi`,
  `m order`,
  `if [ -f "$s/bundles/.order" ]; then cat "$s/bundles/.order"; fi`,
  `m log`,
  `if [ -f "$s/runs.log" ]; then tail -n 100 "$s/runs.log"; fi`,
  `m choose`,
  `x=`,
  `read -r x`,
  `if [ -z "$x" ]; then m end; exit 0; fi`,
  `if [ -n "$(printf %s "$x" | tr -d 0-9a-f)" ]; then m fail choice bad digest; exit 73; fi`,
  `if [ -f "$s/bundles/$x.sh" ]; then :; else m fail missing "$s/bundles/$x.sh"; exit 73; fi`,
  `if e=$(cp "$s/bundles/$x.sh" "$d/b.sh" 2>&1); then :; else m fail upload "$(printf %s "$e" | tr "\\n" " ")"; exit 72; fi`,
  ...RUN,
]);

/** RUN_PROGRAM's SIZE argument when the size comes on stdin, after the program line. */
export const SIZE_ON_STDIN = "-";

/** What the user's login shell runs: reads the program from stdin's first line. */
export const BOOTSTRAP = `sh -c 'IFS= read -r p; eval "$p"'`;

/** The command line ssh sends: `[sudo -n --] sh -c '...' depc ARGS...`. */
export function remoteCommand(args: readonly string[], sudo: boolean): string {
  return [...(sudo ? ["sudo", "-n", "--"] : []), BOOTSTRAP, "depc", ...args.map(shellQuote)].join(" ");
}

/** The first line of stdin: the program. */
export function programLine(program: string): string {
  if (program.includes("\n")) throw new Error("a remote program is one line");
  return `${program}\n`;
}
