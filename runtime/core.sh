# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: entry point, step dispatch, messages and cleanup.
# Dialect: POSIX sh plus `local` (dash, bash --posix, busybox sh, mksh,
# yash, posh). This file holds function definitions and comments only: the
# compiler copies the functions a bundle calls (see runtime/README.md).

# Entry point: depc_main "$@". Parses options, prepares the private temp
# dir, collects facts, runs the preflight, runs every resource, prints the
# summary and exits (0 converged / nothing to do, 1 failure, 2 changes
# pending in --check, 64 usage error).
# shellcheck disable=SC2034 # sets globals read by other functions
depc_main() {
  LC_ALL=C
  export LC_ALL
  depc_mode=apply
  depc_quiet=0
  depc_report_file=
  depc_state_dir=${DEPC_STATE_DIR:-}
  depc_nl='
'
  depc_owed=$depc_nl
  depc_owe_new=$depc_nl
  depc_tmp=
  depc_inflight=
  depc_inflight_dir=
  depc_stage_dirs=$depc_nl
  depc_staging=
  depc_staging_stopped=0
  depc_batch_n=0
  depc_run_id=
  depc_facts_valid=1
  depc_todo=
  depc_n_ok=0
  depc_n_changed=0
  depc_n_would=0
  depc_n_failed=0
  depc_keep=5
  depc_lock_held=0
  depc_run_since=-
  depc_run_user=
  depc_bundle_digest=-
  while [ $# -gt 0 ]; do
    case $1 in
      --check) depc_mode=check ;;
      --quiet | -q) depc_quiet=1 ;;
      --report)
        if [ $# -lt 2 ] || [ -z "$2" ]; then
          depc_usage_error "option '--report' needs a file name"
        fi
        depc_report_file=$2
        shift
        ;;
      --report=*)
        depc_report_file=${1#--report=}
        if [ -z "$depc_report_file" ]; then
          depc_usage_error "option '--report' needs a file name"
        fi
        ;;
      --state-dir)
        if [ $# -lt 2 ] || [ -z "$2" ]; then
          depc_usage_error "option '--state-dir' needs a directory"
        fi
        depc_state_dir=$2
        shift
        ;;
      --state-dir=*)
        depc_state_dir=${1#--state-dir=}
        [ -n "$depc_state_dir" ] || depc_usage_error "option '--state-dir' needs a directory"
        ;;
      --keep)
        [ $# -ge 2 ] || depc_usage_error "option '--keep' needs a number"
        depc_keep=$2
        shift
        ;;
      --keep=*) depc_keep=${1#--keep=} ;;
      --help | -h)
        depc_usage
        exit 0
        ;;
      *) depc_usage_error "unknown option '$1'" ;;
    esac
    shift
  done
  case $depc_keep in
    '' | *[!0-9]*) depc_usage_error "option '--keep' needs a number (of bundles to keep), not '$depc_keep'" ;;
  esac
  depc_tab=$(printf '\t')
  # fd 9: the run's stderr, for messages from traps that fire while a
  # function runs with its stderr redirected.
  exec 9>&2
  depc_probe_tools || exit 1
  trap 'depc_cleanup' EXIT
  trap 'depc_on_signal 129' HUP
  trap 'depc_on_signal 130' INT
  trap 'depc_on_signal 143' TERM
  # A write to a pipe nobody reads any more (the connection went away): by
  # default the shell would die on the spot, without releasing the lock.
  trap 'depc_on_signal 141' PIPE
  depc_tmp_init || exit 1
  depc_state_init || exit 1
  depc_lock_acquire
  case $? in
    0) ;;
    3) exit 3 ;;
    *) exit 1 ;;
  esac
  if [ "$depc_lock_held" = 1 ]; then
    if [ "$depc_mode" = apply ]; then
      depc_keep_bundle
    else
      depc_bundle_digest_of_self
    fi
  fi
  depc_owed_load
  depc_facts
  if ! depc_todo=$(depc_preflight); then
    depc_warn "preflight failed; checking every resource in full"
    depc_facts_valid=0
  fi
  depc_todo=" $depc_todo "
  # What left the model (ledger.sh): processes stopped before the resources
  # run (a renamed program takes over its port), the rest removed after.
  depc_ledger_begin || exit 1
  depc_ledger_remove removals.early
  depc_resources
  depc_ledger_remove removals
  depc_ledger_finish
  depc_finish
}

# Print the usage text to stdout.
# shellcheck disable=SC2016 # $DEPC_STATE_DIR is literal help text
depc_usage() {
  printf 'usage: sh %s.sh [--check] [--quiet] [--report FILE] [--state-dir DIR] [--keep N]\n' "$DEPC_HOST"
  printf '\n'
  printf 'depc %s bundle for host "%s" in environment "%s" (%s resources).\n' \
    "$DEPC_VERSION" "$DEPC_HOST" "$DEPC_ENV" "$DEPC_COUNT"
  printf 'Without options, applies the deployment to this host.\n'
  printf '\n'
  printf 'options:\n'
  printf '  --check        change nothing; report what would change, with diffs\n'
  printf '  --report FILE  also write a JSON-lines report to FILE\n'
  printf '  --state-dir DIR  where this host keeps its depc state (or the DEPC_STATE_DIR\n'
  printf '                 variable; default /var/lib/depc/ENV as root, else\n'
  printf '                 ~/.local/state/depc/ENV); it holds the lock, the kept\n'
  printf '                 bundles and runs.log\n'
  printf '  --keep N       keep the last N applied bundles in the state directory\n'
  printf '                 (default 5), for depc rollback\n'
  printf '  --quiet, -q    do not print the lines of resources that are ok\n'
  printf '  --help, -h     show this help and exit\n'
  printf '\n'
  printf 'exit codes:\n'
  printf '  0   converged (--check: nothing to do)\n'
  printf '  1   a resource failed, or another error\n'
  printf '  2   --check only: changes are pending\n'
  printf '  3   another run of this environment holds the lock (it is named);\n'
  printf '      a lock left by a run that is gone is taken over with a warning\n'
  printf '  64  usage error\n'
}

# depc_usage_error MESSAGE: message and usage on stderr, exit 64.
depc_usage_error() {
  depc_err "$1"
  depc_usage >&2
  exit 64
}

# depc_warn MESSAGE / depc_err MESSAGE: "depc: ENV/HOST: MESSAGE" on stderr.
depc_warn() {
  printf 'depc: %s/%s: warning: %s\n' "$DEPC_ENV" "$DEPC_HOST" "$1" >&2
}

# depc_err MESSAGE: "depc: ENV/HOST: MESSAGE" on stderr (an error, no prefix).
depc_err() {
  printf 'depc: %s/%s: %s\n' "$DEPC_ENV" "$DEPC_HOST" "$1" >&2
}

# depc_need_cmd NAME: fail (return 1) with a message naming the tool and the
# host when NAME is not on PATH.
depc_need_cmd() {
  if command -v "$1" >/dev/null 2>&1; then
    return 0
  fi
  depc_err "required tool '$1' not found on host $DEPC_HOST (PATH=$PATH)"
  return 1
}

# Probe the tools the runtime uses. Sets depc_sha_tool (sha256sum, shasum,
# sha256 or openssl) and depc_stat_flavor (gnu: stat -c, bsd: stat -f).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_probe_tools() {
  local t missing
  missing=0
  for t in cat mv rm mkdir chmod chown chgrp ln readlink mktemp stat awk diff sed tr; do
    depc_need_cmd "$t" || missing=1
  done
  if command -v sha256sum >/dev/null 2>&1; then
    depc_sha_tool=sha256sum
  elif command -v shasum >/dev/null 2>&1; then
    depc_sha_tool=shasum
  elif command -v sha256 >/dev/null 2>&1; then
    depc_sha_tool=sha256
  elif command -v openssl >/dev/null 2>&1; then
    depc_sha_tool=openssl
  else
    depc_err "required tool 'sha256sum' (or 'shasum', 'sha256', 'openssl') not found on host $DEPC_HOST (PATH=$PATH)"
    missing=1
  fi
  [ "$missing" = 0 ] || return 1
  if stat -c '%a' / >/dev/null 2>&1; then
    depc_stat_flavor=gnu
  elif stat -f '%Lp' / >/dev/null 2>&1; then
    depc_stat_flavor=bsd
  else
    depc_err "the 'stat' on host $DEPC_HOST supports neither 'stat -c' nor 'stat -f'"
    return 1
  fi
  return 0
}

# Create the run's private temp dir (mode 0700) in depc_tmp, with the empty
# fact files and the step log. Its name, depc.PID.XXXXXX, carries the run's
# pid, and depc_run_id (PID.XXXXXX) names the run's temp files next to
# targets. Private dirs that runs killed with -9 left in the same TMPDIR
# are removed here (depc_tmp_sweep).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_tmp_init() {
  local base
  base=${TMPDIR:-/tmp}
  if ! depc_tmp=$(mktemp -d "$base/depc.$$.XXXXXX" 2>/dev/null); then
    depc_tmp=$base/depc.$$.x
    if ! depc_cause=$(mkdir -m 700 "$depc_tmp" 2>&1); then
      depc_tmp=
      case $depc_cause in
        *'No space left on device'*) depc_cause='no space left on device' ;;
      esac
      depc_err "cannot create a private temporary directory in $base${depc_cause:+: $depc_cause}"
      return 1
    fi
  fi
  depc_run_id=${depc_tmp##*/depc.}
  # A write, not only empty files: a full disk still lets those be made.
  if ! { : >"$depc_tmp/facts.stat" && : >"$depc_tmp/facts.sha" && : >"$depc_tmp/log" &&
    printf '%s\n' "$$" >"$depc_tmp/pid"; } 2>/dev/null; then
    depc_tmp_cause
    depc_err "cannot write to the temporary directory $depc_tmp${depc_cause:+: $depc_cause} (set TMPDIR to choose another directory)"
    return 1
  fi
  depc_tmp_sweep "$base"
  return 0
}

# depc_tmp_cause: why the private temp dir cannot be written, into
# depc_cause (depc_write_cause on a probe file there).
depc_tmp_cause() {
  depc_write_cause "$depc_tmp/probe"
  rm -f "$depc_tmp/probe"
}

# depc_tmp_sweep BASE: remove the private temp dirs (and the in-flight files
# their records name) of runs that are gone: a run killed with -9 before it
# took the lock or while it removed its temp dir leaves one that no lock
# names. Only dirs named like ours, depc.PID.XXXXXX or depc.PID.x, whose PID
# is not a live process (depc_lock_alive: another user's process counts as
# alive; a pid reused by another process keeps the dir until that one ends).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tmp_sweep() {
  local d name pid
  for d in "$1"/depc.[0-9]*.*; do
    if [ "$d" = "$depc_tmp" ] || [ ! -d "$d" ] || [ -L "$d" ]; then
      continue
    fi
    name=${d##*/depc.}
    pid=${name%%.*}
    case $pid in
      '' | *[!0-9]*) continue ;;
    esac
    case ${name#"$pid".} in
      x | [0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z]) ;;
      *) continue ;;
    esac
    depc_lock_alive "pid=$pid" || depc_lock_clean_after "tmp=$d" 1
  done
  return 0
}

# depc_mktemp DIR: create an in-flight temp file DIR/.depc.RUNID.XXXXXX next
# to a target and put its name in depc_inflight. DIR is written to the
# private temp dir's inflight record *before* mktemp runs, so a run stopped
# at any point (a signal here, kill -9 for the next run: depc_lock_clean_after)
# leaves a name that can be found: DIR/.depc.RUNID.*. Returns 1 with
# depc_error set.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_mktemp() {
  depc_inflight_dir=$1
  if ! { printf '%s\n' "$1" >"$depc_tmp/inflight"; } 2>/dev/null; then
    depc_tmp_cause
    depc_error="cannot write to the temporary directory $depc_tmp${depc_cause:+: $depc_cause}"
    return 1
  fi
  if ! mktemp "$1/.depc.$depc_run_id.XXXXXX" >"$depc_tmp/name" 2>"$depc_tmp/err"; then
    depc_fail "cannot create a temporary file in $1" "$depc_tmp/err"
    return 1
  fi
  IFS= read -r depc_inflight <"$depc_tmp/name"
  if [ -z "$depc_inflight" ]; then
    depc_error="cannot create a temporary file in $1: mktemp printed no name"
    return 1
  fi
  return 0
}

# Remove the in-flight temp file next to a target, if any: every
# DIR/.depc.RUNID.* of the directory depc_mktemp was last asked for (also one
# whose name mktemp had not printed yet; a directory too: Extract's fresh tree),
# and the staging directories of a batch (depc_stage_drop).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_drop_inflight() {
  local f
  depc_stage_drop
  if [ -n "${depc_inflight_dir:-}" ]; then
    for f in "$depc_inflight_dir"/.depc."$depc_run_id".*; do
      if [ -e "$f" ] || [ -L "$f" ]; then
        rm -rf "$f"
      fi
    done
  fi
  depc_inflight_dir=
  depc_inflight=
}

# EXIT trap: remove the in-flight temp file and the private temp dir, then
# release the lock. Idempotent.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_cleanup() {
  depc_drop_inflight
  # The temp dir goes before the lock: a kill -9 in between leaves a lock
  # naming it, which the next run takes over (nothing is left unnamed).
  if [ -n "$depc_tmp" ]; then
    rm -rf "$depc_tmp"
    depc_tmp=
  fi
  depc_lock_release
}

# depc_on_signal STATUS: HUP/INT/TERM/PIPE trap: clean up and exit with
# STATUS. Further signals are ignored: a second one (the TERM that follows a
# HUP, the PIPE of the message below) must not cut the cleanup short.
depc_on_signal() {
  trap '' HUP INT TERM PIPE
  depc_drop_inflight
  depc_log_run interrupted "$((DEPC_COUNT - depc_n_ok - depc_n_changed - depc_n_would - depc_n_failed))"
  depc_cleanup
  trap - EXIT
  depc_err "interrupted" 2>&9
  exit "$1"
}

# A resource whose effect on the host is opaque (a command, a service
# restart...) calls this: the preflight facts are no longer trusted and every
# later step runs its full check.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_invalidate_facts() {
  depc_facts_valid=0
}

# depc_change NAME DETAIL: record one change of the current resource. NAME
# goes into the JSON report ("content", "mode"...), DETAIL into the line
# ("mode 0600 -> 0644").
# shellcheck disable=SC2034 # sets globals read by other functions
depc_change() {
  depc_change_names=${depc_change_names:+$depc_change_names,}$1
  depc_change_text=${depc_change_text:+$depc_change_text, }$2
}

# depc_fail MESSAGE [OUTPUT_FILE]: a failure. depc_error is its one-line
# form (for stderr, the run log and the report): MESSAGE and the most telling
# line of OUTPUT_FILE (a failed command's output): the last one that says
# what failed ("ERROR: ...", "...: error: ...", "can't ...", "No such ..."),
# else the last mentioning an error (pip's "note: This error originates
# from a subprocess" is no cause), else the last. The terminal gets all of the output's lines, one per
# line below the failed line (depc_error_head, set only then, and
# $depc_tmp/failout; see depc_step).
# Returns 1.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_fail() {
  depc_error=$1
  depc_error_head=
  if [ $# -ge 2 ] && [ -s "$2" ]; then
    depc_error_head=$1
    depc_error=$1$(awk -v out="$depc_tmp/failout" '
      BEGIN { printf "" > out }
      NF {
        print > out; last = $0; l = tolower($0)
        if (l ~ /^(error|fatal)|: (error|fatal)|can.t |cannot |not found|no such |denied/) strong = $0
        else if (l ~ /error|fatal/) weak = $0
      }
      END { t = strong != "" ? strong : weak != "" ? weak : last; if (t != "") printf ": %s", t }' "$2")
  fi
  return 1
}

# depc_try MESSAGE CMD [ARGS...]: run CMD with its stderr captured; on failure
# depc_fail MESSAGE with that stderr. Returns CMD's success.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_try() {
  local msg
  msg=$1
  shift
  if "$@" 2>"$depc_tmp/err"; then
    return 0
  fi
  depc_fail "$msg" "$depc_tmp/err"
}

# depc_step INDEX KIND KEY FUNC [ARGS...]: run one resource. When the
# preflight verified INDEX and the facts are still valid, print the ok line
# with builtins only. Otherwise run FUNC ARGS (which may call depc_change and
# returns non-zero with depc_error set on failure) and print its line.
# In apply mode the run stops at the first failure. While a batch stages
# (depc_batch), only depc_batch_stage.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_step() {
  local status
  if [ -n "$depc_staging" ]; then
    depc_batch_stage "$@"
    return 0
  fi
  depc_index=$1
  depc_kind=$2
  depc_key=$3
  shift 3
  if [ "$depc_facts_valid" = 1 ]; then
    case $depc_todo in
      *" $depc_index "*) ;;
      *)
        depc_n_ok=$((depc_n_ok + 1))
        if [ "$depc_quiet" = 0 ]; then
          printf 'ok            %s %s\n' "$depc_kind" "$depc_key"
        fi
        printf '%s\t%s\t%s\tok\t\t\n' "$depc_index" "$depc_kind" "$depc_key" >>"$depc_tmp/log"
        return 0
        ;;
    esac
  fi
  depc_change_names=
  depc_change_text=
  depc_error=
  depc_error_head=
  depc_has_diff=0
  # The reactions a change would owe are recorded before FUNC can change
  # anything (a kill -9 right after the change must not lose them), and
  # withdrawn when it changed nothing (see notify.sh).
  depc_owe_new=$depc_nl
  # depc_evasions: cold resources are stopped first when this step would change something (evade.sh).
  if depc_notifies "$depc_index" && depc_evasions "$depc_index" "$@" && "$@"; then
    if [ -z "$depc_change_names" ] && [ "$depc_owe_new" != "$depc_nl" ]; then
      depc_unowe
    fi
    if [ -z "$depc_change_names" ]; then
      status=ok
      depc_n_ok=$((depc_n_ok + 1))
      if [ "$depc_quiet" = 0 ]; then
        printf 'ok            %s %s\n' "$depc_kind" "$depc_key"
      fi
    elif [ "$depc_mode" = check ]; then
      status='would change'
      depc_n_would=$((depc_n_would + 1))
      printf 'would change  %s %s (%s)\n' "$depc_kind" "$depc_key" "$depc_change_text"
      if [ "$depc_has_diff" = 1 ]; then
        cat "$depc_tmp/diff"
      fi
    else
      status=changed
      depc_n_changed=$((depc_n_changed + 1))
      printf 'changed       %s %s (%s)\n' "$depc_kind" "$depc_key" "$depc_change_text"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t\n' "$depc_index" "$depc_kind" "$depc_key" "$status" "$depc_change_names" >>"$depc_tmp/log"
    return 0
  fi
  depc_drop_inflight
  [ -n "$depc_error" ] || depc_error="failed (no reason given)"
  depc_n_failed=$((depc_n_failed + 1))
  # The output as lines, once; stderr and the log get the one-line form.
  if [ -n "$depc_error_head" ] && [ -s "$depc_tmp/failout" ] && [ "${depc_error#"$depc_error_head"}" != "$depc_error" ]; then
    printf 'failed        %s %s: %s:\n' "$depc_kind" "$depc_key" "$depc_error_head"
    sed 's/^/    /' "$depc_tmp/failout"
  else
    printf 'failed        %s %s: %s\n' "$depc_kind" "$depc_key" "$depc_error"
  fi
  depc_err "$depc_kind $depc_key: $depc_error"
  printf '%s\t%s\t%s\tfailed\t%s\t%s\n' "$depc_index" "$depc_kind" "$depc_key" "$depc_change_names" "$depc_error" >>"$depc_tmp/log"
  if [ "$depc_mode" = apply ]; then
    depc_finish
  fi
  return 1
}

# Print the summary line, write the --report file and exit with the run's
# status: apply 0/1; check 0 (nothing to do), 2 (changes pending), 1 (error).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_finish() {
  local rc done_n not_run tail result
  done_n=$((depc_n_ok + depc_n_changed + depc_n_would + depc_n_failed))
  not_run=$((DEPC_COUNT - done_n))
  [ "$not_run" -ge 0 ] || not_run=0
  tail=
  if [ "$not_run" -gt 0 ]; then
    tail=", $not_run not run"
  fi
  tail=$tail${depc_rm_tail:-}
  if [ "$depc_mode" = check ]; then
    if [ "$depc_n_failed" -gt 0 ] || [ "${depc_n_rm_failed:-0}" -gt 0 ]; then
      rc=1
      result=failed
      tail=", $depc_n_failed failed$tail"
    elif [ "$depc_n_would" -gt 0 ] || [ "${depc_n_would_remove:-0}" -gt 0 ]; then
      rc=2
      result=pending
    else
      rc=0
      result=clean
    fi
    printf 'depc: %s/%s (check): %s resources: %s would change, %s ok%s\n' \
      "$DEPC_ENV" "$DEPC_HOST" "$DEPC_COUNT" "$depc_n_would" "$depc_n_ok" "$tail"
  else
    if [ "$depc_n_failed" -gt 0 ] || [ "${depc_n_rm_failed:-0}" -gt 0 ]; then
      rc=1
      result=failed
    else
      rc=0
      result=converged
    fi
    printf 'depc: %s/%s: %s resources: %s changed, %s ok, %s failed%s\n' \
      "$DEPC_ENV" "$DEPC_HOST" "$DEPC_COUNT" "$depc_n_changed" "$depc_n_ok" "$depc_n_failed" "$tail"
  fi
  if [ -n "$depc_report_file" ]; then
    if ! depc_report_write "$rc" "$not_run"; then
      [ "$rc" != 0 ] || rc=1
    fi
  fi
  depc_log_run "$result" "$not_run"
  exit "$rc"
}

# depc_batch STEPS STAGE FLUSH: run a batch (a run of consecutive resources
# of a kind with `batch`, see runtime/README.md, "Batches"): the function
# STEPS (their depc_step lines) once with depc_step staging each resource
# (depc_batch_stage with STAGE), then FLUSH, which does the staged work in a
# few processes for all, then STEPS again: each resource runs as usual, and
# one that FLUSH completed only reports it.
depc_batch() {
  depc_staging=$2
  depc_staging_stopped=0
  "$1"
  depc_staging=
  "$3"
  "$1"
}

# depc_batch_stage INDEX KIND KEY FUNC [ARGS...]: depc_step while staging:
# $depc_staging ARGS for a resource the preflight did not verify, with
# depc_index, depc_kind and depc_key set as depc_step sets them. A stage
# function returns non-zero for a resource it leaves to its normal run
# (which may fail): no later resource of the batch is staged then, so none
# is changed before that one ran (a failure stops the run where it would
# without the batch).
depc_batch_stage() {
  [ "$depc_staging_stopped" = 0 ] || return 0
  if [ "$depc_facts_valid" = 1 ]; then
    case $depc_todo in
      *" $1 "*) ;;
      *) return 0 ;;
    esac
  fi
  depc_index=$1
  depc_kind=$2
  depc_key=$3
  shift 4
  "$depc_staging" "$@" || depc_staging_stopped=1
  return 0
}

# depc_batch_done INDEX: whether the flush of a batch completed resource
# INDEX (then its call only reports the change); true once per index.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_batch_done() {
  local flag
  case $1 in
    '' | *[!0-9]*) return 1 ;;
  esac
  eval "flag=\${depcb_done_$1:-}"
  [ -n "$flag" ] || return 1
  eval "depcb_done_$1="
  return 0
}
