// The host side of `depc deploy`: the small sh programs that ssh runs there.
//
// Transport: one ssh session per host, the bundle streamed over the
// session's stdin. The remote command is `sh -c '<program>' depc <args>`;
// the program saves stdin to a private temp file (checking its size), runs
// it with `sh`, then prints the bundle's exit status and its --report on
// stdout between marker lines that carry a per-run random nonce, so nothing
// the bundle prints (diffs of host files included) can be taken for one.
//
// The programs are one line each, with no `'`, `!` or `\\`, so they survive
// any login shell sshd runs them with (sh, bash, zsh, fish, csh -c), and
// they use only POSIX sh and tools every bundle needs anyway (mktemp, cat,
// wc, tr, rm).

/** Marker lines: `@@<nonce> <word> [text]`. */
export type MarkerWord = "begin" | "fail" | "run" | "exit" | "report" | "end" | "state" | "kept" | "log" | "choose";

/** POSIX sh single-quoting of one word. */
export function shQuote(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

// Shared pieces. `m` prints a marker line; `c` cleans up; signals end the
// program through the EXIT trap.
const PRELUDE = [
  `m() { printf "@@%s %s\\n" "$n" "$*"; }`,
  `c() { [ -z "$d" ] || rm -rf "$d"; }`,
  `d=`,
  `trap c EXIT`,
  `trap "exit 129" HUP`,
  `trap "exit 130" INT`,
  `trap "exit 143" TERM`,
  // The directory is private (0700); the umask is left alone: the bundle inherits it.
  `t=\${TMPDIR:-/tmp}`,
  `d=$(mktemp -d "$t/depc-run.XXXXXX" 2>/dev/null) || { d=$t/depc-run.$$; mkdir -m 700 "$d" 2>/dev/null || { d=; m fail tmp cannot create a private directory in "$t"; exit 71; }; }`,
];

// Runs "$d/b.sh" with the remaining arguments and --report, then hands back
// exit status and report.
const RUN = [
  `m run`,
  `sh "$d/b.sh" "$@" --report "$d/r" </dev/null`,
  `s=$?`,
  `m exit "$s"`,
  `if [ -f "$d/r" ]; then m report; cat "$d/r"; fi`,
  `m end`,
  `exit "$s"`,
];

/**
 * Deploy/plan: `sh -c PROGRAM depc NONCE SIZE [BUNDLE ARGS...]` with the
 * bundle on stdin.
 */
export const RUN_PROGRAM = [
  `n=$1`,
  `z=$2`,
  `shift 2`,
  ...PRELUDE,
  `m begin`,
  // cat's message goes through a pipe: a file beside the upload may not fit either (disk full).
  `if e=$(cat 2>&1 >"$d/b.sh"); then :; else m fail upload "$(printf %s "$e" | tr "\\n" " ")"; exit 72; fi`,
  `k=$(wc -c <"$d/b.sh" | tr -d " ")`,
  `if [ "$k" = "$z" ]; then :; else m fail truncated "$k" of "$z" bytes arrived; exit 72; fi`,
  ...RUN,
].join("; ");

/**
 * Rollback: `sh -c PROGRAM depc NONCE ENV STATE_DIR [BUNDLE ARGS...]` (STATE_DIR
 * may be empty: the runtime's default).
 * Lists the kept bundles (newest first) and the tail of runs.log, asks for a
 * digest on stdin (an empty line: none), copies that kept bundle to a temp
 * file and runs it like a deploy.
 */
export const ROLLBACK_PROGRAM = [
  `n=$1`,
  `e=$2`,
  `s=$3`,
  `shift 3`,
  ...PRELUDE,
  `m begin`,
  // The runtime's rule (runtime-sh/state.sh): --state-dir, DEPC_STATE_DIR, /var/lib/depc/ENV as root, else the XDG state home.
  `if [ -z "$s" ]; then s=\${DEPC_STATE_DIR:-}; fi`,
  `if [ -z "$s" ]; then if [ "$(id -u)" = 0 ]; then s=/var/lib/depc/$e; else s=\${XDG_STATE_HOME:-$HOME/.local/state}/depc/$e; fi; fi`,
  `m state "$s"`,
  `m kept`,
  `if [ -d "$s/bundles" ]; then (cd "$s/bundles" && ls -t); fi`,
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
].join("; ");

/** The command line ssh sends: `[sudo -n --] sh -c 'PROGRAM' depc ARGS...`. */
export function remoteCommand(program: string, args: readonly string[], sudo: boolean): string {
  if (/['!\n]/.test(program) || program.includes("\\\\")) throw new Error("remote program must not contain ', !, \\\\ or a newline");
  return [...(sudo ? ["sudo", "-n", "--"] : []), "sh", "-c", `'${program}'`, "depc", ...args.map(shQuote)].join(" ");
}
