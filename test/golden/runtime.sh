# shellcheck shell=sh
# Golden copy of the runtime functions that the golden bundles carry, each once (test/golden/README.md).
# Each one is preceded by a line "#@@ NAME sha256:DIGEST" (DIGEST of its text, comments included).

#@@ depc_attrs_compare sha256:2c03e6e447bc3dfa65ed1a35745f820ad6a851e81c51210049681f15cb18654b
# depc_attrs_compare MODE OWNER GROUP RECORD: compare the managed attributes
# (MODE 4-digit octal, OWNER/GROUP name or id; '' = unmanaged) with the last
# depc_stat. Sets depc_need_mode, depc_need_owner, depc_need_group (0/1); when
# RECORD is 1 each difference is also recorded with depc_change.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_attrs_compare() {
  depc_need_mode=0
  depc_need_owner=0
  depc_need_group=0
  if [ -n "$1" ] && [ "$1" != "$depc_st_mode" ]; then
    depc_need_mode=1
    [ "$4" = 0 ] || depc_change mode "mode $depc_st_mode -> $1"
  fi
  if [ -n "$2" ] && [ "$2" != "$depc_st_user" ] && [ "$2" != "$depc_st_uid" ]; then
    depc_need_owner=1
    [ "$4" = 0 ] || depc_change owner "owner $depc_st_user -> $2"
  fi
  if [ -n "$3" ] && [ "$3" != "$depc_st_group" ] && [ "$3" != "$depc_st_gid" ]; then
    depc_need_group=1
    [ "$4" = 0 ] || depc_change group "group $depc_st_group -> $3"
  fi
  return 0
}

#@@ depc_attrs_apply sha256:70b8d5b01da7bf470248c6fe910bc6d37c6a9c0ecedfa7cf814c85547f576104
# depc_attrs_apply PATH MODE OWNER GROUP: make the attributes flagged by
# depc_attrs_compare true, ownership first (chown clears set-id bits, so the
# mode is set again after an ownership change). Set-id bits that MODE lacks
# are cleared with `chmod u-s,g-s` first: GNU chmod keeps them on directories
# when given a numeric mode. Returns 1 with depc_error set on failure.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_attrs_apply() {
  local cur want
  if [ "$depc_need_owner" = 1 ] && [ "$depc_need_group" = 1 ]; then
    depc_try "cannot change owner and group of $1 to $3:$4" chown "$3:$4" "$1" || return 1
  elif [ "$depc_need_owner" = 1 ]; then
    depc_try "cannot change owner of $1 to $3" chown "$3" "$1" || return 1
  elif [ "$depc_need_group" = 1 ]; then
    depc_try "cannot change group of $1 to $4" chgrp "$4" "$1" || return 1
  fi
  if [ -z "$2" ]; then
    return 0
  fi
  if [ "$depc_need_mode" = 0 ] && [ "$depc_need_owner" = 0 ] && [ "$depc_need_group" = 0 ]; then
    return 0
  fi
  cur=${depc_st_mode%???}
  want=${2%???}
  if [ $(((cur & 6) & ~(want & 6))) -ne 0 ]; then
    depc_try "cannot clear the set-id bits of $1" chmod u-s,g-s "$1" || return 1
  fi
  depc_try "cannot change mode of $1 to $2" chmod "$2" "$1" || return 1
  return 0
}

#@@ depc_buildout_remove sha256:fc682e582cc24dc304ecbcc536ef02ab7ca55a1e05873b1f061037e457e32dff
# depc_buildout_remove DIR: rm -rf DIR (ledger.sh; never follows links
# inside) unless it holds a path the bundle declares.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_buildout_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
    depc_left="it is no longer a directory"
    depc_left_warn=1
    return 0
  fi
  [ -d "$1" ] || return 0
  depc_remove_guard "$1" || return 0
  depc_remove_tree_ok "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_try "cannot remove the buildout $1" rm -rf "$1"
}

#@@ depc_collect sha256:eb6d9382213701d8c4c2298106d52d1e5fdb7d91850b803e91195d52d6889c93
# depc_collect INDICES FUNC ARGS...: run a group's one call. INDICES are the
# members' step indices (one word, space-separated, the first names the
# group). The reactions every member owes are recorded before FUNC can change
# anything (kill -9 right after an install must not lose a restart); after
# it, those no changed or failed member owes are withdrawn again.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_collect() {
  local indices idx n status line touched all_new kept key saved_ifs saved_owed saved_mode
  indices=$1
  shift
  depc_collect_group=${indices%% *}
  depc_collect_file=$depc_tmp/collect.$depc_collect_group
  rm -f "$depc_collect_file".*.out "$depc_collect_file".*.diff
  depc_error=
  depc_error_head=
  status=0
  if ! : >"$depc_collect_file"; then
    # depc_collected fails every member when the file is missing.
    rm -f "$depc_collect_file"
    return 0
  fi
  depc_owe_new=$depc_nl
  for idx in $indices; do
    depc_notifies "$idx" || status=1
  done
  all_new=$depc_owe_new
  if [ "$status" = 0 ]; then
    "$@" </dev/null
    status=$?
  fi
  if [ "$status" != 0 ]; then
    [ -n "$depc_error" ] || depc_error="failed (no reason given)"
    if [ -n "$depc_error_head" ] && [ -s "$depc_tmp/failout" ]; then
      cat "$depc_tmp/failout" >"$depc_collect_file.0.out" 2>/dev/null
      depc_error=$depc_error_head
    fi
    depc_drop_inflight
    printf '0\tf\t%s\n' "$depc_error" >>"$depc_collect_file"
  fi
  # The ordinals with an outcome (or all: the whole group failed).
  touched=$depc_nl
  while IFS= read -r line; do
    touched=$touched${line%%"$depc_tab"*}$depc_nl
  done <"$depc_collect_file"
  # depc_owe in check mode with nothing owed lists what a member owes
  # without writing it (depc_owe_new); the real state is restored after.
  saved_owed=$depc_owed
  saved_mode=$depc_mode
  depc_owed=$depc_nl
  depc_mode=check
  depc_owe_new=$depc_nl
  n=0
  for idx in $indices; do
    n=$((n + 1))
    case $touched in
      *"${depc_nl}0$depc_nl"* | *"$depc_nl$n$depc_nl"*) depc_notifies "$idx" ;;
    esac
  done
  depc_owed=$saved_owed
  depc_mode=$saved_mode
  kept=$depc_owe_new
  depc_owe_new=$depc_nl
  saved_ifs=$IFS
  IFS=$depc_nl
  set -f
  for key in $all_new; do
    case $kept in
      *"$depc_nl$key$depc_nl"*) ;;
      *) depc_owe_new=$depc_owe_new$key$depc_nl ;;
    esac
  done
  set +f
  IFS=$saved_ifs
  [ "$depc_owe_new" = "$depc_nl" ] || depc_unowe
  depc_error=
  depc_error_head=
  return 0
}

#@@ depc_member_change sha256:b3488a1d667a9aecfc00b941fd7e574dc5498987942fa03d66184cae0c43de66
# depc_member_change ORDINAL NAME DETAIL: for a collected call: its member
# ORDINAL changed (or, in --check, would change), like depc_change NAME DETAIL.
depc_member_change() {
  printf '%s\t%s\t%s\t%s\n' "$1" c "$2" "$3" >>"$depc_collect_file"
}

#@@ depc_member_fail sha256:c4b8925a084324b914e9c042ac66864ae9981a470fbaeda6c7b0ae9b92f909cc
# depc_member_fail ORDINAL MESSAGE [OUTPUT_FILE]: for a collected call: its
# member ORDINAL failed, like depc_fail MESSAGE OUTPUT_FILE (the output is
# shown as lines under the member's failed line). MESSAGE is one line.
depc_member_fail() {
  printf '%s\t%s\t%s\n' "$1" f "$2" >>"$depc_collect_file"
  if [ $# -ge 3 ] && [ -s "$3" ]; then
    cat "$3" >"$depc_collect_file.$1.out" 2>/dev/null
  fi
  return 0
}

#@@ depc_member_diff sha256:2157a4dbd6f09d89f119e68f8910eb3bce4dded553a09731400d485db6d62c52
# depc_member_diff ORDINAL FILE: for a collected call in --check: FILE (a
# diff, as depc_diff writes it) is shown under member ORDINAL's line.
depc_member_diff() {
  cat "$2" >"$depc_collect_file.$1.diff" 2>/dev/null
  return 0
}

#@@ depc_collected sha256:cee39dd8f41e92caf1685ff7634b95590f960fc7990c867667269a4462263783
# depc_collected GROUP ORDINAL: a member's step: replays what the group's
# call recorded for it (depc_change for each change; depc_fail for its
# failure, else the group's). Builtins only but for a failure or a --check diff
# (depc_member_diff).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_collected() {
  local line rest own group
  if [ ! -f "$depc_tmp/collect.$1" ]; then
    depc_error="the outcome of its group's call is missing: cannot write to $depc_tmp"
    return 1
  fi
  own=
  group=
  while IFS= read -r line; do
    case $line in
      "$2${depc_tab}c$depc_tab"*)
        rest=${line#*"${depc_tab}c$depc_tab"}
        depc_change "${rest%%"$depc_tab"*}" "${rest#*"$depc_tab"}"
        ;;
      "$2${depc_tab}f$depc_tab"*) own=${line#*"${depc_tab}f$depc_tab"} ;;
      "0${depc_tab}f$depc_tab"*) group=${line#*"${depc_tab}f$depc_tab"} ;;
    esac
  done <"$depc_tmp/collect.$1"
  if [ -s "$depc_tmp/collect.$1.$2.diff" ] && cat "$depc_tmp/collect.$1.$2.diff" >"$depc_tmp/diff"; then
    depc_has_diff=1
  fi
  if [ -n "$own" ]; then
    depc_fail "$own" "$depc_tmp/collect.$1.$2.out"
    return 1
  fi
  if [ -n "$group" ]; then
    depc_fail "$group" "$depc_tmp/collect.$1.0.out"
    return 1
  fi
  return 0
}

#@@ depc_command sha256:a65961057255439248c85487652af5445653c8734ad7a68bbbf337722db58fd6
# depc_command OWE DISPLAY CREATES TIMEOUT NOTIFIED ALWAYS RUNFN UNLESSFN ONLYIFFN
# Runs RUNFN when the guards agree: NOTIFIED=1 needs the reaction OWE to be
# owed (by a change in this run or an earlier failed one); CREATES must not
# exist; UNLESSFN must fail; ONLYIFFN must succeed ('' = no such guard).
# ALWAYS=1 runs it on every apply. --check runs the guards (they are checks)
# but not the command. A notified command that its guards skip is settled.
# Afterwards the preflight facts are no longer trusted. DISPLAY is how
# reports show the command. TIMEOUT (seconds) needs `timeout` on the host.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_command() {
  local owe display creates timeout notified always run unless onlyif rc
  owe=$1 display=$2 creates=$3 timeout=$4 notified=$5 always=$6 run=$7 unless=$8 onlyif=$9
  if [ "$always" != 1 ]; then
    if [ "$notified" = 1 ] && ! depc_is_owed "$owe"; then
      return 0
    fi
    if { [ -n "$creates" ] && { [ -e "$creates" ] || [ -L "$creates" ]; }; } ||
      { [ -n "$unless" ] && "$unless" </dev/null >/dev/null 2>&1; } ||
      { [ -n "$onlyif" ] && ! "$onlyif" </dev/null >/dev/null 2>&1; }; then
      depc_settle "$owe"
      return
    fi
  fi
  if [ "$depc_mode" = check ]; then
    depc_change run "runs $display"
    return 0
  fi
  set --
  if [ -n "$timeout" ]; then
    depc_need_cmd timeout || {
      depc_error="timeout ${timeout}s needs the 'timeout' tool on host $DEPC_HOST"
      return 1
    }
    set -- timeout "$timeout"
  fi
  depc_invalidate_facts
  # fd 9 closed: a program the command leaves running must not hold the caller's pipe.
  "$run" "$@" </dev/null >"$depc_tmp/out" 2>&1 9>&-
  rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 10 "$depc_tmp/out" >"$depc_tmp/err" 2>/dev/null
    # GNU timeout exits 124; busybox's reports the TERM it sent (143).
    if [ -n "$timeout" ] && { [ "$rc" = 124 ] || [ "$rc" = 143 ]; }; then
      depc_fail "$display timed out after ${timeout}s" "$depc_tmp/err"
    else
      depc_fail "$display exited with status $rc" "$depc_tmp/err"
    fi
    return 1
  fi
  depc_change run "ran $display"
  depc_settle "$owe"
}

#@@ depc_command_remove sha256:267c1af79fd0a63fb5a666882d75fbce4d97d0f863a5b5409bff735fb2ed6c6c
# depc_command_remove DISPLAY CWD NENV WORDS...: runs a command's undo
# (ledger.sh): cd CWD, export the first NENV WORDS (NAME=VALUE), exec the rest.
# shellcheck disable=SC3043,SC2034,SC2163 # local is a deliberate extension; sets globals read by other functions; exports the NAME=VALUE word itself
depc_command_remove() {
  local display cwd n rc
  display=$1 cwd=$2 n=$3
  shift 3
  case $n in
    '' | *[!0-9]*)
      depc_error="undo of $display: '$n' is not a count of variables (damaged ledger?)"
      return 1
      ;;
  esac
  if [ "$depc_mode" = check ]; then
    depc_change undo "runs $display"
    return 0
  fi
  depc_invalidate_facts
  (
    cd -- "$cwd" || exit 1
    while [ "$n" -gt 0 ]; do
      case $1 in
        [A-Za-z_]*=*) export "$1" ;;
        *) exit 1 ;;
      esac
      shift
      n=$((n - 1))
    done
    exec "$@"
  ) </dev/null >"$depc_tmp/out" 2>&1 9>&-
  rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 10 "$depc_tmp/out" >"$depc_tmp/err" 2>/dev/null
    depc_fail "$display exited with status $rc" "$depc_tmp/err"
    return 1
  fi
  depc_change undo "ran $display"
}

#@@ depc_main sha256:c000d0bcfd006ca87cbd43e53794fa7790287ea20cee40a247d9fc2d049eb925
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

#@@ depc_usage sha256:de4c4d5a5adff6358e4ba53edb49b432389703060e601790f9edc13513b7b031
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

#@@ depc_usage_error sha256:451835348f974e9d117f924083cfd7eb715ef1529e0db8dcfedf7ed81adebd3a
# depc_usage_error MESSAGE: message and usage on stderr, exit 64.
depc_usage_error() {
  depc_err "$1"
  depc_usage >&2
  exit 64
}

#@@ depc_warn sha256:f425cdb635ed4674580fdfae57dd81e7922418afdec8bccc4da76133a604521b
# depc_warn MESSAGE / depc_err MESSAGE: "depc: ENV/HOST: MESSAGE" on stderr.
depc_warn() {
  printf 'depc: %s/%s: warning: %s\n' "$DEPC_ENV" "$DEPC_HOST" "$1" >&2
}

#@@ depc_err sha256:8a3060e8fe998da1d301d349c6047fa7aec52ded83c9a693fca536a2cfa7dbcb
# depc_err MESSAGE: "depc: ENV/HOST: MESSAGE" on stderr (an error, no prefix).
depc_err() {
  printf 'depc: %s/%s: %s\n' "$DEPC_ENV" "$DEPC_HOST" "$1" >&2
}

#@@ depc_need_cmd sha256:558985b1af2449833b491fc5ccf0f827c70e78e8b098def87a229aaac15481da
# depc_need_cmd NAME: fail (return 1) with a message naming the tool and the
# host when NAME is not on PATH.
depc_need_cmd() {
  if command -v "$1" >/dev/null 2>&1; then
    return 0
  fi
  depc_err "required tool '$1' not found on host $DEPC_HOST (PATH=$PATH)"
  return 1
}

#@@ depc_probe_tools sha256:dc0eb467d5f0ad3a22878670cd37603ef74fbf2cf7220a088e1e88eae7506059
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

#@@ depc_tmp_init sha256:734a7a8823eb99aaa62531d32258180a789218b4a4721b9345c6315e7f4716ba
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

#@@ depc_tmp_cause sha256:30cde541a53cb61da38447724376f92f532db5bd2ecafbefaa3e155f4d61a30d
# depc_tmp_cause: why the private temp dir cannot be written, into
# depc_cause (depc_write_cause on a probe file there).
depc_tmp_cause() {
  depc_write_cause "$depc_tmp/probe"
  rm -f "$depc_tmp/probe"
}

#@@ depc_tmp_sweep sha256:dce1d6fcaa97cb360fddcce63b669ca9259a6ddadec6d40e3aed91535187a176
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

#@@ depc_mktemp sha256:d00ffde463919c2f33e4ffd9a13469835fb6497ccf467de61bbf498ba99d0f8a
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

#@@ depc_drop_inflight sha256:35ed6a8bbea0f4635571072155c80d26808b31e2e30b1fdf292a943efe4c9de2
# Remove the in-flight temp file next to a target, if any: every
# DIR/.depc.RUNID.* of the directory depc_mktemp was last asked for (also one
# whose name mktemp had not printed yet; a directory too: Extract's fresh
# tree), and the staging directories of a batch (depc_stage_drop).
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

#@@ depc_cleanup sha256:89e4f3a80726057e00150dacb88a86178cc0fe74f84ae75611afececb4f7f76c
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

#@@ depc_on_signal sha256:4f0dcada34a888bd7f8c1a0aed00fb198842e2a4be1d92315e8ddef4e7509397
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

#@@ depc_invalidate_facts sha256:e3c855783bdd7ab81fb65f56f0a635de0c8d076ed2b95e188d5b8b2bafd3206f
# A resource whose effect on the host is opaque (a command, a service
# restart...) calls this: the preflight facts are no longer trusted and every
# later step runs its full check.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_invalidate_facts() {
  depc_facts_valid=0
}

#@@ depc_change sha256:a81b5fef631f27ff939e564b055078fdfb30f8f86fd25d7cc19b041430a4f5a3
# depc_change NAME DETAIL: record one change of the current resource. NAME
# goes into the JSON report ("content", "mode"...), DETAIL into the line
# ("mode 0600 -> 0644").
# shellcheck disable=SC2034 # sets globals read by other functions
depc_change() {
  depc_change_names=${depc_change_names:+$depc_change_names,}$1
  depc_change_text=${depc_change_text:+$depc_change_text, }$2
}

#@@ depc_fail sha256:e85325b0bf8607bfe996546f9acde9fa9748a4258a3b1c0543e8be2bb65af4ce
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

#@@ depc_try sha256:b7ca00aaafda7be7a4aa7434d176e40226de349b7646466edace5eaed2baf504
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

#@@ depc_step sha256:6408ea18d3ce52b0b300e6d2d0293e09702230cb0ff60be34588d474c7773f0d
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
  # A remark for the line that is no change (a health check's result).
  depc_note=
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
        printf 'ok            %s %s%s\n' "$depc_kind" "$depc_key" "${depc_note:+ ($depc_note)}"
      fi
    elif [ "$depc_mode" = check ]; then
      status='would change'
      depc_n_would=$((depc_n_would + 1))
      printf 'would change  %s %s (%s%s)\n' "$depc_kind" "$depc_key" "$depc_change_text" "${depc_note:+; $depc_note}"
      if [ "$depc_has_diff" = 1 ]; then
        cat "$depc_tmp/diff"
      fi
    else
      status=changed
      depc_n_changed=$((depc_n_changed + 1))
      printf 'changed       %s %s (%s%s)\n' "$depc_kind" "$depc_key" "$depc_change_text" "${depc_note:+; $depc_note}"
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

#@@ depc_finish sha256:d561589269693a4cefced1179ed3214cf8b3f2ae5989b69dcaf24cc691397547
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

#@@ depc_batch sha256:538a2ab75bdc34cc4afbb6bceb60986249073312a7f86a25aaa7189d9bf4df3e
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

#@@ depc_batch_stage sha256:4d862ccebe74de098c0e245c59213edffea32e83dfb6d80937274ccf331c7e3b
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

#@@ depc_batch_done sha256:10096e32dea799c9fb458f5525172176a945cb0ad8fd9a8d0036eac1a4fefe57
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

#@@ depc_cronjob sha256:553ad551c7b044bf44bdbc97e8da7b251008a2fa36999091eaa8a5dffd306767
# depc_cronjob USER ENTRIES...: (collected: all CronJobs of USER on the
# host in one call; ENTRIES is NAME LINE per job, in run order, ordinal 1
# first) each job's entry in the block is LINE: added (created), rewritten
# (content) or left; entries of names that are not here (jobs that left the
# model) are left for their own removal. The crontab is installed once when
# it differs; --check attaches its diff to the first job that changes.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_cronjob() {
  local user n st first
  user=$1
  shift
  depc_cron_need || return 1
  depc_cron_read "$user" || return 1
  : >"$depc_tmp/cron.want"
  while [ $# -ge 2 ]; do
    printf '%s\t%s\n' "$1" "$2" >>"$depc_tmp/cron.want"
    shift 2
  done
  depc_cron_merge "$user" '' || return 1
  n=0
  first=
  while IFS= read -r st; do
    n=$((n + 1))
    case $st in
      created) depc_member_change "$n" created "added to the crontab of $user" ;;
      content) depc_member_change "$n" content "changed in the crontab of $user" ;;
      foreign)
        n=1
        depc_member_change 1 block "lines edited into depc's block dropped"
        ;;
      *) continue ;;
    esac
    [ -n "$first" ] || first=$n
  done <"$depc_tmp/cron.status"
  diff "$depc_tmp/cron.old" "$depc_tmp/cron.new" >/dev/null 2>&1 && return 0
  if [ -z "$first" ]; then
    # The block's text changed with no job (a missing final newline added).
    first=1
    depc_member_change 1 block "depc's block rewritten"
  fi
  if [ "$depc_mode" = check ]; then
    depc_diff "$depc_tmp/cron.old" "$depc_tmp/cron.new" "crontab of $user" - -
    depc_member_diff "$first" "$depc_tmp/diff"
    return 0
  fi
  depc_cron_install "$user"
}

#@@ depc_cron_need sha256:f77e5b212465e51a08aaf2d863d32e91b147c0f4a8250d5e399b58e9d6cca8df
# depc_cron_need: crontab is on PATH, else depc_error names the host and the tool.
depc_cron_need() {
  command -v crontab >/dev/null 2>&1 && return 0
  depc_error="'crontab' not found on host $DEPC_HOST (PATH=$PATH); install cron"
  return 1
}

#@@ depc_cron_ctl sha256:29e733e1204416da86bd90691d7229460adad2003eca0773fc0a7e8c6135fecd
# depc_cron_ctl USER ARGS...: `crontab ARGS...` for USER's crontab: with
# `-u USER` unless the run's own user is USER.
depc_cron_ctl() {
  if [ -z "${depc_cron_me-}" ]; then
    depc_cron_me=$(id -un 2>/dev/null) || depc_cron_me=-
  fi
  if [ "$1" = "$depc_cron_me" ]; then
    shift
    crontab "$@"
  else
    crontab -u "$@"
  fi
}

#@@ depc_cron_read sha256:0c760a9c945d40f1ac101829c37b4b012bd403db7453c4a8b5b942618095438f
# depc_cron_read USER: USER's crontab into $depc_tmp/cron.old (empty when
# the user has none). Returns 1 with depc_error when crontab -l fails
# otherwise (an unknown user, no permission).
depc_cron_read() {
  if depc_cron_ctl "$1" -l </dev/null >"$depc_tmp/cron.old" 2>"$depc_tmp/err"; then
    return 0
  fi
  # "no crontab for USER" (Debian), "can't open 'USER'" (busybox).
  if grep -q -i -e 'no crontab' -e "can't open" "$depc_tmp/err"; then
    : >"$depc_tmp/cron.old"
    return 0
  fi
  depc_fail "cannot read the crontab of $1 (crontab -l)" "$depc_tmp/err"
}

#@@ depc_cron_merge sha256:6127c687c15c0601cb964b914d63ff504e016b42fb8c2b6f055596c65f2ae83a
# depc_cron_merge USER DROP: one awk over $depc_tmp/cron.want (NAME<TAB>LINE
# lines) and cron.old into cron.new: the old block's entries in place
# (rewritten when wanted, DROP's left out), new ones appended, the block
# gone when it has no entry, everything outside it as it was. cron.status
# gets a line per wanted entry (created, content, ok), then "foreign" when
# the block held lines that are not entries, "dropped" when DROP was there.
# A BEGIN line without its END fails (the block cannot be found safely).
depc_cron_merge() {
  awk -v begin="# BEGIN depc $DEPC_ENV (managed by depc: edits up to the END line are overwritten)" \
    -v end="# END depc $DEPC_ENV" -v drop="$2" -v status="$depc_tmp/cron.status" '
    FILENAME == ARGV[1] {
      if ($0 == "") next
      t = index($0, "\t")
      nm = substr($0, 1, t - 1)
      n++; wname[n] = nm; wline[nm] = substr($0, t + 1)
      next
    }
    { old[++m] = $0 }
    END {
      b = 0; e = 0
      for (i = 1; i <= m; i++) if (old[i] == begin) { b = i; break }
      if (b) {
        for (i = b + 1; i <= m; i++) if (old[i] == end) { e = i; break }
        if (!e) exit 3
      }
      k = 0; foreign = 0; dropped = 0
      if (b) for (i = b + 1; i < e; i++) {
        if (substr(old[i], 1, 15) == "# depc cronjob " && i + 1 < e) {
          nm = substr(old[i], 16); k++; oname[k] = nm; oline[nm] = old[i + 1]; i++
        } else foreign = 1
      }
      c = 0
      for (j = 1; j <= k; j++) {
        nm = oname[j]
        if (nm == drop) { dropped = 1; continue }
        c++; nname[c] = nm; nline[c] = (nm in wline) ? wline[nm] : oline[nm]
      }
      for (j = 1; j <= n; j++) if (!(wname[j] in oline)) { c++; nname[c] = wname[j]; nline[c] = wline[wname[j]] }
      printf "" > status
      for (j = 1; j <= n; j++) {
        nm = wname[j]
        print (!(nm in oline) ? "created" : oline[nm] == wline[nm] ? "ok" : "content") > status
      }
      if (foreign) print "foreign" > status
      if (dropped) print "dropped" > status
      last = b ? b - 1 : m
      for (i = 1; i <= last; i++) print old[i]
      if (c > 0) {
        print begin
        for (j = 1; j <= c; j++) { print "# depc cronjob " nname[j]; print nline[j] }
        print end
      }
      if (b) for (i = e + 1; i <= m; i++) print old[i]
    }' "$depc_tmp/cron.want" "$depc_tmp/cron.old" >"$depc_tmp/cron.new" 2>"$depc_tmp/err"
  case $? in
    0) return 0 ;;
    3) depc_error="the crontab of $1 has the line '# BEGIN depc $DEPC_ENV ...' but no '# END depc $DEPC_ENV' after it; fix it by hand (crontab -e -u $1)" ;;
    *) depc_fail "cannot merge the crontab of $1 (awk)" "$depc_tmp/err" ;;
  esac
  return 1
}

#@@ depc_cron_install sha256:bae54e043409fe3b47236567b00ca561ba8d98d37e9051887216828d6b5f887f
# depc_cron_install USER: (apply) $depc_tmp/cron.new becomes USER's crontab;
# an empty one removes the crontab (crontab -r).
depc_cron_install() {
  if [ -s "$depc_tmp/cron.new" ]; then
    depc_cron_ctl "$1" "$depc_tmp/cron.new" </dev/null >"$depc_tmp/err" 2>&1 && return 0
    depc_fail "crontab refused the new crontab of $1" "$depc_tmp/err"
    return 1
  fi
  depc_cron_ctl "$1" -r </dev/null >"$depc_tmp/err" 2>&1 && return 0
  depc_fail "cannot remove the crontab of $1 (crontab -r)" "$depc_tmp/err"
}

#@@ depc_cronjob_remove sha256:754634c105adfc7f3384bfdd64fa99108a01bcb65d4b45d64d0af7832a46226a
# depc_cronjob_remove USER NAME: (ledger.sh) the entry NAME leaves USER's
# block; the block goes with its last entry, the crontab with its last line.
# --check shows the crontab's diff. Without crontab on the host: left.
depc_cronjob_remove() {
  if ! command -v crontab >/dev/null 2>&1; then
    depc_left="'crontab' is not on host $DEPC_HOST any more"
    depc_left_warn=1
    return 0
  fi
  depc_cron_read "$1" || return 1
  : >"$depc_tmp/cron.want"
  depc_cron_merge "$1" "$2" || return 1
  grep -q '^dropped$' "$depc_tmp/cron.status" || return 0
  depc_change removed "removed from the crontab of $1"
  if [ "$depc_mode" = check ]; then
    depc_diff "$depc_tmp/cron.old" "$depc_tmp/cron.new" "crontab of $1" - -
    return 0
  fi
  depc_cron_install "$1"
}

#@@ depc_diff sha256:fe09db817156d7505ab141449aee39119d9e44b5230a12b8a7ff0a9fa9fb5545
# depc_diff OLD NEW PATH OLDSHA NEWSHA: write the diff shown under a
# "would change" line into $depc_tmp/diff and set depc_has_diff=1:
# "--- PATH" / "+++ PATH (depc)" then `diff -u OLD NEW` minus its own two
# header lines; OLD is /dev/null for a new file. Binary content (a NUL byte
# in either side, or diff calling it binary) gives one line instead:
# "Binary content differs (sha256 OLDSHA -> NEWSHA)".
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_diff() {
  local out first
  out=$depc_tmp/diff
  depc_has_diff=1
  if depc_has_nul "$2" || { [ "$1" != /dev/null ] && depc_has_nul "$1"; }; then
    printf 'Binary content differs (sha256 %s -> %s)\n' "$4" "$5" >"$out"
    return 0
  fi
  diff -u "$1" "$2" >"$depc_tmp/diff.raw" 2>"$depc_tmp/err"
  if [ $? -gt 1 ]; then
    depc_fail "cannot diff $3" "$depc_tmp/err"
    depc_warn "$depc_error"
    printf '(no diff: %s)\n' "$depc_error" >"$out"
    depc_error=
    return 0
  fi
  first=
  IFS= read -r first <"$depc_tmp/diff.raw"
  case $first in
    'Binary files '* | 'Files '*)
      printf 'Binary content differs (sha256 %s -> %s)\n' "$4" "$5" >"$out"
      return 0
      ;;
  esac
  {
    printf '%s\n' "--- $3"
    printf '%s\n' "+++ $3 (depc)"
    sed '1,2d' "$depc_tmp/diff.raw"
  } >"$out"
  return 0
}

#@@ depc_has_nul sha256:d069c1634ec3b02ea5210c648c9c1357e14922ddd25c3df7560d5deaa83ed9c0
# depc_has_nul FILE: succeeds when FILE contains a NUL byte.
depc_has_nul() {
  tr -dc '\000' <"$1" >"$depc_tmp/nul" 2>/dev/null
  [ -s "$depc_tmp/nul" ]
}

#@@ depc_directory sha256:bb682b30288f0bede6abcca6e8048789f23387e27a33b9342a302db6448e1e7b
# depc_directory PATH MODE OWNER GROUP: PATH is a directory (created with
# mkdir -p, parents as needed) with MODE (4-digit octal), OWNER and GROUP
# ('' = unmanaged). A file or symlink at PATH is an error. Set-id bits that
# MODE lacks are cleared, so "mode 2755 -> 0755" converges on every chmod.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_directory() {
  local new
  if [ -L "$1" ]; then
    depc_error="$1 exists and is a symbolic link"
    return 1
  elif [ -e "$1" ] && [ ! -d "$1" ]; then
    depc_error="$1 exists and is not a directory"
    return 1
  fi
  new=0
  if [ ! -d "$1" ]; then
    new=1
    depc_change created created
    [ "$depc_mode" = apply ] || return 0
    depc_try "cannot create directory $1" mkdir -p "$1" || return 1
  fi
  if [ -z "$2$3$4" ]; then
    return 0
  fi
  depc_stat "$1" || return 1
  if [ "$new" = 1 ]; then
    depc_attrs_compare "$2" "$3" "$4" 0
  else
    depc_attrs_compare "$2" "$3" "$4" 1
  fi
  [ "$depc_mode" = apply ] || return 0
  depc_attrs_apply "$1" "$2" "$3" "$4"
}

#@@ depc_directory_remove sha256:7f0d9accbbb8d5087cdda83b5c75050f0473acc0e835e80f46e22f8102ef4d53
# depc_directory_remove PATH: rmdir (ledger.sh) when depc created it (flag
# "created") and it is empty; else left, naming what is inside.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_directory_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
    depc_left="it is no longer a directory"
    depc_left_warn=1
    return 0
  fi
  [ -d "$1" ] || return 0
  case ,$depc_rm_flags, in
    *,created,*) ;;
    *)
      depc_left="it existed before depc managed it"
      return 0
      ;;
  esac
  depc_remove_guard "$1" || return 0
  depc_remove_contents "$1"
  if [ "$depc_rm_count" -gt 0 ]; then
    depc_left="not empty: $depc_rm_names"
    depc_left_warn=1
    return 0
  fi
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_need_cmd rmdir || {
    depc_error="cannot remove directory $1: no 'rmdir' on host $DEPC_HOST"
    return 1
  }
  depc_try "cannot remove directory $1" rmdir "$1"
}

#@@ depc_download_remove sha256:5882421ff7fefbd292bf5d7957abb9cf669d7fc8408a81ccbb6e084ccb22da5c
# depc_download_remove PATH: the downloaded file is removed (ledger.sh) if it
# is still a regular file; --check names it without showing its bytes.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_download_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -f "$1" ]; }; then
    depc_left="it is no longer a regular file"
    depc_left_warn=1
    return 0
  fi
  [ -f "$1" ] || return 0
  depc_remove_guard "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_try "cannot remove $1" rm -f "$1"
}

#@@ depc_evade_before sha256:b9f75fb9bfa14ea9ccdf04017fa7b951ed9f360c425e30c2cc88a6bd7d8a4d38
# depc_evade_before EVADERS FUNC ARGS...: the step about to run FUNC ARGS is
# a precursor of the resources EVADERS (indices, space-separated). Unless
# all of them were handled already, FUNC runs first in check mode (its
# output, changes and owed reactions discarded); when it would change
# something, or fails, each pending evader is stopped (depc_evade N). The
# step then runs FUNC for real. Returns 1 with depc_error when a stop fails.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_evade_before() {
  local evaders pending i mode owed owe_new rc changed
  evaders=$1
  shift
  pending=
  for i in $evaders; do
    case ${depc_evaded-} in
      *" $i "*) ;;
      *) pending="$pending $i" ;;
    esac
  done
  [ -n "$pending" ] || return 0
  mode=$depc_mode owed=$depc_owed owe_new=$depc_owe_new
  depc_mode=check
  "$@" >/dev/null 2>&1
  rc=$?
  changed=$depc_change_names
  depc_mode=$mode depc_owed=$owed depc_owe_new=$owe_new
  depc_change_names='' depc_change_text='' depc_error='' depc_error_head='' depc_has_diff=0
  [ "$rc" != 0 ] || [ -n "$changed" ] || return 0
  for i in $pending; do
    depc_evaded="${depc_evaded-} $i "
    # The owed start is the cold resource's, not this step's: kept even
    # when this step ends up changing nothing (depc_unowe).
    owe_new=$depc_owe_new
    depc_evade "$i" || return 1
    depc_owe_new=$owe_new
  done
  return 0
}

#@@ depc_extract_remove sha256:dbbe31826f9a74f6b132877680e27edfc39a38daf94bcd6c071ccc99b4c9486b
# depc_extract_remove TO: the extracted tree is removed (ledger.sh) when it
# still carries depc's marker (TO/.depc-extracted); otherwise it is left.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_extract_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
    depc_left="it is no longer a directory"
    depc_left_warn=1
    return 0
  fi
  [ -d "$1" ] || return 0
  if [ ! -f "$1/.depc-extracted" ]; then
    depc_left="it has no .depc-extracted: not depc's tree"
    depc_left_warn=1
    return 0
  fi
  depc_remove_guard "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_try "cannot remove $1" rm -rf "$1"
}

#@@ depc_fact_stat sha256:3d2b3261b4aa210fc86fb4719225f2035ebfbdb25c7884753f3065c7062866e9
# depc_fact_stat PATH...: append "type<TAB>mode<TAB>uid<TAB>gid<TAB>path"
# lines (lstat, one process for all PATHs) to the facts file. Numeric ids
# only: a user/group name lookup per path would cost more than the whole
# stat (the preflight maps names via /etc/passwd and /etc/group).
# Missing paths are ignored: facts are hints.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_fact_stat() {
  local t
  t=$depc_tab
  if [ "$depc_stat_flavor" = gnu ]; then
    stat -c "%F$t%a$t%u$t%g$t%n" "$@" >>"$depc_tmp/facts.stat" 2>/dev/null
  else
    stat -f "%HT$t%Mp%Lp$t%u$t%g$t%N" "$@" >>"$depc_tmp/facts.stat" 2>/dev/null
  fi
  return 0
}

#@@ depc_fact_sha256 sha256:378b6a0903c9c56be101aea0221f9ecaabd6c7ba5d81de8ca109e0905d41cb8d
# depc_fact_sha256 PATH...: append the sha256 lines of PATHs (one process)
# to the facts file. Missing paths and directories are ignored. PATHs that
# are neither (a FIFO, a device) are left out so the run never blocks; that
# filter rebuilds the argument list and only runs when one is present.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_fact_sha256() {
  local n p special
  special=0
  for p do
    if [ -e "$p" ] && [ ! -f "$p" ] && [ ! -d "$p" ]; then
      special=1
      break
    fi
  done
  if [ "$special" = 1 ]; then
    n=$#
    while [ "$n" -gt 0 ]; do
      p=$1
      shift
      n=$((n - 1))
      if [ -f "$p" ]; then
        set -- "$@" "$p"
      fi
    done
  fi
  if [ $# -gt 0 ]; then
    depc_sha256_cmd "$@" >>"$depc_tmp/facts.sha" 2>/dev/null
  fi
  return 0
}

#@@ depc_sha256_cmd sha256:deb7ba3af6618a9138e0450f3179f4eb3999d4b051207cc06ba4d097b45e4600
# depc_sha256_cmd [FILE...]: run the probed sha256 tool (stdin when no FILE).
# shellcheck disable=SC2120 # files for the batched facts; a bundle without files passes none
depc_sha256_cmd() {
  case $depc_sha_tool in
    sha256sum) sha256sum "$@" ;;
    shasum) shasum -a 256 "$@" ;;
    sha256) sha256 -r "$@" ;;
    *) openssl dgst -sha256 -r "$@" ;;
  esac
}

#@@ depc_preflight sha256:09d5f080913f6ab868a8ece2a094295221dd8a58f2afb45341cd3047a1936de8
# depc_preflight: ONE awk process joining the expect table (depc_expect) with
# the stat and sha256 facts. Prints the space-separated indices 1..DEPC_COUNT
# that are NOT verified converged: indices missing from the table, every
# symlink ("l"), every "e" (stat'ed for the ledger only), and every entry whose type, mode, owner, group or digest
# differs from the facts (or has no facts). Owner/group names are mapped to
# ids through /etc/passwd and /etc/group when readable; a name found in
# neither (LDAP...) leaves its entry unverified, so it gets a full check.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_preflight() {
  local passwd group
  passwd=/dev/null
  group=/dev/null
  [ ! -r /etc/passwd ] || passwd=/etc/passwd
  [ ! -r /etc/group ] || group=/etc/group
  depc_expect | awk -F '\t' -v n="$DEPC_COUNT" '
    function unesc(s,   r, i, c, d, k) {
      r = ""
      k = length(s)
      for (i = 1; i <= k; i++) {
        c = substr(s, i, 1)
        if (c == "\\" && i < k) {
          d = substr(s, ++i, 1)
          if (d == "n") c = "\n"
          else if (d == "r") c = "\r"
          else c = d
        }
        r = r c
      }
      return r
    }
    function id(name, ids) {
      if (name ~ /^[0-9]+$/) return name + 0
      if (name in ids) return ids[name]
      return -1
    }
    FILENAME == ARGV[1] {
      if (NF < 5) next
      t = tolower($1)
      if (t ~ /^regular/) t = "f"
      else if (t ~ /^directory/) t = "d"
      else if (t ~ /^symbolic/) t = "l"
      else t = "o"
      p = $5
      for (i = 6; i <= NF; i++) p = p "\t" $i
      st[p] = t; sm[p] = $2 + 0; su[p] = $3 + 0; sg[p] = $4 + 0
      next
    }
    FILENAME == ARGV[2] {
      line = $0
      e = 0
      if (substr(line, 1, 1) == "\\") { e = 1; line = substr(line, 2) }
      h = substr(line, 1, 64)
      if (h !~ /^[0-9a-f]+$/ || length(h) != 64) next
      rest = substr(line, 65)
      i = index(rest, "/")
      if (i == 0) next
      p = substr(rest, i)
      if (e) p = unesc(p)
      sha[p] = h
      next
    }
    FILENAME == ARGV[3] {
      if (split($0, a, ":") >= 3 && !(a[1] in uids)) uids[a[1]] = a[3] + 0
      next
    }
    FILENAME == ARGV[4] {
      if (split($0, a, ":") >= 3 && !(a[1] in gids)) gids[a[1]] = a[3] + 0
      next
    }
    NF >= 7 {
      p = $3
      if ($2 == "l" || !(p in st) || st[p] != $2) next
      if ($4 != "-" && sm[p] != $4 + 0) next
      if ($5 != "-" && id($5, uids) != su[p]) next
      if ($6 != "-" && id($6, gids) != sg[p]) next
      if ($2 == "f" && $7 != "-" && sha[p] != $7) next
      ok[$1 + 0] = 1
    }
    END {
      s = ""
      for (i = 1; i <= n; i++) if (!(i in ok)) s = s (s == "" ? "" : " ") i
      print s
    }
  ' "$depc_tmp/facts.stat" "$depc_tmp/facts.sha" "$passwd" "$group" -
}

#@@ depc_stat sha256:d3beebde423fe264180e36b41177e835d65d58a68609cba7e5b0d674bc092631
# depc_stat PATH: lstat one path into depc_st_mode (4 octal digits, e.g. 2755), depc_st_uid, depc_st_gid, depc_st_user,
# depc_st_group. Returns 1 with depc_error set when stat fails.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_stat() {
  local out t
  t=$depc_tab
  if [ "$depc_stat_flavor" = gnu ]; then
    out=$(stat -c "%F$t%a$t%u$t%g$t%U$t%G" "$1" 2>"$depc_tmp/err")
  else
    out=$(stat -f "%HT$t%Mp%Lp$t%u$t%g$t%Su$t%Sg" "$1" 2>"$depc_tmp/err")
  fi
  # shellcheck disable=SC2181 # the status of the assignment above
  if [ $? -ne 0 ]; then
    depc_fail "cannot stat $1" "$depc_tmp/err"
    return 1
  fi
  out=${out#*"$t"}
  depc_st_mode=${out%%"$t"*}
  while [ ${#depc_st_mode} -lt 4 ]; do
    depc_st_mode=0$depc_st_mode
  done
  out=${out#*"$t"}
  depc_st_uid=${out%%"$t"*}
  out=${out#*"$t"}
  depc_st_gid=${out%%"$t"*}
  out=${out#*"$t"}
  depc_st_user=${out%%"$t"*}
  depc_st_group=${out#*"$t"}
  return 0
}

#@@ depc_sha256_of sha256:44b9178075effca42cbd23335bd5d589ef5abd4f9db44cb87d52ed815a741dc1
# depc_sha256_of FILE: the lowercase hex sha256 of FILE's bytes into
# depc_digest (read on stdin, so names are never escaped). Returns 1 with
# depc_error set on failure.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_sha256_of() {
  local out
  if ! out=$(depc_sha256_cmd 2>"$depc_tmp/err" <"$1"); then
    depc_fail "cannot compute the sha256 of $1" "$depc_tmp/err"
    return 1
  fi
  out=${out#\\}
  depc_digest=${out%%[!0-9a-f]*}
  if [ ${#depc_digest} -ne 64 ]; then
    depc_error="cannot compute the sha256 of $1: unexpected output from $depc_sha_tool"
    return 1
  fi
  return 0
}

#@@ depc_file sha256:e4cac32e70fb2959eb23999ccb44a0a4a5bb6a6c21154f41d1aff835b5caab61
# depc_file PATH MODE OWNER GROUP SHA256 CONTENTFN [SALT]: PATH is a regular file
# whose bytes are CONTENTFN's output (digest SHA256), with MODE (4-digit
# octal; '' = unmanaged: a new file gets 0644, an existing file keeps its
# mode), OWNER and GROUP (name or id; '' = unmanaged: kept on rewrite when
# possible). Content is written to a temp file in PATH's directory, verified
# against SHA256, given its attributes and renamed over PATH (atomic).
# Attribute-only differences are fixed in place.
# With SALT the content is secret. --check shows no diff,
# only "Secret content changed (fingerprint OLD -> NEW)", 12 hex digits of
# sha256(SALT || content); no message shows its sha256; the temp file gets
# its owner, group and mode while still empty, before the content is written.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_file() {
  local p mode owner group sha fn salt dir new
  p=$1 mode=$2 owner=$3 group=$4 sha=$5 fn=$6 salt=${7:-}
  # Written by its batch's flush (depc_file_flush): only the report is left.
  if depc_batch_done "$depc_index"; then
    depc_change created created
    return 0
  fi
  dir=${p%/*}
  [ -n "$dir" ] || dir=/
  if [ -L "$p" ]; then
    depc_error="$p exists and is a symbolic link"
    return 1
  elif [ -d "$p" ]; then
    depc_error="$p exists and is a directory"
    return 1
  elif [ -e "$p" ] && [ ! -f "$p" ]; then
    depc_error="$p exists and is not a regular file"
    return 1
  fi
  if [ -f "$p" ]; then
    new=0
    depc_stat "$p" || return 1
    depc_sha256_of "$p" || return 1
    if [ "$depc_digest" != "$sha" ]; then
      depc_change content content
    fi
    depc_attrs_compare "$mode" "$owner" "$group" 1
    [ -n "$depc_change_names" ] || return 0
  else
    new=1
    depc_change created created
    if [ ! -d "$dir" ] && [ "$depc_mode" = apply ]; then
      depc_error="parent directory $dir does not exist"
      return 1
    fi
  fi
  if [ "$depc_mode" = check ]; then
    if [ "$new" = 1 ] || [ "$depc_digest" != "$sha" ]; then
      depc_file_check_content "$p" "$sha" "$fn" "$new" "$salt" || return 1
    fi
    return 0
  fi
  if [ "$new" = 1 ] || [ "$depc_digest" != "$sha" ]; then
    depc_file_write "$p" "$dir" "$mode" "$owner" "$group" "$sha" "$fn" "$new" "$salt"
    return
  fi
  depc_attrs_apply "$p" "$mode" "$owner" "$group"
}

#@@ depc_file_check_content sha256:91a920e1aec07607035a447bad075b9e70d544f5d14ede356e503ba3f8611aa4
# depc_file_check_content PATH SHA256 CONTENTFN NEW [SALT]: --check only.
# Writes CONTENTFN's output into the private temp dir, verifies its digest and
# prepares the unified diff against PATH (or /dev/null when NEW is 1) for
# depc_step to print. The old digest is in depc_digest when NEW is 0. With
# SALT (secret content) the "diff" is one line of salted fingerprints.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_file_check_content() {
  local old olddigest
  depc_write_content "$3" "$depc_tmp/new" "$1" || return 1
  if [ "$4" = 1 ]; then
    old=/dev/null
    olddigest='(none)'
  else
    old=$1
    olddigest=$depc_digest
  fi
  depc_sha256_of "$depc_tmp/new" || return 1
  if [ "$depc_digest" != "$2" ]; then
    depc_write_cause "$depc_tmp/new"
    if [ -n "$depc_cause" ]; then
      depc_error="cannot write the content of $1 to $depc_tmp/new: $depc_cause"
    elif [ -n "${5:-}" ]; then
      depc_error="secret content of $1 does not match its digest: the bundle is corrupt"
    else
      depc_error="content of $1 does not match its sha256 (expected $2, got $depc_digest): the bundle is corrupt"
    fi
    return 1
  fi
  if [ -n "${5:-}" ]; then
    depc_secret_diff "$old" "$depc_tmp/new" "$5"
    return
  fi
  depc_diff "$old" "$depc_tmp/new" "$1" "$olddigest" "$2"
}

#@@ depc_secret_diff sha256:34eb85ef132df4536ee4e7836ff5c0de253d824b2a65c65ffbac4e7768504be7
# depc_secret_diff OLD NEW SALT: the --check "diff" of secret content, into
# $depc_tmp/diff: "Secret content changed (fingerprint OLD -> NEW)", OLD being
# "(none)" for a new file. A fingerprint is the first 12 hex digits of
# sha256(SALT || content); SALT is secret (only in the bundle), so a
# fingerprint in a log does not allow guessing a short secret offline.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_secret_diff() {
  local before
  before='(none)'
  if [ "$1" != /dev/null ]; then
    depc_secret_fingerprint "$1" "$3" || return 1
    before=$depc_fingerprint
  fi
  depc_secret_fingerprint "$2" "$3" || return 1
  printf 'Secret content changed (fingerprint %s -> %s)\n' "$before" "$depc_fingerprint" >"$depc_tmp/diff"
  depc_has_diff=1
  return 0
}

#@@ depc_secret_fingerprint sha256:98ad5fc02d89d1b70c38e28b438c4e5284c7980f2c105fe488b335e91890b0d9
# depc_secret_fingerprint FILE SALT: depc_fingerprint = the first 12 hex
# digits of sha256(SALT || FILE's bytes).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_secret_fingerprint() {
  local out
  if ! out=$({ printf '%s' "$2" && cat "$1"; } | depc_sha256_cmd 2>"$depc_tmp/err"); then
    depc_fail "cannot compute the fingerprint of $1" "$depc_tmp/err"
    return 1
  fi
  out=${out#\\}
  depc_fingerprint=${out%"${out#????????????}"}
  case $depc_fingerprint in
    *[!0-9a-f]* | '')
      depc_error="cannot compute the fingerprint of $1: unexpected output from $depc_sha_tool"
      return 1
      ;;
  esac
  return 0
}

#@@ depc_file_write sha256:98c9c8da6646cb43a665c3c4e35640537669ae72e82bf9d617c7168872afbb74
# depc_file_write PATH DIR MODE OWNER GROUP SHA256 CONTENTFN NEW [SALT]:
# apply the content: mktemp in DIR, write, verify the digest (proves
# byte-exact transport), chown/chgrp/chmod the temp file, then mv -f over
# PATH. With SALT (secret content) the empty temp file (0600 from mktemp)
# gets its owner, group and mode first and the content is written after,
# so no other user can ever read it. The temp file is tracked in
# depc_inflight so failures and signals remove it. When NEW is 0, unmanaged
# attributes are copied from the last depc_stat.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_file_write() {
  local tmp mode owner group
  mode=$3 owner=$4 group=$5
  if [ "$8" = 1 ]; then
    [ -n "$mode" ] || mode=0644
  else
    [ -n "$mode" ] || mode=$depc_st_mode
    [ -n "$owner" ] || owner=$depc_st_uid
    [ -n "$group" ] || group=$depc_st_gid
  fi
  depc_mktemp "$2" || return 1
  tmp=$depc_inflight
  if [ -n "${9:-}" ]; then
    depc_file_attrs "$tmp" "$mode" "$owner" "$group" || return 1
  fi
  depc_write_content "$7" "$tmp" "$1" || return 1
  depc_sha256_of "$tmp" || return 1
  if [ "$depc_digest" != "$6" ]; then
    # Short content because the disk filled up is not a corrupt bundle.
    depc_write_cause "$tmp"
    if [ -n "$depc_cause" ]; then
      depc_error="cannot write the content of $1 to $tmp: $depc_cause"
    elif [ -n "${9:-}" ]; then
      depc_error="secret content written for $1 does not match its digest: the bundle is corrupt"
    else
      depc_error="content written for $1 does not match its sha256 (expected $6, got $depc_digest): the bundle is corrupt"
    fi
    return 1
  fi
  if [ -z "${9:-}" ]; then
    depc_file_attrs "$tmp" "$mode" "$owner" "$group" || return 1
  fi
  depc_try "cannot rename $tmp to $1" mv -f "$tmp" "$1" || return 1
  depc_inflight=
  return 0
}

#@@ depc_write_content sha256:902df0b5fc51c62d9987ffee974bdceebd879e18210fe9958273bb6ee50de146
# depc_write_content CONTENTFN OUT PATH: CONTENTFN's output (PATH's content)
# into the file OUT, in this shell (no process is left behind by a kill).
# A failed write is reported once, with its cause (depc_write_cause): the
# shells' printf say only "I/O error", once per call, or nothing, and their
# messages could not go to the temp dir if its disk is the full one.
# Returns 1 with depc_error set.
depc_write_content() {
  if "$1" 2>/dev/null >"$2"; then
    return 0
  fi
  depc_write_cause "$2"
  depc_error="cannot write the content of $3 to $2${depc_cause:+: $depc_cause}"
  return 1
}

#@@ depc_write_cause sha256:80ffd95bb389e7b9fe27332ddb76980dbb331aefba53f31dea188f17b9a5e657
# depc_write_cause FILE: why FILE cannot be written, into depc_cause: an
# append of 8 KiB (more than a partly filled page can take) by cat, which
# names the cause ("no space left on device", "disk quota exceeded", else
# cat's first line; '' when it could write). Used after a write failed
# (FILE is then dropped) or read back wrong.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_write_cause() {
  local pad n
  pad=0123456789abcdef
  n=0
  while [ "$n" -lt 9 ]; do
    pad=$pad$pad
    n=$((n + 1))
  done
  depc_cause=$(printf '%s\n' "$pad" 2>/dev/null | cat 2>&1 >>"$1")
  case $depc_cause in
    *'No space left on device'* | *ENOSPC*) depc_cause='no space left on device' ;;
    *'Disk quota exceeded'* | *EDQUOT*) depc_cause='disk quota exceeded' ;;
    *) depc_cause=${depc_cause%%"$depc_nl"*} ;;
  esac
}

#@@ depc_file_attrs sha256:5b70c2d510b0aa71f79be4d13f248177b5588afcbd01dfcd508e27cac0bc0710
# depc_file_attrs TMP MODE OWNER GROUP: owner and group (when given), then
# the mode (chown clears set-id bits) of a temp file.
depc_file_attrs() {
  if [ -n "$3" ] && [ -n "$4" ]; then
    depc_try "cannot change owner and group of $1 to $3:$4" chown "$3:$4" "$1" || return 1
  elif [ -n "$3" ]; then
    depc_try "cannot change owner of $1 to $3" chown "$3" "$1" || return 1
  elif [ -n "$4" ]; then
    depc_try "cannot change group of $1 to $4" chgrp "$4" "$1" || return 1
  fi
  depc_try "cannot change mode of $1 to $2" chmod "$2" "$1" || return 1
}

#@@ depc_file_remove sha256:fac663f863b39fad9110a6dd3e8fa38fc1b5a066e1cf7bf11f5ea8f6d27ab79f
# depc_file_remove PATH SECRET: removed (ledger.sh) if still a regular file;
# --check diffs the content going away (SECRET=1: one line, no content).
# shellcheck disable=SC2034 # sets globals read by other functions
depc_file_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -f "$1" ]; }; then
    depc_left="it is no longer a regular file"
    depc_left_warn=1
    return 0
  fi
  [ -f "$1" ] || return 0
  depc_remove_guard "$1" || return 0
  depc_change removed ''
  if [ "$depc_mode" = check ]; then
    if [ "$2" = 1 ]; then
      printf 'Secret content removed\n' >"$depc_tmp/diff"
      depc_has_diff=1
      return 0
    fi
    depc_sha256_of "$1" || return 1
    depc_diff "$1" /dev/null "$1" "$depc_digest" '(none)'
    return 0
  fi
  depc_try "cannot remove $1" rm -f "$1"
}

#@@ depc_file_stage sha256:d5c3057f781f1c416fcd8dad9337b46465d7da223d82443a649ae86843b7bc53
# depc_file_stage PATH MODE OWNER GROUP SHA256 CONTENTFN [SALT]: the staging
# pass of a batch of files (depc_batch_stage) in apply mode: a new,
# non-secret file whose directory exists gets its content written, by
# CONTENTFN, into the run's staging directory next to it
# (DIR/.depc.RUNID.s/NAME, mode 0700: nobody else can read it there) and is
# queued (depc_stage_queue) for depc_file_flush. Anything else (an existing
# path, a secret, a failure) is left to depc_file, which reports it exactly:
# returns 1, and the rest of the batch runs the normal way too
# (depc_batch_stage).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_file_stage() {
  local dir
  # Secret: its mode before its content, the normal way.
  [ -z "${7:-}" ] || return 1
  [ "$depc_mode" = apply ] || return 0
  if [ -e "$1" ] || [ -L "$1" ]; then
    return 1
  fi
  dir=${1%/*}
  [ -n "$dir" ] || dir=/
  [ -d "$dir" ] || return 1
  depc_stage_dir "$dir" || return 1
  if ! "$6" 2>/dev/null >"$depc_stage/${1##*/}"; then
    return 1
  fi
  depc_stage_queue "$depc_index" "$1" "$5" "${2:-0644}" "$3" "$4"
}

#@@ depc_file_flush sha256:697511a116fb0d62cadec36f5d84e7021a43c1e89530169cd413cb84ae9ea5bc
# depc_file_flush: complete the files depc_file_stage queued
# (depc_stage_commit), recording each one's reactions as owed before its
# rename (as depc_step does before a change); depc_file then only reports
# "created" for each completed one (depc_batch_done). One that was not
# completed, and every later one, runs the normal way: a failure stops the
# run where it would have stopped without the batch.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_file_flush() {
  local k
  depc_stage_commit depc_file_flush_owe
  k=1
  while [ "$k" -le "$depc_stage_good" ]; do
    eval "depc_index=\$depcb_i_$k"
    eval "depcb_done_$depc_index=1"
    k=$((k + 1))
  done
  return 0
}

#@@ depc_file_flush_owe sha256:7fb5698b3242678930be20ffc0fd67922ffd782e823ac445f1bf792ed15b93b1
# depc_file_flush_owe K: the reactions queued file K owes, recorded before
# its rename (depc_notifies).
depc_file_flush_owe() {
  eval "depc_index=\$depcb_i_$1"
  depc_notifies "$depc_index"
}

#@@ depc_group sha256:cf0ab71469f6060c1c464dd7bcd5b40b00689dd2007936a5fbac27ea01c0ab1b
# depc_group NAME SYSTEM GID: NAME is a group (SYSTEM=1: a system group), with
# GID when given ('' = unmanaged). A new group is recorded in
# STATE/principals before it is created: depc removes only groups it created.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_group() {
  local name system gid
  name=$1 system=$2 gid=$3
  depc_principals_load || return 1
  depc_group_lookup "$name"
  if [ "$depc_gr_found" = 1 ]; then
    [ -z "$gid" ] || [ "$depc_gr_gid" = "$gid" ] || depc_change gid "gid $depc_gr_gid -> $gid"
    [ -n "$depc_change_names" ] || return 0
    [ "$depc_mode" = apply ] || return 0
    depc_pw_loaded=0
    if command -v groupmod >/dev/null 2>&1; then
      depc_try "cannot change group $name" groupmod -g "$gid" -- "$name"
      return
    fi
    depc_error="cannot change gid of group $name on host $DEPC_HOST: there is no 'groupmod' (busybox addgroup cannot change a group)"
    return 1
  fi
  depc_change created created
  [ "$depc_mode" = apply ] || return 0
  depc_pw_loaded=0
  if command -v groupadd >/dev/null 2>&1; then
    set -- groupadd
    [ "$system" = 0 ] || set -- "$@" -r
    [ -z "$gid" ] || set -- "$@" -g "$gid"
    set -- "$@" --
  elif command -v addgroup >/dev/null 2>&1; then
    set -- addgroup
    [ "$system" = 0 ] || set -- "$@" -S
    [ -z "$gid" ] || set -- "$@" -g "$gid"
  else
    depc_error="cannot create group $name: host $DEPC_HOST has neither 'groupadd' nor busybox 'addgroup' (PATH=$PATH)"
    return 1
  fi
  depc_principal_record group "$name" || return 1
  depc_try "cannot create group $name" "$@" "$name"
}

#@@ depc_group_lookup sha256:023a1150cdea9e08b832ff95a7d57acd12fe5d3a9aaa41001d4fc296bf42471c
# depc_group_lookup NAME|GID: the group entry (by name, or by gid when all
# digits) into depc_gr_found (0/1), depc_gr_name, depc_gr_gid, depc_gr_members.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_group_lookup() {
  local g x gid members bygid
  depc_gr_found=0
  case $1 in
    *[!0-9]* | '') bygid=0 ;;
    *) bygid=1 ;;
  esac
  while IFS=: read -r g x gid members; do
    if { [ "$bygid" = 0 ] && [ "$g" = "$1" ]; } || { [ "$bygid" = 1 ] && [ "$gid" = "$1" ]; }; then
      depc_gr_found=1 depc_gr_name=$g depc_gr_gid=$gid depc_gr_members=$members
      return 0
    fi
  done <"$depc_tmp/group"
  return 0
}

#@@ depc_group_remove sha256:1109343f7ad3f6a34416fcbda676ff68608cb70449d2778977e96b10f9be9a84
# depc_group_remove NAME: groupdel (busybox: delgroup) when depc created the
# group (STATE/principals); a group depc did not create is left.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_group_remove() {
  depc_principals_load || return 1
  depc_group_lookup "$1"
  if [ "$depc_gr_found" = 0 ]; then
    [ "$depc_mode" != apply ] || depc_principal_forget group "$1"
    return
  fi
  if ! depc_principal_created group "$1"; then
    depc_left="it existed before depc managed it"
    return 0
  fi
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_pw_loaded=0
  if command -v groupdel >/dev/null 2>&1; then
    depc_try "cannot remove group $1" groupdel -- "$1" || return 1
  elif command -v delgroup >/dev/null 2>&1; then
    depc_try "cannot remove group $1" delgroup "$1" || return 1
  else
    depc_error="cannot remove group $1: host $DEPC_HOST has neither 'groupdel' nor busybox 'delgroup' (PATH=$PATH)"
    return 1
  fi
  depc_principal_forget group "$1"
}

#@@ depc_health sha256:df5e4edbae0c68080797d1adcf052796381b6cbd549cc12d447a52665ddf73f1
# depc_health LABEL PROBE RETRIES INTERVAL TIMEOUT ARGS...: up to RETRIES
# attempts of PROBE ARGS, INTERVAL seconds apart, each stopped after TIMEOUT
# seconds. Sets depc_health_result (passed/failed), depc_health_attempts,
# depc_health_secs (one decimal) and depc_note ("health passed: ..."), and
# records them for the report ($depc_tmp/health). Failure: depc_fail "LABEL
# failed after N attempts in S s: REASON" with the last attempt's output.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_health() {
  local label probe retries interval timeout start n
  label=$1 probe=$2 retries=$3 interval=$4 timeout=$5
  shift 5
  start=$(depc_health_clock)
  n=0
  if ! depc_health_tools "$probe"; then
    depc_health_done failed 0 "$start"
    return 1
  fi
  while :; do
    n=$((n + 1))
    if depc_health_attempt "$probe" "$timeout" "$@"; then
      depc_health_done passed "$n" "$start"
      return 0
    fi
    [ "$n" -lt "$retries" ] || break
    sleep "$interval"
  done
  depc_health_done failed "$n" "$start"
  depc_fail "$label failed after $depc_health_tries in ${depc_health_secs}s: $depc_health_why" "$depc_tmp/health.out"
}

#@@ depc_health_done sha256:b38c7082f37a25a587effa8beec1b591731504f6ade4c87ac6fedc54f68e56a9
# depc_health_done RESULT ATTEMPTS START: sets the results and appends
# "INDEX RESULT ATTEMPTS SECONDS" (TAB-separated) to $depc_tmp/health.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_health_done() {
  local d
  d=$(($(depc_health_clock) - $3))
  [ "$d" -ge 0 ] || d=0
  depc_health_result=$1
  depc_health_attempts=$2
  depc_health_secs=$((d / 100)).$((d % 100 / 10))
  depc_health_tries="$2 attempts"
  [ "$2" != 1 ] || depc_health_tries="1 attempt"
  depc_note="health $1: $depc_health_tries in ${depc_health_secs}s"
  printf '%s\t%s\t%s\t%s\n' "${depc_index:-0}" "$1" "$2" "$depc_health_secs" >>"$depc_tmp/health"
}

#@@ depc_health_clock sha256:0f42af536ac30bcce45fc4d4e5a9330799fa769002aac0fb84d1e90982e92772
# depc_health_clock: the time in hundredths of a second (/proc/uptime; else
# whole seconds from `date +%s`).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_health_clock() {
  local up rest whole frac
  if [ -r /proc/uptime ] && IFS=' ' read -r up rest </proc/uptime; then
    whole=${up%.*} frac=${up#*.}
    case $whole$frac in
      '' | *[!0-9]*) ;;
      *)
        frac=${frac%"${frac#??}"}
        echo $((whole * 100 + ${frac#0}))
        return 0
        ;;
    esac
  fi
  echo $(($(date +%s) * 100))
}

#@@ depc_health_tools sha256:120a471dc955bd1d52726b3919af238de9c36ee4baa00f82f35f94488c33c968
# depc_health_tools PROBE: the tools PROBE needs, probed once per run into
# depc_health_fetch (curl, wget, bbwget, busybox) or depc_health_connect
# (nc-z, nc, busybox, bash, python3). None: depc_error names the host and
# the tools, one line.
depc_health_tools() {
  case $1 in
    http)
      [ -z "${depc_health_fetch:-}" ] || return 0
      if command -v curl >/dev/null 2>&1; then
        depc_health_fetch=curl
      elif command -v wget >/dev/null 2>&1; then
        depc_health_fetch=bbwget
        ! wget --version 2>/dev/null | awk '/GNU Wget/ { f = 1 } END { exit !f }' || depc_health_fetch=wget
      elif command -v busybox >/dev/null 2>&1; then
        depc_health_fetch=busybox
      else
        depc_error="an HTTP check needs 'curl', 'wget' or 'busybox' on host $DEPC_HOST; none is on PATH ($PATH)"
        return 1
      fi
      ;;
    tcp)
      [ -z "${depc_health_connect:-}" ] || return 0
      if command -v nc >/dev/null 2>&1; then
        depc_health_connect=nc
        ! nc -h 2>&1 | awk '/^[ \t]*-z/ { f = 1 } END { exit !f }' || depc_health_connect=nc-z
      elif command -v bash >/dev/null 2>&1; then
        depc_health_connect=bash
      elif command -v python3 >/dev/null 2>&1; then
        depc_health_connect=python3
      elif command -v busybox >/dev/null 2>&1; then
        depc_health_connect=busybox
      else
        depc_error="a TCP check needs 'nc', 'bash', 'python3' or 'busybox' on host $DEPC_HOST; none is on PATH ($PATH)"
        return 1
      fi
      ;;
  esac
  case $1:${depc_health_fetch:-}:${depc_health_connect:-} in
    command:* | http:bbwget:* | http:busybox:* | tcp:*:bash)
      command -v timeout >/dev/null 2>&1 && return 0
      depc_error="a health check's timeout needs the 'timeout' tool on host $DEPC_HOST; it is not on PATH ($PATH)"
      return 1
      ;;
  esac
  return 0
}

#@@ depc_health_attempt sha256:b59e8443d1fe15f6723531b6e2134eca6ac196b7ba858fc814251e91e2055aab
# depc_health_attempt PROBE TIMEOUT ARGS...: one attempt; on failure
# depc_health_why says why and $depc_tmp/health.out holds the output.
depc_health_attempt() {
  : >"$depc_tmp/health.out"
  case $1 in
    http) depc_health_http "$2" "$3" "$4" "$5" ;;
    tcp) depc_health_tcp "$2" "$3" "$4" ;;
    command) depc_health_command "$2" "$3" "$4" ;;
    *)
      depc_health_why="unknown probe '$1'"
      return 1
      ;;
  esac
}

#@@ depc_health_http sha256:676644b9047ade6f885bede490060a7cefdf52ce6689838466faaaed972c6274
# depc_health_http TIMEOUT URL STATUS BODY: GET URL (redirects followed)
# answers STATUS, and a line of its body contains BODY ('' = any body).
# wget exits non-zero on 4xx/5xx, so its status comes from the last
# `HTTP/x NNN` header line `-S` prints; busybox wget keeps no body then.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_health_http() {
  local timeout url want body code rc
  timeout=$1 url=$2 want=$3 body=$4
  rm -f "$depc_tmp/health.body"
  : >"$depc_tmp/health.err"
  case $depc_health_fetch in
    curl)
      code=$(curl -sS -L -o "$depc_tmp/health.body" -w '%{http_code}' --max-time "$timeout" "$url" </dev/null 2>"$depc_tmp/health.err")
      rc=$?
      ;;
    wget)
      wget -nv -S --tries=1 --timeout="$timeout" --content-on-error -O "$depc_tmp/health.body" "$url" </dev/null 2>"$depc_tmp/health.err"
      rc=$?
      ;;
    bbwget)
      timeout "$timeout" wget -q -S -O "$depc_tmp/health.body" "$url" </dev/null 2>"$depc_tmp/health.err"
      rc=$?
      ;;
    busybox)
      timeout "$timeout" busybox wget -q -S -O "$depc_tmp/health.body" "$url" </dev/null 2>"$depc_tmp/health.err"
      rc=$?
      ;;
  esac
  if [ "$depc_health_fetch" != curl ]; then
    code=$(awk '$1 ~ /^HTTP\// && $2 ~ /^[0-9][0-9][0-9]$/ { c = $2 } END { print c }' "$depc_tmp/health.err")
  fi
  case $code in
    '' | 000)
      # GNU timeout exits 124; busybox's kills the program itself with TERM,
      # which the shell reports as 143 (yash: 399); curl's own limit is 28; GNU
      # wget says "Read error (Connection timed out)" and exits 4.
      depc_health_why="GET $url: no response"
      case $rc in
        124 | 143 | 399 | 28) depc_health_why="GET $url: no response within ${timeout}s" ;;
        *) ! awk '/timed out/ { f = 1 } END { exit !f }' "$depc_tmp/health.err" || depc_health_why="GET $url: no response within ${timeout}s" ;;
      esac
      depc_health_tail "$depc_tmp/health.err"
      return 1
      ;;
  esac
  if [ "$code" != "$want" ]; then
    depc_health_why="GET $url: status $code, expected $want"
    if [ -s "$depc_tmp/health.body" ]; then
      depc_health_tail "$depc_tmp/health.body"
    else
      # No body (busybox wget keeps none of a 4xx/5xx answer): the tool's
      # own words, without the headers -S printed (indented).
      awk '!/^  /' "$depc_tmp/health.err" >"$depc_tmp/health.msg"
      depc_health_tail "$depc_tmp/health.msg"
    fi
    return 1
  fi
  [ -n "$body" ] || return 0
  if [ -f "$depc_tmp/health.body" ] &&
    depc_health_body=$body awk 'index($0, ENVIRON["depc_health_body"]) { f = 1 } END { exit !f }' "$depc_tmp/health.body"; then
    return 0
  fi
  depc_health_why="GET $url: status $code, but no line of the body contains '$body'"
  depc_health_tail "$depc_tmp/health.body"
  return 1
}

#@@ depc_health_tcp sha256:bef59f63c09ac2561f0d3b53265a38c43f15990ae9355a744ae75d5c69f03401
# depc_health_tcp TIMEOUT HOST PORT: a TCP connection to HOST:PORT opens.
# shellcheck disable=SC3043,SC2016 # local is a deliberate extension; $1 and $2 are bash's, in single quotes on purpose
depc_health_tcp() {
  local timeout host port rc
  timeout=$1 host=$2 port=$3
  case $depc_health_connect in
    nc-z) nc -z -w "$timeout" "$host" "$port" </dev/null >"$depc_tmp/health.err" 2>&1 ;;
    nc) nc -w "$timeout" "$host" "$port" </dev/null >/dev/null 2>"$depc_tmp/health.err" ;;
    busybox) busybox nc -w "$timeout" "$host" "$port" </dev/null >/dev/null 2>"$depc_tmp/health.err" ;;
    bash) timeout "$timeout" bash -c 'exec 3<>"/dev/tcp/$1/$2"' depc "$host" "$port" </dev/null >"$depc_tmp/health.err" 2>&1 ;;
    python3)
      python3 -c 'import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3])).close()
except OSError as e:
    sys.exit(str(e))' "$host" "$port" "$timeout" </dev/null >"$depc_tmp/health.err" 2>&1
      ;;
  esac
  rc=$?
  [ "$rc" != 0 ] || return 0
  case $rc in
    124 | 143 | 399) depc_health_why="TCP connect to $host:$port: no answer within ${timeout}s" ;;
    *) depc_health_why="TCP connect to $host:$port failed" ;;
  esac
  depc_health_tail "$depc_tmp/health.err"
  return 1
}

#@@ depc_health_command sha256:be41a33748964b86c663463e80c4c68586cc884b94ec2aba42e08cd2a14c6149
# depc_health_command TIMEOUT DISPLAY RUNFN: RUNFN (the command, DISPLAY as
# reports show it) exits 0 within TIMEOUT seconds; stdin /dev/null, fd 9 closed.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_health_command() {
  local rc
  "$3" timeout "$1" </dev/null >"$depc_tmp/health.err" 2>&1 9>&-
  rc=$?
  [ "$rc" != 0 ] || return 0
  case $rc in
    124 | 143 | 399) depc_health_why="$2 timed out after ${1}s" ;;
    *) depc_health_why="$2 exited with status $rc" ;;
  esac
  depc_health_tail "$depc_tmp/health.err"
  return 1
}

#@@ depc_health_tail sha256:3cdf527686d072c323d16d69650ba3d002c2934eab64acbb6ac20356d8f4b827
# depc_health_tail FILE: FILE's last 10 lines, each cut to 200 characters,
# into $depc_tmp/health.out, escaped: C0 controls but tab, DEL, C1 controls
# and Unicode bidi controls become \xNN / \uNNNN (bytes a host controls must
# not move the operator's cursor or reorder a line).
depc_health_tail() {
  [ -f "$1" ] || return 0
  awk '
    BEGIN {
      for (i = 1; i < 32; i++) if (i != 9) esc[sprintf("%c", i)] = sprintf("\\x%02x", i)
      esc[sprintf("%c", 127)] = "\\x7f"
      for (i = 128; i < 160; i++) uesc[sprintf("%c%c", 194, i)] = sprintf("\\u%04x", i)
      n = split("200e 200f 202a 202b 202c 202d 202e 2066 2067 2068 2069 2028 2029 061c", cps, " ")
      for (k = 1; k <= n; k++) {
        h = cps[k]; v = 0
        for (j = 1; j <= 4; j++) v = v * 16 + index("0123456789abcdef", substr(h, j, 1)) - 1
        if (v < 2048) s = sprintf("%c%c", 192 + int(v / 64), 128 + v % 64)
        else s = sprintf("%c%c%c", 224 + int(v / 4096), 128 + int(v / 64) % 64, 128 + v % 64)
        uesc[s] = "\\u" h
      }
    }
    { l[NR % 10] = substr($0, 1, 200) }
    END {
      for (i = NR - 9; i <= NR; i++) {
        if (i < 1) continue
        s = l[i % 10]; out = ""
        while (s != "") {
          c = substr(s, 1, 1)
          if (c in esc) { out = out esc[c]; s = substr(s, 2); continue }
          t = substr(s, 1, 2); u = substr(s, 1, 3)
          if (t in uesc) { out = out uesc[t]; s = substr(s, 3); continue }
          if (u in uesc) { out = out uesc[u]; s = substr(s, 4); continue }
          out = out c; s = substr(s, 2)
        }
        print out
      }
    }' "$1" >"$depc_tmp/health.out" 2>/dev/null
}

#@@ depc_ledger_begin sha256:22b65c7a43fd8e0b00b1dd7d3d45e74d65ad790426a577ea2ce5e25b1d356b8d
# depc_ledger_begin: read STATE/ledger, compare it with the bundle's
# declared entries and prepare the removals (files in the private temp dir).
# Apply writes the union of both first. Returns 1 (message printed) when the
# ledger is from another depc version, damaged, or cannot be written.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_ledger_begin() {
  local old rc bad
  depc_lg_file=$depc_state_dir/ledger
  depc_lg_nrm=0
  depc_lg_fsame=1
  depc_lg_usame=1
  depc_lg_inplace=0
  depc_lg_hasold=0
  depc_n_removed=0
  depc_n_would_remove=0
  depc_n_not_removed=0
  depc_n_rm_failed=0
  depc_rm_gone=$depc_nl
  # A run killed while it wrote the ledger leaves the temp copy (the ledger
  # itself is whole: it is renamed into place); the next apply removes it.
  if [ "$depc_mode" = apply ] && [ "$depc_lock_held" = 1 ]; then
    rm -f "$depc_lg_file.new"
  fi
  command -v depc_ledger >/dev/null 2>&1 || return 0
  old=/dev/null
  [ ! -f "$depc_lg_file" ] || old=$depc_lg_file
  if [ -e "$depc_lg_file" ] && [ ! -f "$depc_lg_file" ]; then
    depc_err "the ledger $depc_lg_file is not a regular file; nothing was changed (move it away to deploy without removing anything)"
    return 1
  fi
  depc_ledger >"$depc_tmp/ledger.decl"
  awk -F '\t' -v tmp="$depc_tmp" -v report="${DEPC_REMOVALS:-remove}" '
    function unesc(s,   r, i, c, k) {
      r = ""
      k = length(s)
      for (i = 1; i <= k; i++) {
        c = substr(s, i, 1)
        if (c == "\\" && i < k) {
          c = substr(s, ++i, 1)
          if (c == "t") c = "\t"
          else if (c == "n") c = "\n"
        }
        r = r c
      }
      return r
    }
    function flagged(flags, f) { return index("," flags ",", "," f ",") > 0 }
    function withflags(line, flags,   n, a, i, r) {
      n = split(line, a, "\t")
      r = a[1] "\t" a[2] "\t" a[3] "\t" flags
      for (i = 5; i <= n; i++) r = r "\t" a[i]
      return r
    }
    FILENAME == ARGV[1] {
      if (NF >= 5) { p = $5; for (i = 6; i <= NF; i++) p = p "\t" $i; exists[p] = 1 }
      next
    }
    FILENAME == ARGV[2] {
      nd++; d[nd] = $0; did[nd] = $1 "\t" $2; dclaim[nd] = $3; dflags[nd] = $4
      if ($3 != "-") claims[$3] = 1
      declared[$1 "\t" $2] = nd
      next
    }
    {
      if (FNR == 1) {
        if ($0 == "depc-ledger 1") { hasold = 1; next }
        bad = ($0 ~ /^depc-ledger [0-9]/) ? "version\t" $0 : "damaged\tline 1 is not \"depc-ledger 1\""
        exit 3
      }
      if (ended) { bad = "damaged\tline " FNR " follows its end line"; exit 3 }
      if ($0 ~ /^depc-ledger-end [0-9]+$/) { ended = 1; endn = substr($0, 17) + 0; next }
      if (NF < 5 || $1 !~ /^[a-z][a-z0-9_]*$/ || $2 == "" || $3 == "" || $4 == "" || ($5 != "-" && $5 !~ /^depc_[a-z0-9_]+_remove$/)) {
        bad = "damaged\tline " FNR " is not a ledger entry"
        exit 3
      }
      no++; o[no] = $0; oid[no] = $1 "\t" $2; oclaim[no] = $3; oflags[no] = $4
      oldat[$1 "\t" $2] = no
    }
    END {
      if (bad != "") { print bad > (tmp "/ledger.bad"); exit 3 }
      if (hasold && !ended) { print "damaged\tit has no end line (cut short?)" > (tmp "/ledger.bad"); exit 3 }
      if (hasold && endn != no) { print "damaged\tits end line counts " endn " entries, it holds " no > (tmp "/ledger.bad"); exit 3 }
      inplace = 0
      for (i = 1; i <= nd; i++) {
        c = unesc(dclaim[i])
        if (dclaim[i] != "-" && (c in exists)) inplace++
        if (dclaim[i] != "-") print c > (tmp "/claims")
        f = ""
        nfl = split(dflags[i], fl, ",")
        for (j = 1; j <= nfl; j++) if (fl[j] != "ifnew" && fl[j] != "-" && fl[j] != "created") f = f (f == "" ? "" : ",") fl[j]
        if (flagged(dflags[i], "ifnew")) {
          k = oldat[did[i]]
          if (k ? flagged(oflags[k], "created") : !(c in exists)) f = f (f == "" ? "" : ",") "created"
        }
        u[++nu] = withflags(d[i], f == "" ? "-" : f)
      }
      nf = nu
      for (i = 1; i <= nf; i++) fin[i] = u[i]
      # Old entries the bundle does not declare, newest last; removed in reverse.
      for (i = 1; i <= no; i++) {
        if (oid[i] in declared) continue
        u[++nu] = o[i]
        if (flagged(oflags[i], "keep")) a = "keep"
        else if (oclaim[i] != "-" && (oclaim[i] in claims)) a = "claimed"
        else { a = "remove"; if (report == "report") fin[++nf] = o[i] }
        rm[++nrm] = a "\t" o[i]
        early[nrm] = flagged(oflags[i], "early")
      }
      printf "" > (tmp "/removals.early")
      printf "" > (tmp "/removals")
      for (i = nrm; i >= 1; i--) print rm[i] > (tmp (early[i] ? "/removals.early" : "/removals"))
      usame = (hasold && nu == no)
      for (i = 1; usame && i <= nu; i++) if (u[i] != o[i]) usame = 0
      fsame = (hasold && nf == no)
      for (i = 1; fsame && i <= nf; i++) if (fin[i] != o[i]) fsame = 0
      print "depc-ledger 1" > (tmp "/ledger.union")
      for (i = 1; i <= nu; i++) print u[i] > (tmp "/ledger.union")
      print "depc-ledger-end " (nu + 0) > (tmp "/ledger.union")
      print "depc-ledger 1" > (tmp "/ledger.final")
      for (i = 1; i <= nf; i++) print fin[i] > (tmp "/ledger.final")
      print "depc-ledger-end " (nf + 0) > (tmp "/ledger.final")
      print usame + 0, fsame + 0, inplace + 0, nrm + 0, hasold + 0 > (tmp "/ledger.status")
    }
  ' "$depc_tmp/facts.stat" "$depc_tmp/ledger.decl" "$old" 2>"$depc_tmp/err"
  rc=$?
  if [ "$rc" = 3 ] && IFS= read -r bad <"$depc_tmp/ledger.bad"; then
    case $bad in
      version*) depc_err "the ledger $depc_lg_file was written by another depc version (it starts with '${bad#*"$depc_tab"}'); nothing was changed (deploy with that version, or move the file away to deploy without removing anything)" ;;
      *) depc_err "the ledger $depc_lg_file is damaged (${bad#*"$depc_tab"}); nothing was changed (move it away to deploy without removing anything)" ;;
    esac
    return 1
  elif [ "$rc" != 0 ]; then
    depc_fail "cannot read the ledger $depc_lg_file" "$depc_tmp/err"
    depc_err "$depc_error"
    return 1
  fi
  read -r depc_lg_usame depc_lg_fsame depc_lg_inplace depc_lg_nrm depc_lg_hasold <"$depc_tmp/ledger.status"
  if [ "$depc_lg_hasold" = 0 ]; then
    # An apply logged without a ledger: a depc before ledgers (or a deleted ledger).
    if [ -f "$depc_state_dir/runs.log" ] && awk '$3 == "apply" { found = 1; exit } END { exit !found }' "$depc_state_dir/runs.log" 2>/dev/null; then
      depc_warn "no ledger in $depc_state_dir yet (its runs were made by an older depc, or it was deleted): nothing that left the model is removed by this run; from now on depc keeps track"
    elif [ "$depc_lg_inplace" -gt 0 ]; then
      # Paths that merely exist (/etc, /srv, a stock /etc/motd) say nothing;
      # files already holding exactly this bundle's content say depc was here.
      depc_lg_inplace=$(depc_expect | awk -F '\t' -v todo="$depc_todo" '$2 == "f" && index(todo, " " $1 " ") == 0 { n++ } END { print n + 0 }')
      if [ "${depc_lg_inplace:-0}" -gt 0 ]; then
        depc_warn "the state directory $depc_state_dir is new, but $depc_lg_inplace of this bundle's files are already in place with their exact content: if it was lost, what earlier runs put on this host and the model no longer declares is not removed (depc does not guess); from now on depc keeps track"
      fi
    fi
  fi
  if [ "$depc_mode" = apply ] && [ "$depc_lg_usame" != 1 ]; then
    depc_ledger_put "$depc_tmp/ledger.union" || return 1
  fi
  return 0
}

#@@ depc_ledger_put sha256:a941480363196d0e7399b6aca56c3d9f725ffe8a2d73ae7bda106543b85499be
# depc_ledger_put FILE: FILE becomes the ledger (copy, rename).
depc_ledger_put() {
  if ! cat "$1" 2>"$depc_tmp/err" >"$depc_lg_file.new" ||
    ! mv -f "$depc_lg_file.new" "$depc_lg_file" 2>>"$depc_tmp/err"; then
    depc_fail "cannot write the ledger $depc_lg_file" "$depc_tmp/err"
    depc_err "$depc_error"
    return 1
  fi
  return 0
}

#@@ depc_ledger_drop sha256:baadc73ced5776b34aff8cd1db0b19d3ae17545fe840747e6cc4a75b26b2b0ba
# depc_ledger_drop ENTRY: the line ENTRY leaves the ledger (awk, rename).
depc_ledger_drop() {
  printf '%s\n' "$1" >"$depc_tmp/drop"
  if ! awk '
    FILENAME == ARGV[1] { drop = $0; next }
    FNR == 1 { print; next }
    /^depc-ledger-end / { print "depc-ledger-end " (n + 0); next }
    $0 == drop && !done { done = 1; next }
    { n++; print }
  ' "$depc_tmp/drop" "$depc_lg_file" 2>"$depc_tmp/err" >"$depc_lg_file.new" ||
    ! mv -f "$depc_lg_file.new" "$depc_lg_file" 2>>"$depc_tmp/err"; then
    depc_fail "cannot update the ledger $depc_lg_file" "$depc_tmp/err"
    return 1
  fi
  return 0
}

#@@ depc_ledger_unescape sha256:2bc54f1cd4bd0a632fd8c9a74c36e4702ff7f1a74fc350c234203c0779b30472
# depc_ledger_unescape FIELD: its value into depc_dec. Builtins only.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_ledger_unescape() {
  local s out c
  s=$1
  case $s in
    *\\*) ;;
    *)
      depc_dec=$s
      return 0
      ;;
  esac
  out=
  while :; do
    case $s in
      *\\*) ;;
      *) break ;;
    esac
    out=$out${s%%\\*}
    s=${s#*\\}
    c=${s%"${s#?}"}
    s=${s#?}
    case $c in
      t) out=$out$depc_tab ;;
      n) out=$out$depc_nl ;;
      *) out=$out$c ;;
    esac
  done
  depc_dec=$out$s
}

#@@ depc_ledger_remove sha256:6cb6baab57f82a5a43c3b2e74049cba8f7e9a66050848059d88ca7c90feb1c72
# depc_ledger_remove LIST: run the removals of LIST (removals.early: before
# the resources; removals: after them), each line "ACTION<TAB>ENTRY". One
# line per removal: removed / would remove (with the diff of a file's
# content) / not removed (report-only) / left (with the reason, a warning
# when something is in the way) / kept (keep: true). Apply drops each entry
# from the ledger after it is done; a failed removal fails the run and stays
# in the ledger, so the next run tries again.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_ledger_remove() {
  local line entry rest field action claim fn saved status
  [ "${depc_lg_nrm:-0}" -gt 0 ] && [ -s "$depc_tmp/$1" ] || return 0
  while IFS= read -r line; do
    action=${line%%"$depc_tab"*}
    entry=${line#*"$depc_tab"}
    rest=$entry
    set --
    while :; do
      # (assigned first: posh misreads nested quotes inside "${...}")
      field=${rest%%"$depc_tab"*}
      depc_ledger_unescape "$field"
      set -- "$@" "$depc_dec"
      case $rest in
        *"$depc_tab"*) rest=${rest#*"$depc_tab"} ;;
        *) break ;;
      esac
    done
    depc_kind=$1 depc_key=$2 claim=$3 depc_rm_flags=$4 fn=$5
    shift 5
    case $action in
      keep)
        printf 'kept          %s %s (keep: true)\n' "$depc_kind" "$depc_key"
        printf '%s\t%s\t%s\tkept\t\t\n' - "$depc_kind" "$depc_key" >>"$depc_tmp/log"
        continue
        ;;
      claimed) continue ;;
    esac
    [ "$fn" != - ] || continue
    if ! command -v "$fn" >/dev/null 2>&1; then
      depc_error="this bundle cannot remove it: no function $fn (a ledger from another depc?)"
      fn=false
    fi
    depc_change_names=
    depc_change_text=
    depc_error=
    depc_has_diff=0
    depc_left=
    depc_left_warn=0
    saved=$depc_mode
    [ "${DEPC_REMOVALS:-remove}" != report ] || depc_mode=check
    "$fn" "$@" </dev/null
    status=$?
    depc_mode=$saved
    if [ "$status" != 0 ]; then
      depc_drop_inflight
      [ -n "$depc_error" ] || depc_error="failed (no reason given)"
      depc_n_rm_failed=$((depc_n_rm_failed + 1))
      depc_ledger_tail
      printf 'failed        %s %s: %s\n' "$depc_kind" "$depc_key" "$depc_error"
      depc_err "$depc_kind $depc_key: $depc_error"
      printf '%s\t%s\t%s\tfailed\tremove\t%s\n' - "$depc_kind" "$depc_key" "$depc_error" >>"$depc_tmp/log"
      [ "$depc_mode" != apply ] || depc_finish
      continue
    fi
    if [ -n "$depc_left" ]; then
      status=left
      printf 'left          %s %s (%s)\n' "$depc_kind" "$depc_key" "$depc_left"
      [ "$depc_left_warn" = 0 ] || depc_warn "$depc_kind $depc_key left in place: $depc_left"
    elif [ -z "$depc_change_names" ]; then
      status=
    elif [ "${DEPC_REMOVALS:-remove}" = report ]; then
      status='not removed'
      depc_n_not_removed=$((depc_n_not_removed + 1))
      printf 'not removed   %s %s (left the model; removal is report-only in environment %s)\n' "$depc_kind" "$depc_key" "$DEPC_ENV"
    elif [ "$depc_mode" = check ]; then
      status='would remove'
      depc_n_would_remove=$((depc_n_would_remove + 1))
      printf 'would remove  %s %s%s\n' "$depc_kind" "$depc_key" "${depc_change_text:+ ($depc_change_text)}"
      [ "$depc_has_diff" = 0 ] || cat "$depc_tmp/diff"
    else
      status=removed
      depc_n_removed=$((depc_n_removed + 1))
      printf 'removed       %s %s%s\n' "$depc_kind" "$depc_key" "${depc_change_text:+ ($depc_change_text)}"
    fi
    [ "$claim" = - ] || depc_rm_gone=$depc_rm_gone$claim$depc_nl
    [ -z "$status" ] || printf '%s\t%s\t%s\t%s\t%s\t\n' - "$depc_kind" "$depc_key" "$status" "$depc_change_names" >>"$depc_tmp/log"
    depc_ledger_tail
    if [ "$depc_mode" = apply ] && [ "${DEPC_REMOVALS:-remove}" != report ] && ! depc_ledger_drop "$entry"; then
      depc_n_rm_failed=$((depc_n_rm_failed + 1))
      depc_ledger_tail
      depc_err "$depc_error"
      depc_finish
    fi
  done <"$depc_tmp/$1"
  return 0
}

#@@ depc_ledger_finish sha256:5851585c21d60d9473b006612bf23ff96ebfa5fa09afb64f3225014f9f1e2b1a
# depc_ledger_finish: apply writes the final ledger when it differs from the
# one written at the start (only when old entries left the model).
depc_ledger_finish() {
  [ "$depc_mode" = apply ] && [ "${depc_lg_fsame:-1}" != 1 ] && [ "${depc_lg_nrm:-0}" -gt 0 ] || return 0
  depc_ledger_put "$depc_tmp/ledger.final" || exit 1
}

#@@ depc_ledger_tail sha256:e222fe69f5227e21ee9d767cea15d38a63cd949f114d33c3cd6a6f997b9a18de
# depc_ledger_tail: depc_rm_tail, the summary's removal counts.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_ledger_tail() {
  depc_rm_tail=
  [ "$depc_n_removed" = 0 ] || depc_rm_tail="$depc_rm_tail, $depc_n_removed removed"
  [ "$depc_n_would_remove" = 0 ] || depc_rm_tail="$depc_rm_tail, $depc_n_would_remove would remove"
  [ "$depc_n_not_removed" = 0 ] || depc_rm_tail="$depc_rm_tail, $depc_n_not_removed not removed (report-only)"
  [ "$depc_n_rm_failed" = 0 ] || depc_rm_tail="$depc_rm_tail, $depc_n_rm_failed removal failed"
}

#@@ depc_remove_guard sha256:8130e7cb51c860c3fff1fdd2caa6c02113fa55a9f8d1c4d2617529a4191161d2
# depc_remove_guard PATH: fails (depc_left set) when a link is on the way to
# PATH: a removal never follows one out of the managed path.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_remove_guard() {
  local dir phys
  dir=${1%/*}
  [ -n "$dir" ] || dir=/
  phys=$(cd -P -- "$dir" 2>/dev/null && pwd -P) || return 1
  [ "$phys" != "$dir" ] || return 0
  depc_left="a symbolic link is on the way: $dir is $phys"
  depc_left_warn=1
  return 1
}

#@@ depc_remove_tree_ok sha256:b29273553567fba2a03703a448458068e54a687ca803bb1c1ef282a17b19a3a2
# depc_remove_tree_ok PATH: fails (depc_left set) when the bundle declares PATH
# or a path below it.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_remove_tree_ok() {
  local inside
  [ -f "$depc_tmp/claims" ] || return 0
  # The path travels in a file: awk -v would interpret backslashes in it.
  printf '%s\n' "$1" >"$depc_tmp/under"
  inside=$(awk 'FILENAME == ARGV[1] { p = $0; next } $0 == p || index($0, p "/") == 1 { print; exit }' "$depc_tmp/under" "$depc_tmp/claims")
  [ -n "$inside" ] || return 0
  depc_left="the model declares $inside"
  depc_left_warn=1
  return 1
}

#@@ depc_remove_contents sha256:224c1d0061874af6e5995460561d723f799177d0802abc5adfd9865d4a8a8a4c
# depc_remove_contents DIR: depc_rm_count entries, up to 5 names in
# depc_rm_names; what this run removed (--check: would) does not count.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_remove_contents() {
  local f
  depc_rm_names=
  depc_rm_count=0
  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    case $depc_rm_gone in
      *"$depc_nl$f$depc_nl"*) continue ;;
    esac
    depc_rm_count=$((depc_rm_count + 1))
    [ "$depc_rm_count" -gt 5 ] || depc_rm_names=${depc_rm_names:+$depc_rm_names, }${f##*/}
  done
  [ "$depc_rm_count" -le 5 ] || depc_rm_names="$depc_rm_names, ... ($depc_rm_count entries)"
}

#@@ depc_logrotate sha256:934c4667eecbdc61d33bf500a1cc7bc91bb7ade537ad4bac43101c6eb8aa53ac
# depc_logrotate ENTRIES...: (collected: all Logrotate entries of the host
# in one call; ENTRIES is NAME CONTENTFN per entry, ordinal 1 first) each
# entry in the file is CONTENTFN's text: added (created), rewritten
# (content) or left; entries of names not here (left the model) are left
# for their own removal. A file that changes is first checked with
# `logrotate -d` (config errors fail every entry, nothing is written), then
# written like a File (0644, root, atomically). --check attaches the file's
# diff to the first entry that changes.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_logrotate() {
  local f n st first
  f=/etc/logrotate.d/depc-$DEPC_ENV
  if ! command -v logrotate >/dev/null 2>&1; then
    depc_error="'logrotate' not found on host $DEPC_HOST (PATH=$PATH); install logrotate"
    return 1
  fi
  depc_logrotate_read "$f" || return 1
  : >"$depc_tmp/lr.want"
  while [ $# -ge 2 ]; do
    printf '# depc logrotate %s\n' "$1" >>"$depc_tmp/lr.want"
    depc_write_content "$2" "$depc_tmp/lr.entry" "$f" || return 1
    cat "$depc_tmp/lr.entry" >>"$depc_tmp/lr.want"
    shift 2
  done
  depc_logrotate_merge '' || return 1
  n=0
  first=
  while IFS= read -r st; do
    n=$((n + 1))
    case $st in
      created) depc_member_change "$n" created "added to $f" ;;
      content) depc_member_change "$n" content "changed in $f" ;;
      *) continue ;;
    esac
    [ -n "$first" ] || first=$n
  done <"$depc_tmp/lr.status"
  diff "$depc_tmp/lr.old" "$depc_tmp/lr.new" >/dev/null 2>&1 && return 0
  if [ -z "$first" ]; then
    # Only the header changed (a hand edit, another depc version).
    first=1
    depc_member_change 1 file "$f rewritten"
  fi
  depc_logrotate_validate "$f" || return 1
  if [ "$depc_mode" = check ]; then
    depc_diff "$depc_tmp/lr.old" "$depc_tmp/lr.new" "$f" - -
    depc_member_diff "$first" "$depc_tmp/diff"
    return 0
  fi
  depc_logrotate_write "$f"
}

#@@ depc_logrotate_read sha256:e0572043b6adb8b2bcdb340ea82908dc6836434aecd728e7bc48bf26f62ee8c2
# depc_logrotate_read FILE: FILE into $depc_tmp/lr.old (empty when missing).
# Something else than a regular file there fails.
depc_logrotate_read() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -f "$1" ]; }; then
    depc_error="$1 exists and is not a regular file"
    return 1
  fi
  if [ ! -f "$1" ]; then
    : >"$depc_tmp/lr.old"
    return 0
  fi
  depc_try "cannot read $1" cat "$1" >"$depc_tmp/lr.old"
}

#@@ depc_logrotate_merge sha256:0141f9bb5b001a1a2f01b41c8ac7ec559c586e582ab888d5b23c1fdddd805980
# depc_logrotate_merge DROP: one awk over $depc_tmp/lr.want and lr.old (both
# made of entries, each from its "# depc logrotate NAME" line to the next)
# into lr.new: a header line, the old entries in place (rewritten when
# wanted, DROP's left out), new ones appended; empty when no entry is left.
# lr.status: a line per wanted entry (created, content, ok), then "dropped"
# when DROP was there.
depc_logrotate_merge() {
  awk -v env="$DEPC_ENV" -v drop="$1" -v status="$depc_tmp/lr.status" '
    function add(kind, name, text) {
      if (kind == "w") { if (!(name in want)) { nw++; wname[nw] = name }; want[name] = text }
      else { if (!(name in old)) { no++; oname[no] = name }; old[name] = text }
    }
    FNR == 1 { if (cur != "") add(kind, cur, text); cur = ""; text = ""; kind = (FILENAME == ARGV[1]) ? "w" : "o" }
    /^# depc logrotate / {
      if (cur != "") add(kind, cur, text)
      cur = substr($0, 18); text = ""
      next
    }
    cur != "" { text = text $0 "\n" }
    END {
      if (cur != "") add(kind, cur, text)
      printf "" > status
      for (j = 1; j <= nw; j++) {
        nm = wname[j]
        print (!(nm in old) ? "created" : old[nm] == want[nm] ? "ok" : "content") > status
      }
      c = 0
      for (j = 1; j <= no; j++) {
        nm = oname[j]
        if (nm == drop) { print "dropped" > status; continue }
        c++; nname[c] = nm; ntext[c] = (nm in want) ? want[nm] : old[nm]
      }
      for (j = 1; j <= nw; j++) if (!(wname[j] in old)) { c++; nname[c] = wname[j]; ntext[c] = want[wname[j]] }
      if (c == 0) exit 0
      print "# Written by depc for environment " env ": one entry per Logrotate of the model. Edits are overwritten."
      for (j = 1; j <= c; j++) printf "# depc logrotate %s\n%s", nname[j], ntext[j]
    }' "$depc_tmp/lr.want" "$depc_tmp/lr.old" >"$depc_tmp/lr.new" 2>"$depc_tmp/err" && return 0
  depc_fail "cannot merge the logrotate entries (awk)" "$depc_tmp/err"
}

#@@ depc_logrotate_validate sha256:b096cc0cfac9b37f696dba31526985be2c376f1ceee41fa068d84d4b6dc6e4a3
# depc_logrotate_validate FILE: `logrotate -d` reads $depc_tmp/lr.new; its
# config errors (lines "error: CONFIG:LINE ...", e.g. an unknown option or
# su user) fail with those lines, naming FILE. Missing logs are no error.
depc_logrotate_validate() {
  chmod 0644 "$depc_tmp/lr.new" 2>/dev/null
  logrotate -d -s "$depc_tmp/lr.state" "$depc_tmp/lr.new" >/dev/null 2>"$depc_tmp/lr.check"
  awk -v tmp="$depc_tmp/lr.new" -v f="$1" 'index($0, "error: " tmp ":") == 1 { print "error: " f substr($0, length(tmp) + 8) }' \
    "$depc_tmp/lr.check" >"$depc_tmp/err" 2>/dev/null
  [ -s "$depc_tmp/err" ] || return 0
  depc_fail "logrotate rejects the new $1 (logrotate -d)" "$depc_tmp/err"
}

#@@ depc_logrotate_write sha256:9d358f0a2f0374b1c015ada593fcccd37c5839fa722b76568cee1fbd277fe1ba
# depc_logrotate_write FILE: (apply) $depc_tmp/lr.new becomes FILE, like a
# File (0644, root, temp file and rename); an empty one removes FILE. The
# caller's recorded changes are kept as they were (depc_file records its own).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_logrotate_write() {
  local names text
  if [ ! -s "$depc_tmp/lr.new" ]; then
    depc_try "cannot remove $1" rm -f "$1"
    return
  fi
  depc_sha256_of "$depc_tmp/lr.new" || return 1
  names=$depc_change_names text=$depc_change_text
  depc_file "$1" 0644 0 0 "$depc_digest" depc_logrotate_content || return 1
  depc_change_names=$names depc_change_text=$text
  return 0
}

#@@ depc_logrotate_content sha256:fd7deb0237ecf357f8ddd651207ee5029dd9f1fd61533f5fe8032d47aa589fdf
# depc_logrotate_content: the new file's bytes, for depc_file.
depc_logrotate_content() {
  cat "$depc_tmp/lr.new"
}

#@@ depc_logrotate_remove sha256:9217d3607b8f2e4fc4054d79330bdd6da6f9637791ba26486dcfb55ad250f78f
# depc_logrotate_remove NAME: (ledger.sh) the entry NAME leaves the file;
# the file goes with its last entry. --check shows the diff. Not there: nothing.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_logrotate_remove() {
  local f
  f=/etc/logrotate.d/depc-$DEPC_ENV
  [ -f "$f" ] || return 0
  depc_logrotate_read "$f" || return 1
  : >"$depc_tmp/lr.want"
  depc_logrotate_merge "$1" || return 1
  grep -q '^dropped$' "$depc_tmp/lr.status" || return 0
  depc_change removed "removed from $f"
  if [ "$depc_mode" = check ]; then
    depc_diff "$depc_tmp/lr.old" "$depc_tmp/lr.new" "$f" - -
    return 0
  fi
  depc_logrotate_write "$f"
}

#@@ depc_owed_load sha256:35704fad049070db0a38cacd67caeb0a88deae882f862c3fac1aeaa980176866
# Read the reactions owed by earlier runs from the state directory.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_owed_load() {
  local line
  depc_owed=$depc_nl
  [ -f "$depc_state_dir/owed" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    [ -n "$line" ] || continue
    case $depc_owed in
      *"$depc_nl$line$depc_nl"*) ;;
      *) depc_owed=$depc_owed$line$depc_nl ;;
    esac
  done <"$depc_state_dir/owed"
}

#@@ depc_owe sha256:0ecda369435738f95b279d617e651eb05605ae666c76d4702e8615fff03d7211
# depc_owe KEY: the reaction KEY ("kind:name") is owed. Apply mode appends it
# to the state directory's owed file first. Returns 1 with depc_error set
# when it cannot be recorded (the change must then not be reported as done).
# shellcheck disable=SC2034 # sets globals read by other functions
depc_owe() {
  case $depc_owed in
    *"$depc_nl$1$depc_nl"*) return 0 ;;
  esac
  if [ "$depc_mode" = apply ]; then
    if ! printf '%s\n' "$1" 2>"$depc_tmp/err" >>"$depc_state_dir/owed"; then
      depc_fail "cannot record the owed $1 in $depc_state_dir/owed" "$depc_tmp/err"
      return 1
    fi
  fi
  depc_owed=$depc_owed$1$depc_nl
  depc_owe_new=$depc_owe_new$1$depc_nl
}

#@@ depc_is_owed sha256:ba6fc4cb8c303ae1db40d90c156f3e4f3e2060820d5f03128ca501cec744b9bd
# depc_is_owed KEY: whether KEY is owed, by this run or an earlier one.
depc_is_owed() {
  case $depc_owed in
    *"$depc_nl$1$depc_nl"*) return 0 ;;
  esac
  return 1
}

#@@ depc_settle sha256:f2223f344c05fbd9023643507f4888d4f70e7aeb030bd04f27ae37761f294d21
# depc_settle KEY: the reaction KEY is done; apply mode rewrites the owed
# file without it (atomically: temp file, then rename).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_settle() {
  local rest line saved_ifs
  depc_is_owed "$1" || return 0
  rest=$depc_nl
  saved_ifs=$IFS
  IFS=$depc_nl
  set -f
  for line in $depc_owed; do
    [ "$line" = "$1" ] || rest=$rest$line$depc_nl
  done
  set +f
  IFS=$saved_ifs
  depc_owed=$rest
  [ "$depc_mode" = apply ] || return 0
  if ! printf '%s' "${rest#"$depc_nl"}" 2>"$depc_tmp/err" >"$depc_state_dir/owed.new" ||
    ! mv -f "$depc_state_dir/owed.new" "$depc_state_dir/owed" 2>>"$depc_tmp/err"; then
    depc_fail "cannot update $depc_state_dir/owed" "$depc_tmp/err"
    return 1
  fi
}

#@@ depc_unowe sha256:d6aa6523839700fbf1a4570aee093bd1f48d3820f02839ba84611f996717d79d
# depc_unowe: the current step changed nothing: withdraw the reactions it
# recorded before it ran (depc_owe_new). A failure to rewrite the file only
# means they run once more: a warning, not a failed step.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_unowe() {
  local key saved_ifs
  saved_ifs=$IFS
  IFS=$depc_nl
  set -f
  for key in $depc_owe_new; do
    IFS=$saved_ifs
    depc_settle "$key" || depc_warn "$depc_error"
  done
  set +f
  IFS=$saved_ifs
  depc_owe_new=$depc_nl
  depc_error=
}

#@@ depc_package sha256:a465b4a39dcd7a41db5f1760193cd0d951336dd1e8a2d8111cb026d18d7f2e27
# depc_package PACKAGES...: PACKAGES are NAME VERSION pairs (VERSION '' =
# any version); pair N is the group's member N. Reports each member with
# depc_member_change / depc_member_fail. Fails as a whole (every member)
# when the host has neither dpkg-query and apt-get nor apk.
depc_package() {
  if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    depc_package_apt "$@"
  elif command -v apk >/dev/null 2>&1; then
    depc_package_apk "$@"
  else
    depc_error="host $DEPC_HOST has neither dpkg-query and apt-get (Debian, Ubuntu) nor apk (Alpine), so it cannot install packages (PATH=$PATH)"
    return 1
  fi
}

#@@ depc_package_apt sha256:1eb985a00ec1dbfa54c498576a170d8d103f0628e8b2b0e59ce15cc531ce1fa5
# depc_package_apt PACKAGES...: depc_package on Debian and Ubuntu.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_package_apt() {
  local n word name version names what todo words new rc
  depc_pkg_tool="apt-get install"
  names=$(depc_package_names "$@")
  depc_package_query "$names" || return 1
  todo=
  words=
  new=
  n=0
  while [ $# -ge 2 ]; do
    n=$((n + 1))
    name=$1
    version=$2
    shift 2
    if depc_package_installed "$depc_tmp/pkg.state" "$name"; then
      if [ -z "$version" ] || [ "$version" = "$depc_pkg_version" ]; then continue; fi
      what=upgrade
      dpkg --compare-versions "$version" gt "$depc_pkg_version" 2>/dev/null || what=downgrade
      todo="$todo$n$depc_tab$what$depc_tab$name$depc_tab$depc_pkg_version -> $version$depc_nl"
    else
      new="$new $name"
      todo="$todo$n${depc_tab}install$depc_tab$name$depc_tab$version$depc_nl"
    fi
    words="$words $name${version:+=$version}"
  done
  [ -n "$todo" ] || return 0
  if [ "$depc_mode" = check ]; then
    depc_package_candidates "$new"
    depc_package_report "$todo" candidate
    return 0
  fi
  depc_package_mark "$new" || return 1
  depc_invalidate_facts
  depc_package_apt_install "$words"
  rc=$?
  if [ "$rc" != 0 ]; then
    depc_package_failed "$todo" "apt-get install$words failed (exit status $rc)"
    return 0
  fi
  depc_package_query "$names" || return 1
  depc_package_report "$todo" installed
}

#@@ depc_package_names sha256:a884f449807ba31d84a082627b921809c4e9f133c06b26bdd050e7990b37f33d
# depc_package_names PACKAGES...: prints the names of the NAME VERSION
# pairs, space-separated (a command substitution; builtins only).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_names() {
  local names
  names=
  while [ $# -ge 2 ]; do
    names="$names $1"
    shift 2
  done
  printf '%s\n' "$names"
}

#@@ depc_package_query sha256:9a0fe455c35fa77f0915e88f3e503678359d9bcb6f47aaf19999bfaf48d3537e
# depc_package_query NAMES: one dpkg-query for NAMES (a space-separated
# list) into $depc_tmp/pkg.state: `BINARYNAME<TAB>NAME<TAB>VERSION<TAB>STATUS`
# lines (STATUS: dpkg's abbreviation, `ii ` installed). Unknown names are no
# error (dpkg-query exits 1 for them); anything worse fails every member.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; NAMES split on purpose
depc_package_query() {
  local rc
  set -f
  dpkg-query -W -f '${binary:Package}\t${Package}\t${Version}\t${db:Status-Abbrev}\n' $1 \
    >"$depc_tmp/pkg.state" 2>"$depc_tmp/pkg.err" </dev/null
  rc=$?
  set +f
  [ "$rc" -le 1 ] && return 0
  depc_fail "dpkg-query failed (exit status $rc)" "$depc_tmp/pkg.err"
}

#@@ depc_package_installed sha256:652471886a7c2e7865cdb1f43ccf5b28658b95f6e5845dd4cc3c01f6c49fa4c1
# depc_package_installed FILE NAME: whether dpkg-query's FILE (see
# depc_package_query) shows NAME installed (as NAME or NAME:ARCH); its
# version into depc_pkg_version ('' when not installed). Builtins only.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_package_installed() {
  local bin pkg ver status
  depc_pkg_version=
  while IFS="$depc_tab" read -r bin pkg ver status; do
    [ "$bin" = "$2" ] || [ "$pkg" = "$2" ] || continue
    case $status in
      ii*)
        depc_pkg_version=$ver
        return 0
        ;;
    esac
  done <"$1"
  return 1
}

#@@ depc_package_candidates sha256:dbbba43525191ed4ae490f2469a1a05bb1c68fd0d2986242cad006c1e65f6922
# depc_package_candidates NAMES: --check: the versions apt would install
# for NAMES, from the package index as it is (one apt-cache policy; no
# index refresh in --check), into $depc_tmp/pkg.cand as `NAME<TAB>VERSION`.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; NAMES split on purpose
depc_package_candidates() {
  local line name
  : >"$depc_tmp/pkg.cand"
  [ -n "$1" ] || return 0
  set -f
  apt-cache policy $1 </dev/null 2>/dev/null >"$depc_tmp/pkg.policy"
  set +f
  name=
  while IFS= read -r line; do
    case $line in
      [!\ ]*:) name=${line%:} ;;
      *"Candidate: (none)") ;;
      *Candidate:\ *) printf '%s\t%s\n' "$name" "${line##*Candidate: }" >>"$depc_tmp/pkg.cand" ;;
    esac
  done <"$depc_tmp/pkg.policy"
}

#@@ depc_package_report sha256:c12a98ab32ca7a18d4e9a802face8680d3327643468a20564f5c6f15385d85c3
# depc_package_report TODO candidate|installed: one change per member of
# TODO (lines `ORDINAL<TAB>WHAT<TAB>NAME<TAB>DETAIL`): --check says what
# would happen (`install 1.22.1-9`, the index's candidate; `upgrade A -> B`);
# after the install the version dpkg-query now shows (`installed 1.22.1-9`,
# `upgraded A -> B`). A member the install did not bring to its version fails.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_report() {
  local line n what name detail cand c cv saved_ifs
  saved_ifs=$IFS
  IFS=$depc_nl
  set -f
  for line in $1; do
    n=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    what=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    name=${line%%"$depc_tab"*}
    detail=${line#*"$depc_tab"}
    if [ "$2" = candidate ]; then
      if [ "$what" = install ] && [ -z "$detail" ]; then
        cand=
        while IFS="$depc_tab" read -r c cv; do
          [ "$c" != "$name" ] || cand=$cv
        done <"$depc_tmp/pkg.cand"
        detail=${cand:-"(not in the package index yet)"}
      fi
      depc_member_change "$n" "$what" "$what $detail"
      continue
    fi
    if ! depc_package_is_installed "$name"; then
      depc_member_fail "$n" "$depc_pkg_tool reported success, but $name is not installed"
      continue
    fi
    case $what in
      install) depc_member_change "$n" install "installed $depc_pkg_version" ;;
      *)
        if [ "${detail##* -> }" != "$depc_pkg_version" ]; then
          depc_member_fail "$n" "$depc_pkg_tool reported success, but $name is at version $depc_pkg_version, not ${detail##* -> }"
        else
          depc_member_change "$n" "$what" "${what}d $detail"
        fi
        ;;
    esac
  done
  set +f
  IFS=$saved_ifs
}

#@@ depc_package_failed sha256:c2fc176b1a553a45b2e3187fc5ed2b84402909cbec8078be1e1cf8cf56e5a119
# depc_package_failed TODO MESSAGE: the install failed: the first member of
# TODO fails with MESSAGE and the tool's output ($depc_tmp/pkg.out) as lines,
# the others (not installed either) name it.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_failed() {
  local line n rest first saved_ifs
  first=
  saved_ifs=$IFS
  IFS=$depc_nl
  set -f
  for line in $1; do
    n=${line%%"$depc_tab"*}
    rest=${line#*"$depc_tab"}
    rest=${rest#*"$depc_tab"}
    if [ -z "$first" ]; then
      first=${rest%%"$depc_tab"*}
      depc_member_fail "$n" "$2" "$depc_tmp/pkg.out"
    else
      depc_member_fail "$n" "not installed: the install of this host's packages failed (see package $first)"
    fi
  done
  set +f
  IFS=$saved_ifs
}

#@@ depc_package_apt_install sha256:5d425eb4e00ff288808c2b10de3c4e5d09af336ae4d3064e800f084e3a841ba3
# depc_package_apt_install WORDS: apt-get install WORDS (NAME or
# NAME=VERSION, space-separated), non-interactive, keeping changed config
# files (confdef/confold), without recommends, waiting up to 300 s for
# another apt or dpkg (unattended-upgrades) to let go of dpkg's lock; output
# in $depc_tmp/pkg.out,
# fds 3-9 closed (a daemon a maintainer script starts must not hold the
# run's output open). When apt cannot find a package or version, or fetch a
# file (a stale index), apt-get update and one more try; when a run killed
# during an install left dpkg interrupted, dpkg --configure -a first.
# Returns apt's status.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; WORDS split on purpose
depc_package_apt_install() {
  local rc
  set -f
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o DPkg::Lock::Timeout=300 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $1 \
    </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
  rc=$?
  # A run killed during an install leaves dpkg interrupted: finish that first.
  if [ "$rc" != 0 ] && awk '/dpkg was interrupted/ { found = 1 } END { exit !found }' "$depc_tmp/pkg.out"; then
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a --force-confdef --force-confold \
      </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o DPkg::Lock::Timeout=300 \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $1 \
      </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    rc=$?
  fi
  if [ "$rc" != 0 ] && awk '/Unable to locate package|has no installation candidate|^E: Version .* was not found|Failed to fetch|Unable to fetch some archives/ { found = 1 } END { exit !found }' "$depc_tmp/pkg.out"; then
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; then
      set +f
      return 100
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o DPkg::Lock::Timeout=300 \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $1 \
      </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    rc=$?
  fi
  set +f
  return "$rc"
}

#@@ depc_package_is_installed sha256:d385d350003c07c3f4aa5bb06e6244249757e69e0ac1b0c30b8b8717112dd870
# depc_package_is_installed NAME: depc_package_installed or, on Alpine,
# depc_package_apk_installed, on the last query ($depc_tmp/pkg.state).
depc_package_is_installed() {
  if [ "$depc_pkg_tool" = "apk add" ]; then
    depc_package_apk_installed "$depc_tmp/pkg.state" "$1"
  else
    depc_package_installed "$depc_tmp/pkg.state" "$1"
  fi
}

#@@ depc_package_apk sha256:0b6889adb4e2035f36b1e1029350fac9a0bfc3529c758deffbdc7f82e1d67113
# depc_package_apk PACKAGES...: depc_package on Alpine: one `apk info -v`
# (every installed NAME-VERSION), one `apk add` of the missing ones (NAME or
# NAME=VERSION); when it fails, `apk update` and one more try. --check shows
# a missing package's version only when it is pinned (apk has no candidate
# query every version of it supports).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_package_apk() {
  local n name version what todo words new rc
  depc_pkg_tool="apk add"
  depc_package_apk_query || return 1
  todo=
  words=
  new=
  n=0
  while [ $# -ge 2 ]; do
    n=$((n + 1))
    name=$1
    version=$2
    shift 2
    if depc_package_apk_installed "$depc_tmp/pkg.state" "$name"; then
      if [ -z "$version" ] || [ "$version" = "$depc_pkg_version" ]; then continue; fi
      what=upgrade
      [ "$(apk version -t "$version" "$depc_pkg_version" 2>/dev/null </dev/null)" = ">" ] || what=downgrade
      todo="$todo$n$depc_tab$what$depc_tab$name$depc_tab$depc_pkg_version -> $version$depc_nl"
    else
      new="$new $name"
      todo="$todo$n${depc_tab}install$depc_tab$name$depc_tab${version:-"(the index's version)"}$depc_nl"
    fi
    words="$words $name${version:+=$version}"
  done
  [ -n "$todo" ] || return 0
  if [ "$depc_mode" = check ]; then
    : >"$depc_tmp/pkg.cand"
    depc_package_report "$todo" candidate
    return 0
  fi
  depc_package_mark "$new" || return 1
  depc_invalidate_facts
  depc_package_apk_add "$words"
  rc=$?
  if [ "$rc" != 0 ]; then
    depc_package_failed "$todo" "apk add$words failed (exit status $rc)"
    return 0
  fi
  depc_package_apk_query || return 1
  depc_package_report "$todo" installed
}

#@@ depc_package_apk_query sha256:6584323e28d927a9ecff95dc4543b3fcf7cfe1edc5f78e52dd8a06aa5dba0696
# depc_package_apk_query: `apk info -v` (installed packages, NAME-VERSION a
# line) into $depc_tmp/pkg.state.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_apk_query() {
  local rc
  apk info -v </dev/null >"$depc_tmp/pkg.state" 2>"$depc_tmp/pkg.err"
  rc=$?
  [ "$rc" != 0 ] || return 0
  depc_fail "apk info -v failed (exit status $rc)" "$depc_tmp/pkg.err"
}

#@@ depc_package_apk_installed sha256:bdbbcc8927ac2cc164f4f332b2d783931d2658a32b321812b313676077e7faa2
# depc_package_apk_installed FILE NAME: whether `apk info -v`'s FILE shows
# NAME (a line NAME-VERSION, VERSION like 1.24.0-r6: a package whose name
# extends NAME, nginx-mod-http-..., does not count); its version into
# depc_pkg_version. Builtins only.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_package_apk_installed() {
  local line rest
  depc_pkg_version=
  while IFS= read -r line; do
    case $line in
      "$2"-[0-9]*) ;;
      *) continue ;;
    esac
    rest=${line#"$2"-}
    case $rest in
      *-*-*) ;;
      *-r[0-9]*)
        depc_pkg_version=$rest
        return 0
        ;;
    esac
  done <"$1"
  return 1
}

#@@ depc_package_apk_add sha256:d4fb162c0f237ce102293d6869c5094fd4ae9cc20960ef8312c8b963f9107c13
# depc_package_apk_add WORDS: apk add WORDS, output in $depc_tmp/pkg.out;
# after a failure, apk update and one more try. Returns apk's status.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; WORDS split on purpose
depc_package_apk_add() {
  local rc
  set -f
  apk add $1 </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
  rc=$?
  if [ "$rc" != 0 ]; then
    if ! apk update </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; then
      set +f
      return 99
    fi
    apk add $1 </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    rc=$?
  fi
  set +f
  return "$rc"
}

#@@ depc_package_mark sha256:14fc8a018b40c6b6a00a88a5862b30508b8ce440a63b13d970a01320886eb602
# depc_package_mark NAMES: apply: add NAMES (space-separated; the packages
# this run installs that were not installed) to STATE/packages, before the
# install runs. Fails every member when it cannot be written.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; NAMES split on purpose
depc_package_mark() {
  local name
  [ -n "$1" ] || return 0
  set -f
  for name in $1; do
    printf '%s\n' "$name"
  done 2>"$depc_tmp/err" >>"$depc_state_dir/packages" || {
    set +f
    depc_fail "cannot record the packages depc installs in $depc_state_dir/packages" "$depc_tmp/err"
    return 1
  }
  set +f
  return 0
}

#@@ depc_package_marked sha256:7e751f7884787b9fd52588111a05e0b37d1bae7797378e91a023cd645b238a42
# depc_package_marked NAME: whether STATE/packages names NAME (depc installed it).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_marked() {
  local line
  [ -f "$depc_state_dir/packages" ] || return 1
  while IFS= read -r line; do
    [ "$line" != "$1" ] || return 0
  done <"$depc_state_dir/packages"
  return 1
}

#@@ depc_package_unmark sha256:a1acc95e2700379553aa0299bab78f8280f8d5631537cf30eabce1a0debf6f3f
# depc_package_unmark NAME: apply: STATE/packages without NAME (awk, rename).
depc_package_unmark() {
  [ "$depc_mode" = apply ] && [ -f "$depc_state_dir/packages" ] || return 0
  printf '%s\n' "$1" >"$depc_tmp/unmark"
  if awk 'FILENAME == ARGV[1] { drop = $0; next } $0 != drop' "$depc_tmp/unmark" "$depc_state_dir/packages" \
    >"$depc_state_dir/packages.new" 2>"$depc_tmp/err" &&
    mv -f "$depc_state_dir/packages.new" "$depc_state_dir/packages" 2>>"$depc_tmp/err"; then
    return 0
  fi
  depc_fail "cannot update $depc_state_dir/packages" "$depc_tmp/err"
}

#@@ depc_package_remove sha256:d23b5a24f6f558a6989d990e660fd7861c8f660271bbffd17ce18d141ac93894
# depc_package_remove NAME: the Package left the model. Removed (apt-get
# remove, not purge: its config files stay; apk del) only when depc installed
# it (STATE/packages); a package that was on the host before is left. apt:
# left with a warning when removing it would remove other packages too (apt-get
# -s remove shows them). Not installed: nothing to do.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_remove() {
  local others line rc
  if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    depc_package_query "$1" || return 1
    if ! depc_package_installed "$depc_tmp/pkg.state" "$1"; then
      depc_package_unmark "$1"
      return
    fi
  elif command -v apk >/dev/null 2>&1; then
    depc_package_apk_query || return 1
    if ! depc_package_apk_installed "$depc_tmp/pkg.state" "$1"; then
      depc_package_unmark "$1"
      return
    fi
  else
    depc_error="host $DEPC_HOST has neither dpkg-query and apt-get (Debian, Ubuntu) nor apk (Alpine), so it cannot remove packages (PATH=$PATH)"
    return 1
  fi
  if ! depc_package_marked "$1"; then
    depc_left="it was on the host before depc installed it: depc removes only the packages it installed"
    return 0
  fi
  if command -v apk >/dev/null 2>&1 && ! command -v apt-get >/dev/null 2>&1; then
    if [ "$depc_mode" = apply ]; then
      apk del "$1" </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
      rc=$?
      [ "$rc" = 0 ] || {
        depc_fail "apk del $1 failed (exit status $rc)" "$depc_tmp/pkg.out"
        return 1
      }
      depc_package_unmark "$1" || return 1
    fi
    depc_change removed 'apk del'
    return 0
  fi
  # What else apt-get would remove (packages that depend on it): never those.
  apt-get -s remove "$1" </dev/null >"$depc_tmp/pkg.sim" 2>&1
  others=
  while IFS= read -r line; do
    case $line in
      "Remv $1 "* | "Remv $1:"*) ;;
      "Remv "*)
        line=${line#Remv }
        others="${others:+$others, }${line%% *}"
        ;;
    esac
  done <"$depc_tmp/pkg.sim"
  if [ -n "$others" ]; then
    depc_left="removing it would also remove packages that depend on it: $others"
    depc_left_warn=1
    return 0
  fi
  if [ "$depc_mode" = apply ]; then
    DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -o DPkg::Lock::Timeout=300 "$1" </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    rc=$?
    [ "$rc" = 0 ] || {
      depc_fail "apt-get remove $1 failed (exit status $rc)" "$depc_tmp/pkg.out"
      return 1
    }
    depc_package_unmark "$1" || return 1
  fi
  depc_change removed 'apt-get remove'
  return 0
}

#@@ depc_report_write sha256:ee6dd3b948318486001ffa0315729737d9d58cda39394ddd7446b7e59fd9961e
# depc_report_write EXIT_STATUS NOT_RUN: turn the step log (TSV: index, kind,
# key, status, change names joined by ",", error) into JSON lines in
# $depc_report_file with one awk pass: one object per resource that ran and
# per removal ("removal":true instead of an index), then {"summary":{...}}.
# A resource that ran a health check (health.sh: INDEX RESULT ATTEMPTS
# SECONDS lines in $depc_tmp/health, the last per index counts) gets
# "health":{"result":"passed","attempts":N,"seconds":S}.
# Returns 1 (with a message) when the file cannot be written.
depc_report_write() {
  printf '%s\n%s\n%s\n%s\n' "$DEPC_HOST" "$DEPC_ENV" "$DEPC_VERSION" "$DEPC_SOURCES" >"$depc_tmp/meta"
  [ -f "$depc_tmp/health" ] || : >"$depc_tmp/health"
  if ! awk -F '\t' \
    -v rc="$1" -v not_run="$2" -v n_ok="$depc_n_ok" -v n_changed="$depc_n_changed" \
    -v n_would="$depc_n_would" -v n_failed="$depc_n_failed" -v count="$DEPC_COUNT" \
    -v mode="$depc_mode" -v n_removed="${depc_n_removed:-0}" -v n_would_remove="${depc_n_would_remove:-0}" \
    -v n_not_removed="${depc_n_not_removed:-0}" -v n_rm_failed="${depc_n_rm_failed:-0}" '
    function esc(s,   r, i, c, n) {
      r = ""
      n = length(s)
      for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == "\\") r = r "\\\\"
        else if (c == "\"") r = r "\\\""
        else if (c == "\t") r = r "\\t"
        else if (c == "\n") r = r "\\n"
        else if (c == "\r") r = r "\\r"
        else if (c < " ") r = r " "
        else r = r c
      }
      return "\"" r "\""
    }
    FILENAME == ARGV[1] { m[FNR] = $0; next }
    FILENAME == ARGV[2] { h[$1] = "{\"result\":" esc($2) ",\"attempts\":" ($3 + 0) ",\"seconds\":" ($4 + 0) "}"; next }
    {
      # "-": a removal (ledger.sh), not a resource of this bundle.
      line = ($1 == "-" ? "{\"removal\":true" : "{\"index\":" ($1 + 0)) ",\"kind\":" esc($2) ",\"key\":" esc($3) ",\"status\":" esc($4) ",\"changes\":["
      k = split($5, ch, ",")
      for (i = 1; i <= k; i++) line = line (i > 1 ? "," : "") esc(ch[i])
      line = line "]"
      if ($1 != "-" && ($1 + 0) in h) line = line ",\"health\":" h[$1 + 0]
      if ($4 == "failed") {
        e = $6
        for (i = 7; i <= NF; i++) e = e " " $i
        line = line ",\"error\":" esc(e)
      }
      print line "}"
    }
    END {
      printf "{\"summary\":{\"host\":%s,\"env\":%s,\"mode\":%s,\"version\":%s,\"sources\":%s,", esc(m[1]), esc(m[2]), esc(mode), esc(m[3]), esc(m[4])
      printf "\"resources\":%d,\"ok\":%d,\"changed\":%d,\"would_change\":%d,\"failed\":%d,\"not_run\":%d,", count, n_ok, n_changed, n_would, n_failed, not_run
      printf "\"removed\":%d,\"would_remove\":%d,\"not_removed\":%d,\"removal_failed\":%d,\"exit\":%d}}\n", n_removed, n_would_remove, n_not_removed, n_rm_failed, rc
    }
  ' "$depc_tmp/meta" "$depc_tmp/health" "$depc_tmp/log" >"$depc_report_file" 2>"$depc_tmp/err"; then
    depc_fail "cannot write the report to $depc_report_file" "$depc_tmp/err"
    depc_err "$depc_error"
    return 1
  fi
  return 0
}

#@@ depc_masked sha256:8dc3e813f1a2b13a266ca902f3d501495da71cec02e133d3d99b2e8091a9fa7d
# depc_masked SECRETSFN CMD [ARGS...]: run CMD ARGS (exec'd in a subshell, so a
# program named like a builtin is still the program) with stdout and stderr
# into a private file, then print that output with every occurrence of every
# line of SECRETSFN's output replaced by ***. Returns CMD's status. Used by
# the run functions of commands with secrets, so a failure's output (which
# goes into messages and the report) never shows a secret.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_masked() {
  local fn rc
  fn=$1
  shift
  (exec "$@") >"$depc_tmp/masked" 2>&1
  rc=$?
  "$fn" | awk '
    NR == FNR { if ($0 != "") m[++n] = $0; next }
    {
      line = $0
      for (i = 1; i <= n; i++) {
        r = ""
        while ((k = index(line, m[i])) > 0) {
          r = r substr(line, 1, k - 1) "***"
          line = substr(line, k + length(m[i]))
        }
        line = r line
      }
      print line
    }
  ' - "$depc_tmp/masked"
  : >"$depc_tmp/masked"
  return "$rc"
}

#@@ depc_service sha256:ad1880ee231c7cbb12a41c922a17762a588c6d54248a8e566afb52b20add1ccb
# depc_service OWE NAME SHA256 CONTENTFN ENABLED RUNNING RELOAD STABLE [HEALTH...]: the unit
# NAME ("web.service") has the file /etc/systemd/system/NAME with
# CONTENTFN's bytes (digest SHA256, mode 0644, owned by root), is enabled
# (ENABLED=1; re-enabled when its [Install] section changed) or not, and
# runs (RUNNING=1) or not. A changed unit file is
# followed by one `systemctl daemon-reload` (also when systemd says it
# needs one: a run that stopped in between). A running service is
# restarted when its unit changed, and restarted — or reloaded when RELOAD
# is 1 and the unit can reload — when the reaction OWE ("service:NAME") is
# owed. A running service whose unit changes owes its own restart before
# the file is written, so a failure before the restart leaves it owed.
# Starting a stopped service, or a service that must not run, settles OWE.
# A start, restart or reload is done only when depc_service_proven agrees
# (HEALTH's check, STABLE seconds without a restart by systemd).
# --check asks systemd the same questions and changes nothing.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_service() {
  local owe name sha fn enabled running reload p new unit_changed details state reload_daemon was_active install_changed stable acted
  owe=$1 name=$2 sha=$3 fn=$4 enabled=$5 running=$6 reload=$7
  shift 7
  stable=${1:-0}
  [ $# -eq 0 ] || shift
  p=/etc/systemd/system/$name
  if [ ! -d /run/systemd/system ]; then
    depc_error="host $DEPC_HOST does not run systemd (there is no /run/systemd/system), so it cannot run service $name"
    return 1
  fi
  if ! command -v systemctl >/dev/null 2>&1; then
    depc_error="host $DEPC_HOST runs systemd but 'systemctl' is not on PATH ($PATH)"
    return 1
  fi
  depc_service_show "$name" || return 1
  was_active=0
  case $depc_svc_active in
    active | reloading | activating) was_active=1 ;;
  esac

  # The unit file: compared like a file, changes named "unit ...".
  unit_changed=0
  details=
  if [ -L "$p" ] || { [ -e "$p" ] && [ ! -f "$p" ]; }; then
    depc_error="$p exists and is not a regular file"
    return 1
  fi
  if [ -f "$p" ]; then
    new=0
    depc_stat "$p" || return 1
    depc_sha256_of "$p" || return 1
    if [ "$depc_digest" != "$sha" ]; then
      unit_changed=1
      details=content
    fi
    depc_attrs_compare 0644 0 0 0
    [ "$depc_need_mode" = 0 ] || details=${details:+$details, }"mode $depc_st_mode -> 0644"
    [ "$depc_need_owner" = 0 ] || details=${details:+$details, }"owner $depc_st_user -> root"
    [ "$depc_need_group" = 0 ] || details=${details:+$details, }"group $depc_st_group -> root"
  else
    new=1
    unit_changed=1
    details=created
  fi
  [ -z "$details" ] || depc_change unit "unit $details"
  if [ "$unit_changed" = 1 ] && [ "$was_active" = 1 ] && [ "$running" = 1 ]; then
    depc_owe "$owe" || return 1
  fi
  # An enabled unit whose [Install] section changes is re-enabled, so its
  # symlinks follow the new WantedBy=.
  install_changed=0
  if [ "$unit_changed" = 1 ] && [ "$new" = 0 ] && [ "$enabled" = 1 ]; then
    depc_service_install_section "$p" >"$depc_tmp/install.old"
    install_changed=1
  fi
  if [ "$depc_mode" = check ]; then
    if [ "$unit_changed" = 1 ]; then
      depc_file_check_content "$p" "$sha" "$fn" "$new" || return 1
      if [ "$install_changed" = 1 ]; then
        depc_service_install_section "$depc_tmp/new" >"$depc_tmp/install.new"
      fi
    fi
  elif [ "$unit_changed" = 1 ]; then
    depc_file_write "$p" /etc/systemd/system 0644 0 0 "$sha" "$fn" "$new" || return 1
    if [ "$install_changed" = 1 ]; then
      depc_service_install_section "$p" >"$depc_tmp/install.new"
    fi
  elif [ -n "$details" ]; then
    depc_attrs_apply "$p" 0644 0 0 || return 1
  fi
  if [ "$install_changed" = 1 ] && diff "$depc_tmp/install.old" "$depc_tmp/install.new" >/dev/null 2>&1; then
    install_changed=0
  fi

  # One daemon-reload when the unit changed (or systemd still has an old copy).
  reload_daemon=0
  if [ "$unit_changed" = 1 ] || [ "$depc_svc_need_reload" = yes ]; then
    reload_daemon=1
  fi

  # Enablement. `--no-reload` when the daemon-reload below follows anyway.
  systemctl is-enabled "$name" >"$depc_tmp/svc" 2>/dev/null
  state=
  IFS= read -r state <"$depc_tmp/svc"
  if [ "$enabled" = 1 ] && [ "$state" != enabled ]; then
    depc_change enable enable
    depc_service_enablement enable "$name" "$reload_daemon" || return 1
  elif [ "$enabled" = 1 ] && [ "$install_changed" = 1 ]; then
    depc_change reenable reenable
    depc_service_enablement reenable "$name" "$reload_daemon" || return 1
  elif [ "$enabled" = 0 ] && [ "$state" = enabled ]; then
    depc_change disable disable
    depc_service_enablement disable "$name" "$reload_daemon" || return 1
  fi

  if [ "$reload_daemon" = 1 ]; then
    depc_change daemon-reload daemon-reload
    if [ "$depc_mode" = apply ]; then
      depc_try "systemctl daemon-reload failed" systemctl daemon-reload || return 1
    fi
  fi

  # Running or not; restart or reload when the unit changed or a restart is owed.
  acted=0
  if [ "$running" = 1 ]; then
    acted=1
    if [ "$was_active" = 0 ]; then
      depc_change start start
      # Owed until proven (depc_service_proven): a run killed before its
      # check leaves the next run to restart and check it.
      [ "$depc_mode" != apply ] || depc_owe "$owe" || return 1
      depc_service_do start "$name" || return 1
    elif [ "$unit_changed" = 1 ]; then
      depc_change restart restart
      depc_service_do restart "$name" || return 1
    elif depc_is_owed "$owe"; then
      if [ "$reload" = 1 ] && [ "$depc_svc_can_reload" = yes ]; then
        depc_change reload "notified: reload"
        depc_service_do reload "$name" || return 1
      else
        depc_change restart "notified: restart"
        depc_service_do restart "$name" || return 1
      fi
    else
      acted=0
    fi
    if [ "$acted" = 1 ] && [ "$depc_mode" = apply ]; then
      depc_service_proven "$owe" "$name" "$stable" "$@" || return 1
    fi
  elif [ "$was_active" = 1 ]; then
    depc_change stop stop
    depc_service_do stop "$name" || return 1
  fi
  depc_settle "$owe"
}

#@@ depc_service_proven sha256:de1d7f2b899b9efdc89209eb955dc9212b791a503405290a9aeed2cc304b8df2
# depc_service_proven OWE NAME STABLE [HEALTH...]: a service just started,
# restarted or reloaded is done only when HEALTH's check passes
# (depc_health) and, STABLE seconds after the systemctl call returned, it is
# still active with the same MainPID and NRestarts (0: not watched; a
# `Restart=always` service that dies is restarted by systemd, which counts
# it). Otherwise it fails with the check's output or the unit's last
# journal lines, and OWE is owed again: the next run restarts and checks it.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_service_proven() {
  local owe name stable start now pid restarts
  owe=$1 name=$2 stable=$3
  shift 3
  start=$(depc_health_clock)
  depc_service_process "$name" || return 1
  pid=$depc_svc_pid restarts=$depc_svc_restarts
  if [ $# -gt 0 ] && ! depc_health "health check of $name" "$@"; then
    depc_owe "$owe"
    return 1
  fi
  # A oneshot's start waits until it has finished: nothing stays up to watch.
  [ "$stable" -gt 0 ] && [ "$depc_svc_type" != oneshot ] || return 0
  while :; do
    depc_service_process "$name" || return 1
    if [ "$depc_svc_active" != active ] || [ "$depc_svc_pid" != "$pid" ] || [ "$depc_svc_restarts" != "$restarts" ]; then
      break
    fi
    now=$(depc_health_clock)
    [ $((now - start)) -lt $((stable * 100)) ] || return 0
    sleep 0.25 2>/dev/null || sleep 1
  done
  if [ $# -gt 0 ]; then
    depc_health_done failed "$depc_health_attempts" "$start"
  fi
  depc_owe "$owe"
  : >"$depc_tmp/err"
  if command -v journalctl >/dev/null 2>&1; then
    journalctl -q --no-pager -o cat -n 10 -u "$name" >"$depc_tmp/err" 2>/dev/null
  fi
  depc_health_tail "$depc_tmp/err"
  depc_fail "$name did not stay up: it was active as pid $pid, then $depc_svc_active as pid $depc_svc_pid after $((depc_svc_restarts - restarts)) restarts by systemd within ${stable}s; its last journal lines" "$depc_tmp/health.out"
}

#@@ depc_service_process sha256:b10ff8ca6326364e1f989eb611ac921941c63ab15e936b58391be64af955a26a
# depc_service_process NAME: depc_svc_active (ActiveState), depc_svc_pid
# (MainPID), depc_svc_restarts (NRestarts, 0 before systemd 235) and
# depc_svc_type (Type).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_service_process() {
  local line
  depc_svc_pid=0 depc_svc_restarts=0 depc_svc_active='' depc_svc_type=''
  if ! systemctl show -p ActiveState -p MainPID -p NRestarts -p Type "$1" >"$depc_tmp/svc" 2>"$depc_tmp/err"; then
    depc_fail "systemctl show $1 failed" "$depc_tmp/err"
    return 1
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      ActiveState=*) depc_svc_active=${line#*=} ;;
      MainPID=*) depc_svc_pid=${line#*=} ;;
      NRestarts=?*) depc_svc_restarts=${line#*=} ;;
      Type=*) depc_svc_type=${line#*=} ;;
    esac
  done <"$depc_tmp/svc"
  return 0
}

#@@ depc_service_show sha256:29c1c4c8479434ae1e921723108329fdeb5558ec69b6f036fbf6b48d74032d86
# depc_service_show NAME: what systemd knows about unit NAME, from one
# `systemctl show`: depc_svc_active (ActiveState: active, inactive,
# failed...), depc_svc_need_reload (NeedDaemonReload: yes/no) and
# depc_svc_can_reload (CanReload: yes/no). Returns 1 with depc_error set.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_service_show() {
  local line
  depc_svc_active=
  depc_svc_need_reload=no
  depc_svc_can_reload=no
  if ! systemctl show -p ActiveState -p NeedDaemonReload -p CanReload "$1" >"$depc_tmp/svc" 2>"$depc_tmp/err"; then
    depc_fail "systemctl show $1 failed" "$depc_tmp/err"
    return 1
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      ActiveState=*) depc_svc_active=${line#*=} ;;
      NeedDaemonReload=*) depc_svc_need_reload=${line#*=} ;;
      CanReload=*) depc_svc_can_reload=${line#*=} ;;
    esac
  done <"$depc_tmp/svc"
  if [ -z "$depc_svc_active" ]; then
    depc_error="systemctl show $1 printed no ActiveState"
    return 1
  fi
  return 0
}

#@@ depc_service_install_section sha256:a7e1eedee04bd81a3f97ddd3432e5230df9cfa0060888e1808cea205e27c60e8
# depc_service_install_section FILE: print FILE's [Install] section (its
# lines from the header to the next section), to tell whether a changed
# unit needs re-enabling.
depc_service_install_section() {
  awk '/^[ \t]*\[/ { s = ($0 ~ /^[ \t]*\[Install\][ \t]*$/) } s' "$1" 2>/dev/null
}

#@@ depc_service_enablement sha256:bf0bbda589b2fe78d94a48b1d776e94c7504ddd618319651124c8f4483405818
# depc_service_enablement enable|reenable|disable NAME NORELOAD: apply mode
# only: `systemctl enable NAME` (with --no-reload when NORELOAD is 1: a
# daemon-reload follows), then checks that systemd agrees.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_service_enablement() {
  local state want
  [ "$depc_mode" = apply ] || return 0
  if [ "$3" = 1 ]; then
    depc_try "systemctl $1 $2 failed" systemctl --no-reload "$1" "$2" || return 1
  else
    depc_try "systemctl $1 $2 failed" systemctl "$1" "$2" || return 1
  fi
  systemctl is-enabled "$2" >"$depc_tmp/svc" 2>/dev/null
  state=
  IFS= read -r state <"$depc_tmp/svc"
  want=enabled
  [ "$1" != disable ] || want=disabled
  if [ "$state" != "$want" ]; then
    depc_error="systemctl $1 $2 left it ${state:-in an unknown state} (is-enabled), not $want"
    return 1
  fi
  return 0
}

#@@ depc_service_do sha256:8377cbda39b81e2f3267ce9840e7c5ce0c2d2b08e0e8ba326f974a00d40f230b
# depc_service_do start|stop|restart|reload NAME: apply mode only: run the
# systemctl action. Its effect on the host is opaque, so the preflight facts
# are no longer trusted. A failure carries systemctl's message and the
# unit's last journal lines when journalctl can read them.
depc_service_do() {
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  if systemctl "$1" "$2" 2>"$depc_tmp/err"; then
    return 0
  fi
  if command -v journalctl >/dev/null 2>&1; then
    journalctl -q --no-pager -o cat -n 5 -u "$2" >>"$depc_tmp/err" 2>/dev/null
  fi
  depc_fail "systemctl $1 $2 failed" "$depc_tmp/err"
}

#@@ depc_service_remove sha256:623df301d51a5e06618b7d64c6c9129a88e898f006e10a62a21989eaff341976
# depc_service_remove NAME: (ledger.sh, before the resources run) stopped,
# disabled, /etc/systemd/system/NAME removed, one daemon-reload.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_service_remove() {
  local p
  p=/etc/systemd/system/$1
  [ -f "$p" ] || [ -L "$p" ] || return 0
  if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
    depc_change removed 'unit removed'
    [ "$depc_mode" = apply ] || return 0
    depc_try "cannot remove $p" rm -f "$p"
    return
  fi
  depc_change removed 'stopped, disabled, unit removed'
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  depc_service_do stop "$1" || return 1
  depc_try "systemctl disable $1 failed" systemctl --no-reload disable "$1" || return 1
  depc_try "cannot remove $p" rm -f "$p" || return 1
  depc_try "systemctl daemon-reload failed" systemctl daemon-reload
}

#@@ depc_stage_dir sha256:31325a0d092ab06c05dc4982a66906cfac82e5628263a9e10ec7c319337110c4
# depc_stage_dir DIR: create the run's staging directory in DIR,
# DIR/.depc.RUNID.s (mode 0700), once per run and DIR; its name goes into
# depc_stage. DIR is written to the private temp dir's inflight record
# before the directory is made, so a run killed at any point leaves a name
# the next run finds (depc_lock_clean_after). Returns 1 when it cannot.
depc_stage_dir() {
  depc_stage=${1%/}/.depc.$depc_run_id.s
  case $depc_stage_dirs in
    *"$depc_nl$depc_stage$depc_nl"*) return 0 ;;
  esac
  { printf '%s\n' "$1" >>"$depc_tmp/inflight"; } 2>/dev/null || return 1
  mkdir -m 700 "$depc_stage" 2>/dev/null || return 1
  depc_stage_dirs=$depc_stage_dirs$depc_stage$depc_nl
  return 0
}

#@@ depc_stage_drop sha256:e8a236195fd3eda12463277ad8fb0b5b934cdec5aaea3231a4126c93ab737ffc
# depc_stage_drop: remove the run's staging directories (and what is still
# in them) and empty the inflight record. One process for all.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_stage_drop() {
  local rest d
  [ "$depc_stage_dirs" != "$depc_nl" ] || return 0
  rest=${depc_stage_dirs#"$depc_nl"}
  set --
  while [ -n "$rest" ]; do
    d=${rest%%"$depc_nl"*}
    rest=${rest#"$d$depc_nl"}
    set -- "$@" "$d"
  done
  rm -rf "$@" 2>/dev/null
  depc_stage_dirs=$depc_nl
  : >"$depc_tmp/inflight" 2>/dev/null
  return 0
}

#@@ depc_stage_queue sha256:93d43db07b0f6e07fbf21a1de51c029bb86b3730a9dd4ca494371899f50da15e
# depc_stage_queue INDEX PATH SHA256 MODE OWNER GROUP: queue the file
# staged as $depc_stage/NAME (NAME: PATH's last component) for
# depc_stage_commit.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_stage_queue() {
  local n
  n=$((depc_batch_n + 1))
  depc_batch_n=$n
  eval "depcb_i_$n=\$1 depcb_p_$n=\$2 depcb_s_$n=\$depc_stage depcb_h_$n=\$3 depcb_m_$n=\$4 depcb_o_$n=\$5 depcb_g_$n=\$6"
  return 0
}

#@@ depc_stage_commit sha256:04507b47bdba136ea4390dc7a68aa5a5c55dd8810d6aadf677e0f8c27c41fd6c
# depc_stage_commit HOOK: complete the queued files: ONE sha256 pass over
# the staged files (per 256) proves each byte-exact, then one chown per
# distinct owner and group and one chmod per distinct mode give them their
# attributes, then HOOK K runs for each (a non-zero status ends the good run
# before K), then one `mv -f` per directory renames each over its path.
# Only the longest run of queued files from the first on that passed every
# step is completed: depc_stage_good is its length. The staging directories
# are removed last and the queue is emptied.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_stage_commit() {
  local n k good start end line sums keys stage hook
  hook=$1
  n=$depc_batch_n
  depc_batch_n=0
  depc_stage_good=0
  [ "$n" -gt 0 ] || return 0
  good=$n
  # Digests, per 256 files; a failed tool run ends the good run before its chunk.
  k=1
  while [ "$k" -le "$good" ]; do
    start=$k
    set --
    while [ "$k" -le "$good" ] && [ $# -lt 256 ]; do
      eval "set -- \"\$@\" \"\$depcb_s_$k/\${depcb_p_$k##*/}\""
      k=$((k + 1))
    done
    end=$((k - 1))
    # Read by a command substitution: `read` takes one byte per system call.
    if ! sums=$(depc_sha256_cmd "$@" 2>/dev/null); then
      good=$((start - 1))
      break
    fi
    k=$start
    while [ "$k" -le "$end" ] && [ -n "$sums" ]; do
      line=${sums%%"$depc_nl"*}
      sums=${sums#"$line"}
      sums=${sums#"$depc_nl"}
      line=${line#\\}
      eval "[ \"\${line%%[!0-9a-f]*}\" = \"\$depcb_h_$k\" ]" || break
      k=$((k + 1))
    done
    if [ "$k" -le "$end" ]; then
      good=$((k - 1))
      break
    fi
  done
  # Owner and group, then mode (chown clears set-id bits): one call per value.
  depc_stage_attrs owner
  depc_stage_attrs mode
  k=1
  while [ "$k" -le "$good" ]; do
    if ! "$hook" "$k"; then
      good=$((k - 1))
      break
    fi
    k=$((k + 1))
  done
  depc_stage_renames
  depc_stage_good=$good
  depc_stage_drop
  return 0
}

#@@ depc_stage_value sha256:fc676577b6a194a5121800ff652c273d5d5f21028436a8acb8fe93718c5f7403
# depc_stage_value WHAT K: queued file K's owner:group (WHAT owner) or
# mode (WHAT mode) into depc_value.
# shellcheck disable=SC2034 # sets a global read by the caller
depc_stage_value() {
  depc_value=
  if [ "$1" = owner ]; then
    eval "depc_value=\$depcb_o_$2:\$depcb_g_$2"
  else
    eval "depc_value=\$depcb_m_$2"
  fi
}

#@@ depc_stage_attrs sha256:f09f401df55003c0ec40d2f68284a939dde591073af94bf338da8f59c4f45e80
# depc_stage_attrs WHAT: for each distinct owner:group (WHAT owner) or
# mode (WHAT mode) of the queued files 1..good, one chown/chgrp/chmod of
# the staged files that have it, per 256. A failure ends the good run
# before the first file of the failed call. Uses depc_stage_commit's `good`.
# shellcheck disable=SC3043,SC2154 # local is a deliberate extension; good is depc_stage_commit's
depc_stage_attrs() {
  local what keys key k first
  what=$1
  keys=$depc_nl
  k=1
  while [ "$k" -le "$good" ]; do
    depc_stage_value "$what" "$k"
    case $keys in
      *"$depc_nl$depc_value$depc_nl"*) ;;
      *) keys=$keys$depc_value$depc_nl ;;
    esac
    k=$((k + 1))
  done
  while [ -n "${keys#"$depc_nl"}" ]; do
    keys=${keys#"$depc_nl"}
    key=${keys%%"$depc_nl"*}
    keys=${keys#"$key"}
    [ "$key" != ':' ] || continue
    first=0
    k=1
    set --
    while [ "$k" -le "$good" ]; do
      depc_stage_value "$what" "$k"
      if [ "$depc_value" = "$key" ]; then
        [ "$first" != 0 ] || first=$k
        eval "set -- \"\$@\" \"\$depcb_s_$k/\${depcb_p_$k##*/}\""
      fi
      k=$((k + 1))
      if [ $# -ge 256 ] || { [ "$k" -gt "$good" ] && [ $# -gt 0 ]; }; then
        if ! depc_stage_attr "$what" "$key" "$@"; then
          good=$((first - 1))
          break
        fi
        first=0
        set --
      fi
    done
  done
  return 0
}

#@@ depc_stage_attr sha256:10233f53640137f234560b291c0d79935521666f9ff1dc33c8a407a0a5991eba
# depc_stage_attr WHAT VALUE FILE...: one chown OWNER:GROUP, chown
# OWNER or chgrp GROUP (WHAT owner, VALUE "OWNER:GROUP") or chmod VALUE
# (WHAT mode) of FILEs.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_stage_attr() {
  local what value
  what=$1
  value=$2
  shift 2
  if [ "$what" = mode ]; then
    chmod "$value" "$@" 2>/dev/null
  elif [ -z "${value#*:}" ]; then
    chown "${value%:}" "$@" 2>/dev/null
  elif [ -z "${value%:*}" ]; then
    chgrp "${value#:}" "$@" 2>/dev/null
  else
    chown "$value" "$@" 2>/dev/null
  fi
}

#@@ depc_stage_renames sha256:a2ef21cbc5858dbfa5938a2e69d052ac9ea0a906c5b7196eddd20f56f5990083
# depc_stage_renames: the queued files 1..good renamed over their paths,
# one `mv -f STAGED... DIR/` per run of consecutive files staged in one
# directory (per 256): rename(2) per file. When mv fails, the good run ends
# before that call's first file (some of its files may be in place: their
# next check finds them converged). Uses depc_stage_commit's `good`.
# shellcheck disable=SC3043,SC2154 # local is a deliberate extension; good is depc_stage_commit's
depc_stage_renames() {
  local k s stage first
  k=1
  first=1
  stage=
  set --
  while [ "$k" -le "$good" ]; do
    eval "s=\$depcb_s_$k"
    if [ $# -gt 0 ] && { [ "$s" != "$stage" ] || [ $# -ge 256 ]; }; then
      if ! mv -f "$@" "${stage%/*}/" 2>/dev/null; then
        good=$((first - 1))
        return 0
      fi
      set --
      first=$k
    fi
    stage=$s
    eval "set -- \"\$@\" \"\$s/\${depcb_p_$k##*/}\""
    k=$((k + 1))
  done
  if [ $# -gt 0 ] && ! mv -f "$@" "${stage%/*}/" 2>/dev/null; then
    good=$((first - 1))
  fi
  return 0
}

#@@ depc_state_init sha256:349265a23eb031cf9fa8787a09935fcfe28a47aa2abfe6735009ed5d872c3d5c
# depc_state_init: settle depc_state_dir: --state-dir, else
# /var/lib/depc/ENV as root, else ${XDG_STATE_HOME:-$HOME/.local/state}/depc/ENV.
# Apply creates it (mode 0700); check only reads what is there.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_state_init() {
  if [ -z "$depc_state_dir" ]; then
    if [ "$(id -u 2>/dev/null)" = 0 ]; then
      depc_state_dir=/var/lib/depc/$DEPC_ENV
    elif [ -n "${HOME:-}" ]; then
      depc_state_dir=${XDG_STATE_HOME:-$HOME/.local/state}/depc/$DEPC_ENV
    else
      depc_err "cannot choose a state directory: not root and HOME is not set; give --state-dir"
      return 1
    fi
  fi
  if [ "$depc_mode" = apply ] && [ ! -d "$depc_state_dir" ]; then
    if ! mkdir -p "$depc_state_dir" 2>"$depc_tmp/err" || ! chmod 700 "$depc_state_dir" 2>>"$depc_tmp/err"; then
      depc_fail "cannot create the state directory $depc_state_dir" "$depc_tmp/err"
      depc_err "$depc_error"
      return 1
    fi
  fi
  return 0
}

#@@ depc_proc_start sha256:36cbd7c45c66d8d90d5aa2f69d56aa5199f27a1badd646853135f9fc409c956b
# depc_proc_start PID: the start time of process PID (field 22 of
# /proc/PID/stat, clock ticks since boot) into depc_pstart; '' (return 1)
# where there is no /proc or the process is gone. The comm field may hold
# spaces and parentheses: fields are counted after its last ") ".
# shellcheck disable=SC3043,SC2034,SC2086 # local is a deliberate extension; sets globals; word splitting intended
depc_proc_start() {
  local line
  depc_pstart=
  [ -r "/proc/$1/stat" ] || return 1
  line=
  IFS= read -r line <"/proc/$1/stat" 2>/dev/null
  line=${line##*) }
  set -f
  set -- $line
  set +f
  [ $# -ge 20 ] || return 1
  shift 19
  depc_pstart=$1
  return 0
}

#@@ depc_lock_field sha256:eac366a13cff797b2c3ea519823ce56864d6741e2978683320eb8bf4524ac2c3
# depc_lock_field INFO NAME: the value of NAME=... in a lock's INFO into
# depc_field ('' when absent). `tmp=` is last and runs to the end (a path
# may hold spaces); the others are single words. (Named locals: posh
# mis-expands ${1#*"$2"}.)
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_lock_field() {
  local info name rest
  info=" $1"
  name=$2
  depc_field=
  case $info in
    *" $name="*) rest=${info#*" $name="} ;;
    *) return 1 ;;
  esac
  case $name in
    tmp) depc_field=$rest ;;
    *) depc_field=${rest%% *} ;;
  esac
  return 0
}

#@@ depc_lock_alive sha256:99f483189a02a989fc6cc8d1d6cafd36446c40bfba62e22acfe04480a0686229
# depc_lock_alive INFO: whether the run described by a lock's INFO is still
# running. `kill -0` decides (a failure other than "No such process" is a
# process of another user: alive); where /proc exists, a recorded start time
# that differs from the process's own means the pid was reused: gone.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_lock_alive() {
  local pid start
  depc_lock_field "$1" pid
  pid=$depc_field
  case $pid in
    '' | *[!0-9]*) return 1 ;;
  esac
  # Our own pid in a lock we do not hold yet: the pid was reused.
  [ "$pid" != "$$" ] || return 1
  if ! kill -0 "$pid" 2>"$depc_tmp/err"; then
    case $(cat "$depc_tmp/err" 2>/dev/null) in
      *[Nn]'o such process'* | *ESRCH*) return 1 ;;
      *[Nn]'ot permitted'* | *EPERM*) ;;
      *) return 1 ;;
    esac
  fi
  depc_lock_field "$1" start
  start=$depc_field
  case $start in
    '' | -) return 0 ;;
  esac
  if depc_proc_start "$pid" && [ "$depc_pstart" != "$start" ]; then
    return 1
  fi
  return 0
}

#@@ depc_lock_holder sha256:b3219879f6ee03c6603ea60f936761e4697301932f8983c9c7a5af2423bf803a
# depc_lock_holder INFO: "pid N, started TIME, user U (MODE)" for messages.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_lock_holder() {
  local pid since user mode
  depc_lock_field "$1" pid
  pid=${depc_field:-?}
  depc_lock_field "$1" since
  since=${depc_field:-?}
  depc_lock_field "$1" user
  user=${depc_field:-?}
  depc_lock_field "$1" mode
  mode=${depc_field:-?}
  depc_holder="pid $pid, started $since, user $user ($mode)"
}

#@@ depc_lock_clean_after sha256:3c218f7299ef8ccca9ea4c2bd8f3cd74e7474763bd057b26d9c70c8109586a3f
# depc_lock_clean_after INFO: remove what a killed run left behind: the
# in-flight temp files in the directories its private temp dir's inflight
# record names, one a line (DIR/.depc.RUNID.*: a temp file, or a batch's
# staging directory DIR/.depc.RUNID.s; RUNID from the temp dir's name depc.RUNID;
# a record of an older runtime holds one `.depc.*` file name) and that temp
# dir (only a `depc.*` dir holding the run's step log; with a second
# argument 1 also one without: depc_tmp_sweep, whose names are stricter).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_lock_clean_after() {
  local dir name id f
  depc_lock_field "$1" tmp || return 0
  dir=$depc_field
  case ${dir##*/} in
    depc.*) ;;
    *) return 0 ;;
  esac
  [ "$dir" != "$depc_tmp" ] || return 0
  [ -d "$dir" ] || return 0
  [ -f "$dir/log" ] || [ "${2:-0}" = 1 ] || return 0
  if [ -f "$dir/inflight" ]; then
    id=${dir##*/depc.}
    # One directory a line: a batch stages in several (its .depc.RUNID.s).
    while IFS= read -r name || [ -n "$name" ]; do
      [ -n "$name" ] || continue
      case ${name##*/} in
        .depc.*) rm -rf "$name" 2>/dev/null ;;
        *)
          case $id in
            *[!0-9A-Za-z.]* | '') ;;
            *)
              for f in "$name"/.depc."$id".*; do
                if [ -e "$f" ] || [ -L "$f" ]; then
                  rm -rf "$f" 2>/dev/null
                fi
              done
              ;;
          esac
          ;;
      esac
    done <"$dir/inflight" 2>/dev/null
  fi
  rm -rf "$dir" 2>/dev/null
  return 0
}

#@@ depc_lock_acquire sha256:2934a497170ebc0be115d488f982c62bc5b238ccf0756d29fffde581244d796e
# depc_lock_acquire: take the run's lock, $depc_state_dir/lock: a symlink
# whose target is the holder's description ("pid=N start=TICKS user=U
# since=TIME mode=M tmp=DIR"), created with `ln -s`, which is atomic and
# fails when the name exists, so the lock and its description appear
# together. A lock whose holder is gone (depc_lock_alive) is taken over with
# a warning, under a second lock ($depc_state_dir/lock.break) so that two
# runs never both take over one stale lock. --check takes the lock too (it
# must not read a half-applied host), but only when the state directory
# exists, and runs without it (with a warning) when it cannot write there.
# Returns 0 (depc_lock_held=1 when taken), 3 when another run holds it
# (message printed), 1 on an error (message printed).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_lock_acquire() {
  local lock brk user info info2 holder tries
  depc_lock_held=0
  depc_run_since=$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null) || depc_run_since=-
  [ -n "$depc_run_since" ] || depc_run_since=-
  if [ ! -d "$depc_state_dir" ]; then
    [ "$depc_mode" = check ] && return 0
    depc_err "the state directory $depc_state_dir does not exist"
    return 1
  fi
  lock=$depc_state_dir/lock
  brk=$depc_state_dir/lock.break
  user=${USER:-${LOGNAME:-}}
  if [ -z "$user" ]; then
    user=$(id -un 2>/dev/null) || user=
  fi
  case $user in
    '' | *[!A-Za-z0-9._@-]*) user=uid$(id -u 2>/dev/null) ;;
  esac
  depc_proc_start $$ || depc_pstart=-
  depc_lock_me="pid=$$ start=$depc_pstart user=$user since=$depc_run_since mode=$depc_mode tmp=$depc_tmp"
  depc_run_user=$user
  tries=0
  while [ "$tries" -lt 5 ]; do
    tries=$((tries + 1))
    if ln -s "$depc_lock_me" "$lock" 2>"$depc_tmp/err"; then
      depc_lock_held=1
      depc_lock_path=$lock
      return 0
    fi
    if [ ! -L "$lock" ]; then
      if [ -e "$lock" ]; then
        depc_err "$lock exists and is not a depc lock (a symbolic link); remove it if no depc run is active"
        return 1
      fi
      if [ "$depc_mode" = check ]; then
        depc_fail "cannot create the lock $lock" "$depc_tmp/err"
        depc_warn "$depc_error; checking without the lock"
        return 0
      fi
      depc_fail "cannot create the lock $lock" "$depc_tmp/err"
      depc_err "$depc_error"
      return 1
    fi
    if ! info=$(readlink "$lock" 2>/dev/null); then
      continue
    fi
    depc_lock_holder "$info"
    holder=$depc_holder
    if depc_lock_alive "$info"; then
      depc_err "another run holds the lock $lock: $holder"
      return 3
    fi
    # The holder is gone: take its lock over, one taker at a time.
    if ln -s "$depc_lock_me" "$brk" 2>/dev/null; then
      if info2=$(readlink "$lock" 2>/dev/null) && [ "$info2" = "$info" ]; then
        # Cleaned while the lock still names the dead run: a taker killed
        # right after this leaves the same stale lock to the next run.
        depc_lock_clean_after "$info"
        rm -f "$lock"
        if ln -s "$depc_lock_me" "$lock" 2>"$depc_tmp/err"; then
          rm -f "$brk"
          depc_lock_held=1
          depc_lock_path=$lock
          depc_warn "took over a stale lock: the run that held it ($holder) is gone"
          return 0
        fi
      fi
      rm -f "$brk"
      continue
    fi
    # Another run is taking over; or one that died doing so left lock.break.
    if info=$(readlink "$brk" 2>/dev/null) && ! depc_lock_alive "$info"; then
      rm -f "$brk"
      continue
    fi
    depc_err "another run holds the lock $lock: $holder, being taken over by another run"
    return 3
  done
  depc_err "cannot take the lock $lock: it keeps changing hands"
  return 3
}

#@@ depc_lock_release sha256:64774d7540021c372cd60968c6db49e96214ce222eb47d33040386858f2f8cdb
# depc_lock_release: remove the lock if this run holds it and it is still
# this run's (not taken over by a run that judged this one gone). Idempotent.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_lock_release() {
  local info
  [ "${depc_lock_held:-0}" = 1 ] || return 0
  depc_lock_held=0
  if info=$(readlink "$depc_lock_path" 2>/dev/null) && [ "$info" = "$depc_lock_me" ]; then
    rm -f "$depc_lock_path"
  fi
  return 0
}

#@@ depc_keep_bundle sha256:cc156391390925a699849e8d2dedd610b0d8519d37fed4aa958f6e0814b4807d
# depc_keep_bundle: apply mode, under the lock: keep a copy of the running
# bundle ($0) as $depc_state_dir/bundles/<sha256 hex>.sh (mode 0600; temp
# file, then rename, which also makes a reused bundle the newest by
# modification time) and keep the last depc_keep of them by recency of use.
# The order, most recent last, is in bundles/.order. When the bundle is
# already the last one kept, nothing is written (its file keeps its time).
# Sets depc_bundle_digest. A bundle that is not a readable file
# (`sh < b.sh`) or a copy that fails gives a warning: the run goes on.
# shellcheck disable=SC3043,SC2034,SC2086 # local is a deliberate extension; sets globals read by other functions; hex words split on purpose
depc_keep_bundle() {
  local dir hex line order n kept f
  dir=$depc_state_dir/bundles
  if ! depc_is_bundle_file "$0"; then
    depc_warn "not keeping a copy of this bundle: \$0 ('$0') is not a readable bundle file (run it as 'sh FILE')"
    return 0
  fi
  if [ ! -d "$dir" ] && ! mkdir -m 700 "$dir" 2>"$depc_tmp/err"; then
    depc_fail "cannot create $dir" "$depc_tmp/err"
    depc_warn "not keeping a copy of this bundle: $depc_error"
    return 0
  fi
  # Temp files of runs that were killed (this run holds the lock).
  for f in "$dir"/.depc.*; do
    [ ! -f "$f" ] || rm -f "$f"
  done
  # The common case, the bundle applied last running again: nothing to do.
  if depc_sha256_of "$0" && [ -f "$dir/$depc_digest.sh" ] && [ -f "$dir/.order" ]; then
    n=0
    line=
    while IFS= read -r f || [ -n "$f" ]; do
      n=$((n + 1))
      line=$f
    done <"$dir/.order"
    if [ "$line" = "$depc_digest" ] && [ "$n" -le "$depc_keep" ]; then
      depc_bundle_digest=$depc_digest
      return 0
    fi
  fi
  if ! depc_mktemp "$dir" ||
    ! depc_try "cannot copy $0" cat "$0" >"$depc_inflight" ||
    ! depc_sha256_of "$depc_inflight"; then
    depc_drop_inflight
    depc_warn "not keeping a copy of this bundle: $depc_error"
    return 0
  fi
  hex=$depc_digest
  if ! depc_try "cannot keep the bundle as $dir/$hex.sh" mv -f "$depc_inflight" "$dir/$hex.sh"; then
    depc_drop_inflight
    depc_warn "$depc_error"
    return 0
  fi
  depc_inflight=
  depc_bundle_digest=$hex
  # The new order: the kept digests but this one, oldest first, then this one.
  order=
  if [ -f "$dir/.order" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
        "$hex" | '' | *[!0-9a-f]*) ;;
        *) [ -f "$dir/$line.sh" ] && order=$order$line$depc_nl ;;
      esac
    done <"$dir/.order"
  fi
  order=$order$hex$depc_nl
  n=0
  kept=$depc_nl
  # Walk newest first (reverse the list), keeping depc_keep entries.
  f=
  for line in $order; do
    f="$line $f"
  done
  order=
  for line in $f; do
    if [ "$n" -lt "$depc_keep" ]; then
      n=$((n + 1))
      kept=$kept$line$depc_nl
      order=$line$depc_nl$order
    fi
  done
  for f in "$dir"/*.sh; do
    [ -f "$f" ] || continue
    line=${f##*/}
    case $kept in
      *"$depc_nl${line%.sh}$depc_nl"*) ;;
      *) rm -f "$f" ;;
    esac
  done
  if ! printf '%s' "$order" 2>"$depc_tmp/err" >"$dir/.order.new" ||
    ! mv -f "$dir/.order.new" "$dir/.order" 2>>"$depc_tmp/err"; then
    depc_fail "cannot update $dir/.order" "$depc_tmp/err"
    depc_warn "$depc_error"
  fi
  return 0
}

#@@ depc_is_bundle_file sha256:1b05937134f78e82986a7b12a2d54ac273ad4bdbe182d92fb176ed73707b8f49
# depc_is_bundle_file FILE: whether FILE is a readable regular file that
# starts like a bundle: "#!/bin/sh", then comment lines (and the
# incomplete-bundle guard, `{ trap ... EXIT; }`), one of the first ten of
# them "# depc bundle for host ...". ($0 is the shell itself when the bundle
# came on stdin: `sh < b.sh`.)
# shellcheck disable=SC3043 # local is a deliberate extension
depc_is_bundle_file() {
  local line n
  [ -f "$1" ] && [ -r "$1" ] || return 1
  n=0
  {
    IFS= read -r line || return 1
    [ "$line" = '#!/bin/sh' ] || return 1
    while [ "$n" -lt 10 ] && IFS= read -r line; do
      n=$((n + 1))
      case $line in
        '# depc bundle for host '*) return 0 ;;
        '#'* | "{ trap '"*"' EXIT; }") ;;
        *) return 1 ;;
      esac
    done
    return 1
  } <"$1" 2>/dev/null
}

#@@ depc_bundle_digest_of_self sha256:230c1d4c9f9cb276d9f4b36bf81ed530abc9c07dbede6f9d0198c0331b9f99cd
# depc_bundle_digest_of_self: check mode: the sha256 of the running bundle
# ($0) into depc_bundle_digest, '-' when $0 is not a readable file.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_bundle_digest_of_self() {
  depc_bundle_digest=-
  if depc_is_bundle_file "$0" && depc_sha256_of "$0"; then
    depc_bundle_digest=$depc_digest
  fi
  return 0
}

#@@ depc_log_run sha256:55f3c898278c4fe3a68222adeeee1e47a32e79682fca58a0712333712e6aa1fc
# depc_log_run RESULT NOT_RUN: under the lock, append the run's line to
# $depc_state_dir/runs.log (space-separated; the fields are single words):
#   TIME DIGEST MODE RESULT ok=N changed=N failed=N not_run=N env=ENV host=HOST user=USER
# TIME is the run's start (UTC), DIGEST the sha256 hex of the bundle ('-'
# when unknown), MODE apply or check, RESULT converged / failed /
# interrupted (apply) or clean / pending / failed / interrupted (check);
# in check lines changed= counts the resources that would change. Beyond
# 1100 lines the log is cut to its last 1000 (temp file, then rename).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_log_run() {
  local log changed
  [ "${depc_lock_held:-0}" = 1 ] || return 0
  log=$depc_state_dir/runs.log
  changed=$depc_n_changed
  [ "$depc_mode" = apply ] || changed=$depc_n_would
  if ! printf '%s %s %s %s ok=%s changed=%s failed=%s not_run=%s env=%s host=%s user=%s\n' \
    "$depc_run_since" "${depc_bundle_digest:--}" "$depc_mode" "$1" \
    "$depc_n_ok" "$changed" "$depc_n_failed" "$2" "$DEPC_ENV" "$DEPC_HOST" "${depc_run_user:--}" \
    2>/dev/null >>"$log"; then
    depc_warn "cannot append to $log"
    return 0
  fi
  if awk -v max=1000 -v out="$log.new" '
    { line[NR % max] = $0 }
    END {
      if (NR <= max + 100) exit 1
      for (i = NR - max + 1; i <= NR; i++) print line[i % max] > out
      exit 0
    }' "$log" 2>/dev/null; then
    mv -f "$log.new" "$log" 2>/dev/null || rm -f "$log.new"
  fi
  return 0
}

#@@ depc_supervisor_system sha256:0735ed9aa5584e5d64a5937d92ff3dd3c073c5d7cec3aecff9bb808e1991ec3d
# depc_supervisor_system CTL CONF: the system's supervisord must answer on
# the socket of CONF (it is the distribution's service; depc does not start
# it). Changes nothing, in both modes.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_system() {
  local ctl conf
  ctl=$1 conf=$2
  depc_supervisor_need "$ctl" || return 1
  if "$ctl" -c "$conf" pid </dev/null >"$depc_tmp/err" 2>&1; then
    return 0
  fi
  depc_fail "the system supervisord is not running or not reachable (supervisorctl -c $conf pid); start it with the host's service manager" "$depc_tmp/err"
}

#@@ depc_supervisor_user sha256:5b951f0e0a72315b930c37c09f5a50afe672a9bece674810e45a4b74634e7000
# depc_supervisor_user BASE SUPERVISORD CTL SHA256 CONTENTFN: a supervisord
# of the deployment's own under BASE, run as the user applying the bundle:
# BASE, BASE/conf.d and BASE/logs exist, BASE/supervisord.conf is
# CONTENTFN's output (written like a File, mode 0600, diffed in --check),
# and supervisord is running; a running one whose config changed is
# reloaded (which restarts its programs).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_supervisor_user() {
  local base supd ctl sha fn conf d missing
  base=$1 supd=$2 ctl=$3 sha=$4 fn=$5
  conf=$base/supervisord.conf
  depc_supervisor_need "$ctl" || return 1
  missing=0
  for d in "$base" "$base/conf.d" "$base/logs"; do
    [ -d "$d" ] && continue
    missing=1
    if [ "$depc_mode" = apply ]; then
      depc_try "cannot create $d" mkdir -p "$d" || return 1
    fi
  done
  [ "$missing" = 0 ] || depc_change directories "created $base"
  depc_supervisor_conf "$conf" "$sha" "$fn" || return 1
  if depc_supervisor_answers "$ctl" "$conf"; then
    [ "$depc_sv_conf_changed" = 1 ] || return 0
    depc_change reload "supervisord reloaded"
    [ "$depc_mode" = apply ] || return 0
    depc_invalidate_facts
    depc_supervisor_ctl "cannot reload supervisord" "$ctl" "$conf" reload || return 1
    depc_supervisor_await "$ctl" "$conf"
    return
  fi
  depc_supervisor_need "$supd" || return 1
  depc_change start "supervisord started"
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  # No descriptor of this run may stay open in the daemon (fd 9 is the
  # run's stderr): a caller waiting for the run's output would hang.
  if ! "$supd" -c "$conf" </dev/null >"$depc_tmp/err" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; then
    depc_fail "cannot start supervisord ($supd -c $conf)" "$depc_tmp/err"
    return 1
  fi
  depc_supervisor_await "$ctl" "$conf"
}

#@@ depc_supervisor_conf sha256:449e337760b1e3b2ed122988a677f06faa0fe71cbd88a336889b0dc1b44823f5
# depc_supervisor_conf PATH SHA256 CONTENTFN: PATH is written like a File
# (mode 0600, owner kept; a diff in --check); its change is recorded as one
# "config ..." change. Sets depc_sv_conf_changed to 1 or 0.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_supervisor_conf() {
  local names text
  names=$depc_change_names text=$depc_change_text
  depc_change_names='' depc_change_text=''
  if ! depc_file "$1" 0600 '' '' "$2" "$3"; then
    depc_change_names=$names depc_change_text=$text
    return 1
  fi
  depc_sv_conf_changed=0
  if [ -n "$depc_change_names" ]; then
    depc_sv_conf_changed=1
    text=${text:+$text, }"config $depc_change_text"
    names=${names:+$names,}config
  fi
  depc_change_names=$names depc_change_text=$text
  return 0
}

#@@ depc_supervisor_need sha256:9e43c367c6ae633bf4826c49c79335566d4af4921a0270bd8ed64a49581afe27
# depc_supervisor_need TOOL: TOOL (a name on PATH or a path) is executable.
depc_supervisor_need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  depc_error="'$1' not found on host $DEPC_HOST (PATH=$PATH); install supervisor or give the Supervisor's bin"
  return 1
}

#@@ depc_supervisor_answers sha256:0cab04d624b80949e7564a6f2409b008a245943efd88a3a8996316e43ac39b29
# depc_supervisor_answers CTL CONF: whether a supervisord answers on CONF's socket.
depc_supervisor_answers() {
  command -v "$1" >/dev/null 2>&1 || return 1
  "$1" -c "$2" pid </dev/null >/dev/null 2>&1
}

#@@ depc_supervisor_await sha256:81f00c88b6af8166e2b11607de39c1ab980eba54875146e1ec733ad7cdd4ec17
# depc_supervisor_await CTL CONF: wait up to 30 s until supervisord answers.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_await() {
  local n
  n=0
  while [ "$n" -lt 120 ]; do
    depc_supervisor_answers "$1" "$2" && return 0
    depc_supervisor_nap
    n=$((n + 1))
  done
  "$1" -c "$2" pid </dev/null >"$depc_tmp/err" 2>&1
  depc_fail "supervisord ($2) does not answer after 30 s" "$depc_tmp/err"
}

#@@ depc_supervisor_nap sha256:85b35851e8f9c99b5a6b40ad1807d0723751238915457579af5b1cdaa4f933fa
# depc_supervisor_nap: a quarter of a second where sleep takes fractions, else 1 s.
depc_supervisor_nap() {
  sleep 0.25 2>/dev/null || sleep 1
}

#@@ depc_supervisor_ctl sha256:bc4cfdcdc108c4fc13fe28741a18a66762974b90609b75af7d37fca355bce1a2
# depc_supervisor_ctl MESSAGE CTL CONF ARGS...: run `CTL -c CONF ARGS...`,
# its output in $depc_tmp/ctl; on failure depc_fail MESSAGE with that output.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_ctl() {
  local msg ctl conf
  msg=$1 ctl=$2 conf=$3
  shift 3
  if "$ctl" -c "$conf" "$@" </dev/null >"$depc_tmp/ctl" 2>&1; then
    return 0
  fi
  depc_fail "$msg" "$depc_tmp/ctl"
}

#@@ depc_supervisor_state sha256:ca18a16c1e2862e7e12cb478db14adf4f72edcd32ff8b629ca202ca3da595305
# depc_supervisor_state CTL CONF NAME: the program's state (RUNNING,
# STARTING, STOPPED, FATAL, ...) in depc_sv_state, '' when supervisord does
# not know it or does not answer (its output is then in $depc_tmp/ctl).
# shellcheck disable=SC2034 # sets globals read by other functions
depc_supervisor_state() {
  depc_sv_state=
  "$1" -c "$2" status "$3" </dev/null >"$depc_tmp/ctl" 2>&1
  depc_sv_state=$(awk -v n="$3" '$1 == n && $2 ~ /^[A-Z]+$/ { print $2; exit }' "$depc_tmp/ctl")
}

#@@ depc_supervisor_pid sha256:88a827073b60829c151675f4745881f5b9b830d3e1cd0c5eb0722ab30349b39d
# depc_supervisor_pid CTL CONF NAME: the program's pid in depc_sv_pid, 0
# when it is not running.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_supervisor_pid() {
  depc_sv_pid=$("$1" -c "$2" pid "$3" </dev/null 2>/dev/null)
  case $depc_sv_pid in
    '' | *[!0-9]*) depc_sv_pid=0 ;;
  esac
}

#@@ depc_supervisor_wait sha256:0b9acfe71b1193bcbc32ff7bad8a08a351db7f7185f486ba12f0a2f5b245183e
# depc_supervisor_wait CTL CONF NAME SECONDS: wait until NAME is RUNNING;
# fail at FATAL or after SECONDS with the state and the program's last log
# lines (supervisorctl tail).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_wait() {
  local ctl conf name limit start now
  ctl=$1 conf=$2 name=$3 limit=$4
  start=$(date +%s)
  while :; do
    depc_supervisor_state "$ctl" "$conf" "$name"
    case $depc_sv_state in
      RUNNING) return 0 ;;
      FATAL | EXITED | STOPPED | '') break ;;
    esac
    now=$(date +%s)
    [ $((now - start)) -lt "$limit" ] || break
    depc_supervisor_nap
  done
  "$ctl" -c "$conf" tail -1600 "$name" </dev/null 2>&1 | tail -n 10 >"$depc_tmp/err"
  if [ ! -s "$depc_tmp/err" ]; then
    "$ctl" -c "$conf" tail -1600 "$name" stderr </dev/null 2>&1 | tail -n 10 >"$depc_tmp/err"
  fi
  # No log: the program never started. supervisord's own reason is on its
  # status line ("can't find command '/opt/app/bin/web'").
  if [ ! -s "$depc_tmp/err" ] || grep -q 'ERROR (no log file)' "$depc_tmp/err"; then
    awk -v n="$name" '$1 == n { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$depc_tmp/ctl" >"$depc_tmp/err"
    depc_fail "$name is ${depc_sv_state:-unknown to supervisord}, not RUNNING; supervisord says" "$depc_tmp/err"
    return 1
  fi
  case $depc_sv_state in
    STARTING | BACKOFF) depc_fail "$name is $depc_sv_state, not RUNNING after ${limit}s; its last log lines" "$depc_tmp/err" ;;
    *) depc_fail "$name is ${depc_sv_state:-unknown to supervisord}, not RUNNING; its last log lines" "$depc_tmp/err" ;;
  esac
}

#@@ depc_supervisor_program sha256:b86fb70d1fcf684547c3a28bc5bd0aa13b339ae92895903faba6e69434447d9a
# depc_supervisor_program OWE NAME CONFPATH SHA256 CONTENTFN CTL CONF AUTOSTART WAIT COLD STABLE [HEALTH...]
# One program of a supervisord (CTL -c CONF). CONFPATH is written like a
# File (mode 0600; a diff in --check). A changed config owes the restart OWE
# first (recorded on the host, so a run that fails before the update leaves
# it owed). When OWE is owed (by the config or by a change of something in
# whenChanged): reread + update NAME, then restart NAME unless the update
# already did (its pid changed). AUTOSTART=1: a program that is not running
# is started. After any (re)start: wait up to WAIT seconds for RUNNING,
# then depc_supervisor_proven (HEALTH's check, STABLE seconds of the same
# pid). Without changes only `status NAME` runs. --check runs only `status`.
# COLD ('' unless cold: true) is the key of the start owed by its cold stop
# (depc_supervisor_program_evade): see depc_supervisor_cold_start.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_supervisor_program() {
  local owe name p sha fn ctl conf autostart wait pid started cold stable
  owe=$1 name=$2 p=$3 sha=$4 fn=$5 ctl=$6 conf=$7 autostart=$8 wait=$9 cold=${10}
  shift 10
  stable=${1:-0}
  [ $# -eq 0 ] || shift
  depc_supervisor_need "$ctl" || return 1
  if [ ! -f "$p" ] || ! depc_sha256_of "$p" || [ "$depc_digest" != "$sha" ]; then
    depc_owe "$owe" || return 1
  fi
  depc_supervisor_conf "$p" "$sha" "$fn" || return 1
  if [ -n "$cold" ] && depc_is_owed "$cold"; then
    depc_supervisor_cold_report
    if [ "$depc_mode" = check ]; then
      [ "$depc_sv_conf_changed" = 0 ] || depc_change update "reread/update"
      return 0
    fi
  fi
  if [ "$depc_mode" = check ]; then
    depc_supervisor_state "$ctl" "$conf" "$name"
    if depc_is_owed "$owe"; then
      if [ "$depc_sv_conf_changed" = 1 ]; then
        depc_change update "reread/update"
      else
        depc_change restart "restart (notified)"
      fi
    elif [ "$autostart" = 1 ] && [ "$depc_sv_state" != RUNNING ]; then
      depc_change start "start (${depc_sv_state:-not loaded})"
    fi
    return 0
  fi
  started=0
  if depc_is_owed "$owe"; then
    depc_invalidate_facts
    depc_supervisor_ctl "supervisorctl reread failed" "$ctl" "$conf" reread || return 1
    depc_supervisor_pid "$ctl" "$conf" "$name"
    pid=$depc_sv_pid
    depc_supervisor_ctl "supervisorctl update $name failed" "$ctl" "$conf" update "$name" || return 1
    if awk 'toupper($0) ~ /ERROR/ { e = 1 } END { exit !e }' "$depc_tmp/ctl"; then
      depc_fail "supervisorctl update $name failed" "$depc_tmp/ctl"
      return 1
    fi
    depc_supervisor_pid "$ctl" "$conf" "$name"
    if [ "$pid" != 0 ] && [ "$depc_sv_pid" = "$pid" ]; then
      depc_supervisor_ctl "cannot restart $name" "$ctl" "$conf" restart "$name" ||
        depc_supervisor_wait "$ctl" "$conf" "$name" 0 || return 1
      depc_change restart "restarted"
      started=1
    elif [ "$pid" != 0 ] && [ "$depc_sv_pid" = 0 ]; then
      depc_supervisor_ctl "cannot start $name" "$ctl" "$conf" start "$name" ||
        depc_supervisor_wait "$ctl" "$conf" "$name" 0 || return 1
      depc_change restart "restarted"
      started=1
    elif [ "$pid" != 0 ]; then
      depc_change restart "restarted"
      started=1
    elif [ "$depc_sv_pid" != 0 ] ||
      { [ "$autostart" = 1 ] && awk '/(added|updated) process group/ { a = 1 } END { exit !a }' "$depc_tmp/ctl"; }; then
      # Added or updated with autostart: supervisord started it (it may
      # have died already: the wait below reports that, no second start).
      depc_change start "started"
      started=1
    fi
  fi
  depc_supervisor_state "$ctl" "$conf" "$name"
  if [ -z "$depc_sv_state" ]; then
    depc_fail "supervisord does not know $name ($conf)" "$depc_tmp/ctl"
    return 1
  fi
  if [ "$started" = 0 ] && [ "$autostart" = 1 ]; then
    case $depc_sv_state in
      STOPPED | EXITED | FATAL | BACKOFF)
        depc_invalidate_facts
        # Owed until proven (depc_supervisor_proven): a run killed before
        # its check leaves the next run to restart and check it.
        depc_owe "$owe" || return 1
        depc_supervisor_ctl "cannot start $name" "$ctl" "$conf" start "$name" ||
          depc_supervisor_wait "$ctl" "$conf" "$name" 0 || return 1
        depc_change start "started"
        started=1
        ;;
      STARTING) started=1 ;;
    esac
  elif [ "$started" = 0 ] && [ "$depc_sv_state" = STARTING ]; then
    started=1
  fi
  if [ "$started" = 1 ]; then
    depc_supervisor_wait "$ctl" "$conf" "$name" "$wait" || return 1
    depc_supervisor_proven "$owe" "$ctl" "$conf" "$name" "$stable" "$@" || return 1
  fi
  if [ -n "$cold" ]; then
    depc_supervisor_cold_start "$cold" "$ctl" "$conf" "$name" "$wait" "$started" || return 1
  fi
  depc_settle "$owe"
}

#@@ depc_supervisor_cold_report sha256:fec0ab2e8466278aa2a56fc9daa71fc7d87bd5e82f962b8e86b05f867bd4145d
# depc_supervisor_cold_report: the change line of a cold program that was
# stopped for its dependencies (in --check: would be).
depc_supervisor_cold_report() {
  if [ "$depc_mode" = check ]; then
    depc_change cold "stop while its dependencies change, start"
  else
    depc_change cold "stopped while its dependencies changed"
  fi
}

#@@ depc_supervisor_program_evade sha256:39a142171d6a673850baa1de3386089e207f92c9c3f3d256f2d91257a9414c64
# depc_supervisor_program_evade OWE NAME CTL CONF: (cold: true; runtime/
# evade.sh runs it right before a resource the program depends on changes)
# a running program is stopped. The start it is then owed (OWE) is recorded
# first, so a run killed after the stop leaves it owed and the next run
# starts it. A program that does not run, or a supervisord that does not
# answer yet (the first deploy), is left alone. --check only records OWE.
depc_supervisor_program_evade() {
  depc_supervisor_answers "$3" "$4" || return 0
  depc_supervisor_state "$3" "$4" "$2"
  case $depc_sv_state in
    RUNNING | STARTING | BACKOFF) ;;
    *) return 0 ;;
  esac
  depc_owe "$1" || return 1
  [ "$depc_mode" = apply ] || return 0
  depc_supervisor_ctl "cannot stop $2 while its dependencies change (cold: true)" "$3" "$4" stop "$2"
}

#@@ depc_supervisor_cold_start sha256:6cc665b0acf6cf213ca487eaf623b7f7e085a778b716342346674538e912eee6
# depc_supervisor_cold_start COLD CTL CONF NAME WAIT STARTED: (apply) when
# COLD is owed (depc_supervisor_program_evade stopped the program, in this
# run or in one that was killed), the program is started unless it already
# was (STARTED=1 or running), whatever its autostart: it ran before the
# stop. Then COLD is settled.
depc_supervisor_cold_start() {
  depc_is_owed "$1" || return 0
  if [ "$6" = 0 ]; then
    depc_supervisor_state "$2" "$3" "$4"
    case $depc_sv_state in
      RUNNING | STARTING) ;;
      *)
        depc_invalidate_facts
        depc_supervisor_ctl "cannot start $4" "$2" "$3" start "$4" ||
          depc_supervisor_wait "$2" "$3" "$4" 0 || return 1
        depc_change start "started"
        ;;
    esac
    depc_supervisor_wait "$2" "$3" "$4" "$5" || return 1
  fi
  depc_settle "$1"
}

#@@ depc_supervisor_proven sha256:a46ff857ac1bceeea24541f80a581f018028e3508cdb5e85afcc08143a7868c4
# depc_supervisor_proven OWE CTL CONF NAME STABLE [HEALTH...]: a program
# just (re)started and RUNNING is done only when HEALTH's check passes
# (depc_health) and it is still RUNNING with the same pid STABLE seconds
# after it became RUNNING (0: not watched). Otherwise it fails, with the
# check's output or the program's last log lines, and OWE is owed again, so
# the next run restarts and checks it (a crash loop fails every run).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_proven() {
  local owe ctl conf name stable pid start now
  owe=$1 ctl=$2 conf=$3 name=$4 stable=$5
  shift 5
  depc_supervisor_pid "$ctl" "$conf" "$name"
  pid=$depc_sv_pid
  start=$(depc_health_clock)
  if [ $# -gt 0 ] && ! depc_health "health check of $name" "$@"; then
    depc_owe "$owe"
    return 1
  fi
  [ "$stable" -gt 0 ] || return 0
  while :; do
    depc_supervisor_state "$ctl" "$conf" "$name"
    depc_supervisor_pid "$ctl" "$conf" "$name"
    if [ "$depc_sv_state" != RUNNING ] || [ "$depc_sv_pid" != "$pid" ]; then
      break
    fi
    now=$(depc_health_clock)
    [ $((now - start)) -lt $((stable * 100)) ] || return 0
    depc_supervisor_nap
  done
  if [ $# -gt 0 ]; then
    depc_health_done failed "$depc_health_attempts" "$start"
  fi
  depc_owe "$owe"
  now=${depc_sv_state:-unknown to supervisord}
  [ "$depc_sv_pid" = 0 ] || now="$now as pid $depc_sv_pid"
  "$ctl" -c "$conf" tail -1600 "$name" </dev/null 2>&1 | tail -n 10 >"$depc_tmp/err"
  depc_health_tail "$depc_tmp/err"
  depc_fail "$name did not stay up: it was RUNNING as pid $pid, then $now within ${stable}s; its last log lines" "$depc_tmp/health.out"
}

#@@ depc_supervisor_program_remove sha256:60d6a40ea6a727a4006ccad902f0e48e0cd030737fe22a34bc90b35acc32d91b
# depc_supervisor_program_remove NAME CONFPATH CTL CONF: (ledger.sh, before
# the resources run: a renamed program takes over the port) stopped, config
# removed, `update NAME`; a supervisord that does not answer: config only.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_supervisor_program_remove() {
  local answers
  [ -f "$2" ] || [ -L "$2" ] || return 0
  depc_remove_guard "$2" || return 0
  answers=0
  ! depc_supervisor_answers "$3" "$4" || answers=1
  if [ "$answers" = 1 ]; then
    depc_change removed 'stopped, config removed'
  else
    depc_change removed 'config removed'
  fi
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  if [ "$answers" = 1 ]; then
    depc_supervisor_state "$3" "$4" "$1"
    case $depc_sv_state in
      '' | STOPPED | EXITED | FATAL) ;;
      *) depc_supervisor_ctl "cannot stop program $1" "$3" "$4" stop "$1" || return 1 ;;
    esac
  fi
  depc_try "cannot remove $2" rm -f "$2" || return 1
  [ "$answers" = 1 ] || return 0
  depc_supervisor_ctl "supervisorctl reread failed" "$3" "$4" reread || return 1
  depc_supervisor_ctl "supervisorctl update $1 failed" "$3" "$4" update "$1"
}

#@@ depc_supervisor_user_remove sha256:247ff07fe4f0bfa3dba47b85c2616b834989c9d06eb8adfd3b6aadf34b64d591
# depc_supervisor_user_remove BASE CTL: (ledger.sh) supervisord shut down,
# BASE removed, unless it holds a path the bundle declares.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_supervisor_user_remove() {
  [ -d "$1" ] && [ ! -L "$1" ] || return 0
  depc_remove_guard "$1" || return 0
  depc_remove_tree_ok "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  if depc_supervisor_answers "$2" "$1/supervisord.conf"; then
    depc_supervisor_ctl "cannot shut down the supervisord of $1" "$2" "$1/supervisord.conf" shutdown || return 1
  fi
  depc_try "cannot remove $1" rm -rf "$1"
}

#@@ depc_symlink sha256:89e073be90ea3330e743c489c65127fbddbd2ea481c3fa8d60656172848ad518
# depc_symlink PATH TARGET: PATH is a symbolic link whose target is exactly
# TARGET (any non-NUL bytes, trailing newlines included). A wrong link is
# replaced atomically (ln -s to a temp name in the same directory, mv -f);
# a link that points to a directory is removed first (mv would move into the
# directory). A directory or any other file at PATH is an error: user data
# is never deleted. A change invalidates the preflight facts, because later
# paths may resolve through this link.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_symlink() {
  local dir tmp
  dir=${1%/*}
  [ -n "$dir" ] || dir=/
  if [ -L "$1" ]; then
    depc_readlink "$1" || return 1
    if [ "$depc_link" = "$2" ]; then
      return 0
    fi
    depc_change target target
    [ "$depc_mode" = apply ] || return 0
    depc_invalidate_facts
    if [ -d "$1" ]; then
      depc_try "cannot remove the old link $1" rm -f "$1" || return 1
      depc_try "cannot create the link $1" ln -s -- "$2" "$1" || return 1
      return 0
    fi
    depc_mktemp "$dir" || return 1
    tmp=$depc_inflight
    depc_try "cannot remove $tmp" rm -f "$tmp" || return 1
    depc_try "cannot create the link $tmp" ln -s -- "$2" "$tmp" || return 1
    depc_try "cannot rename $tmp to $1" mv -f "$tmp" "$1" || return 1
    depc_inflight=
    return 0
  elif [ -d "$1" ]; then
    depc_error="$1 exists and is a directory"
    return 1
  elif [ -f "$1" ]; then
    depc_error="$1 exists and is a regular file (not replacing it with a link)"
    return 1
  elif [ -e "$1" ]; then
    depc_error="$1 exists and is not a symbolic link"
    return 1
  fi
  depc_change created created
  if [ ! -d "$dir" ] && [ "$depc_mode" = apply ]; then
    depc_error="parent directory $dir does not exist"
    return 1
  fi
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  depc_try "cannot create the link $1" ln -s -- "$2" "$1"
}

#@@ depc_readlink sha256:ef8a4b21097916e65c32cfc9118d39124c869a91a262e0ddc4a5bfabb0c555f3
# depc_readlink PATH: the exact target of the link PATH into depc_link,
# trailing newlines included (a sentinel protects them from the command
# substitution). Returns 1 with depc_error set on failure.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_readlink() {
  if ! depc_link=$(readlink "$1" 2>"$depc_tmp/err" && printf x); then
    depc_fail "cannot read the link $1" "$depc_tmp/err"
    return 1
  fi
  # drop the sentinel, then the one newline readlink appends
  depc_link=${depc_link%x}
  depc_link=${depc_link%?}
  return 0
}

#@@ depc_symlink_remove sha256:6b4e53e7c2a05ab1c8ec78410f048829c8d1516849169e492145e4e5c8bcfc44
# depc_symlink_remove PATH: the link itself removed (ledger.sh), if still one.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_symlink_remove() {
  if [ ! -L "$1" ]; then
    if [ -e "$1" ]; then
      depc_left="it is no longer a symbolic link"
      depc_left_warn=1
    fi
    return 0
  fi
  depc_remove_guard "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  depc_try "cannot remove the link $1" rm -f "$1"
}

#@@ depc_timer sha256:e9678c8bd15d48d8ac6ee0e967650e474372becfee1209fbc5849a2c74169425
# depc_timer NAME CALENDAR SERVICESHA SERVICEFN TIMERSHA TIMERFN: the units
# /etc/systemd/system/NAME.service (SERVICEFN's bytes) and NAME.timer
# (TIMERFN's), mode 0644, owned by root, the timer enabled and active.
# CALENDAR (its OnCalendar=) is checked first with `systemd-analyze
# calendar` where the host has it, so a bad expression writes nothing. One
# daemon-reload when a unit changed or systemd says one is needed; a running
# timer whose unit changed is restarted (its new schedule counts from now).
# --check asks systemd the same questions, shows both diffs, changes nothing.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_timer() {
  local name cal dir changed timer_changed reload state
  name=$1 cal=$2 dir=/etc/systemd/system
  if [ ! -d /run/systemd/system ]; then
    depc_error="host $DEPC_HOST does not run systemd (there is no /run/systemd/system), so it cannot run timer $name.timer"
    return 1
  fi
  if ! command -v systemctl >/dev/null 2>&1; then
    depc_error="host $DEPC_HOST runs systemd but 'systemctl' is not on PATH ($PATH)"
    return 1
  fi
  if command -v systemd-analyze >/dev/null 2>&1 && ! systemd-analyze calendar "$cal" >/dev/null 2>"$depc_tmp/err"; then
    depc_fail "onCalendar '$cal' is not a calendar expression systemd understands (systemd-analyze calendar)" "$depc_tmp/err"
    return 1
  fi
  depc_timer_show "$name" || return 1
  : >"$depc_tmp/timer.diff"
  depc_timer_unit "$dir/$name.service" "$3" "$4" service || return 1
  changed=$depc_timer_written
  depc_timer_unit "$dir/$name.timer" "$5" "$6" timer || return 1
  timer_changed=$depc_timer_written
  if [ -s "$depc_tmp/timer.diff" ]; then
    mv -f "$depc_tmp/timer.diff" "$depc_tmp/diff"
    depc_has_diff=1
  fi
  reload=0
  if [ "$changed" = 1 ] || [ "$timer_changed" = 1 ] || [ "$depc_tm_need_reload" = 1 ]; then
    reload=1
  fi
  systemctl is-enabled "$name.timer" >"$depc_tmp/svc" 2>/dev/null
  state=
  IFS= read -r state <"$depc_tmp/svc"
  if [ "$state" != enabled ]; then
    depc_change enable enable
    depc_service_enablement enable "$name.timer" "$reload" || return 1
  fi
  if [ "$reload" = 1 ]; then
    depc_change daemon-reload daemon-reload
    if [ "$depc_mode" = apply ]; then
      depc_try "systemctl daemon-reload failed" systemctl daemon-reload || return 1
    fi
  fi
  case $depc_tm_active in
    active | reloading | activating)
      if [ "$timer_changed" = 1 ]; then
        depc_change restart restart
        depc_service_do restart "$name.timer" || return 1
      fi
      ;;
    *)
      depc_change start start
      depc_service_do start "$name.timer" || return 1
      ;;
  esac
  return 0
}

#@@ depc_timer_show sha256:413dee379f80e57995868bf8b6bd1559408799174eb78060d789d7d4d03aed5a
# depc_timer_show NAME: one `systemctl show` of NAME.timer and NAME.service:
# depc_tm_active (the timer's ActiveState) and depc_tm_need_reload (1 when
# systemd says either unit needs a daemon-reload). Returns 1 with depc_error.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_timer_show() {
  local line unit
  depc_tm_active=
  depc_tm_need_reload=0
  if ! systemctl show -p ActiveState -p NeedDaemonReload "$1.timer" "$1.service" >"$depc_tmp/svc" 2>"$depc_tmp/err"; then
    depc_fail "systemctl show $1.timer $1.service failed" "$depc_tmp/err"
    return 1
  fi
  # One block per unit, in the order asked, separated by an empty line.
  unit=1
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      '') unit=2 ;;
      ActiveState=*) [ "$unit" = 2 ] || depc_tm_active=${line#*=} ;;
      NeedDaemonReload=yes) depc_tm_need_reload=1 ;;
    esac
  done <"$depc_tmp/svc"
  if [ -z "$depc_tm_active" ]; then
    depc_error="systemctl show $1.timer printed no ActiveState"
    return 1
  fi
  return 0
}

#@@ depc_timer_unit sha256:173182a1ff0efa67eae205eabee64abb8c05fe7d12095420a23c880fc39c304c
# depc_timer_unit PATH SHA256 CONTENTFN WHAT: depc_file for one unit file
# (0644, root:root), its change recorded as "WHAT created" / "WHAT content"
# / "WHAT mode ..." and its --check diff appended to $depc_tmp/timer.diff.
# depc_timer_written: 1 when the file's content differs (apply: was written).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_timer_unit() {
  local names text
  names=$depc_change_names text=$depc_change_text
  depc_change_names='' depc_change_text='' depc_has_diff=0
  depc_timer_written=0
  if ! depc_file "$1" 0644 0 0 "$2" "$3"; then
    depc_change_names=$names depc_change_text=$text
    return 1
  fi
  if [ -n "$depc_change_names" ]; then
    case ,$depc_change_names, in
      *,created,* | *,content,*) depc_timer_written=1 ;;
    esac
    if [ "$depc_has_diff" = 1 ]; then
      cat "$depc_tmp/diff" >>"$depc_tmp/timer.diff"
    fi
    depc_has_diff=0
    names=${names:+$names,}$4
    text=${text:+$text, }"$4 $depc_change_text"
  fi
  depc_change_names=$names depc_change_text=$text
  return 0
}

#@@ depc_timer_remove sha256:c11066485a9d8949d71f72854621e5bd79ccdf0d672737de9a2d0fe9c13694ef
# depc_timer_remove NAME: (ledger.sh) NAME.timer stopped and disabled, both
# unit files removed, one daemon-reload. A run of NAME.service in progress
# is left to finish (systemd keeps a running unit whose file went). Without
# systemd: the files only.
depc_timer_remove() {
  [ -f "/etc/systemd/system/$1.timer" ] || [ -L "/etc/systemd/system/$1.timer" ] ||
    [ -f "/etc/systemd/system/$1.service" ] || [ -L "/etc/systemd/system/$1.service" ] || return 0
  if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
    depc_change removed 'units removed'
    [ "$depc_mode" = apply ] || return 0
    depc_try "cannot remove the units of $1" rm -f "/etc/systemd/system/$1.timer" "/etc/systemd/system/$1.service"
    return
  fi
  depc_change removed 'stopped, disabled, units removed'
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  depc_service_do stop "$1.timer" || return 1
  depc_try "systemctl disable $1.timer failed" systemctl --no-reload disable "$1.timer" || return 1
  depc_try "cannot remove the units of $1" rm -f "/etc/systemd/system/$1.timer" "/etc/systemd/system/$1.service" || return 1
  depc_try "systemctl daemon-reload failed" systemctl daemon-reload
}

#@@ depc_tree sha256:ace0e6a77d18d5fc76f411d3ece85e9dde4b0083b4e1fbd9998143b7daac7729
# depc_tree PATH OWNER GROUP MANIFEST CONTENTS...: PATH is a directory
# holding exactly the entries of the function MANIFEST's output (lines "x<TAB>ERE" of
# excluded paths, then "d<TAB>MODE<TAB>-<TAB>REL" and
# "f<TAB>MODE<TAB>SHA256<TAB>REL", sorted, REL "." for PATH itself); the
# Nth file's bytes are the output of the Nth function of CONTENTS. OWNER and GROUP
# ('' = unmanaged) apply to every entry. Entries below PATH that are not in
# the manifest are removed, except excluded ones. The host side is read in
# a few processes whatever the size (depc_tree_scan); changed files are
# staged and committed together (runtime/stage.sh): each appears whole, with
# its mode. --check lists what would change, one line per entry (capped).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_tree() {
  local p owner group plan line rest tag a b c rm_list dir_list mode_list own_list summary queued
  p=$1 owner=$2 group=$3
  if [ -L "$p" ]; then
    depc_error="$p exists and is a symbolic link"
    return 1
  elif [ -e "$p" ] && [ ! -d "$p" ]; then
    depc_error="$p exists and is not a directory"
    return 1
  fi
  if ! { "$4" >"$depc_tmp/tree.manifest"; } 2>/dev/null; then
    depc_tmp_cause
    depc_error="cannot write to the temporary directory $depc_tmp${depc_cause:+: $depc_cause}"
    return 1
  fi
  depc_tree_scan "$p" || return 1
  plan=$(depc_tree_plan "$p" "$owner" "$group") || {
    depc_error="cannot compare $p with its manifest (awk failed)"
    return 1
  }
  summary=${plan##*"$depc_nl"}
  depc_tree_changes "$summary"
  [ -n "$depc_change_names" ] || return 0
  if [ "$depc_mode" = check ]; then
    depc_tree_check_lines "$plan"
    return 0
  fi
  shift 4
  rm_list=
  dir_list=
  mode_list=
  own_list=
  rest=$plan$depc_nl
  while [ -n "$rest" ]; do
    line=${rest%%"$depc_nl"*}
    rest=${rest#"$line$depc_nl"}
    tag=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    case $tag in
      R) rm_list=$rm_list$line$depc_nl ;;
      D) dir_list=$dir_list${line#*"$depc_tab"}$depc_nl ;;
      O) own_list=$own_list$line$depc_nl ;;
      M) mode_list=$mode_list$line$depc_nl ;;
    esac
  done
  # Removals first (a file may take the name of a removed directory), then
  # the new directories, parents first.
  depc_lines_run "cannot remove from $p" "$rm_list" rm -rf || return 1
  depc_lines_run "cannot create directories in $p" "$dir_list" mkdir -m 0755 || return 1
  # The files: staged, verified and renamed in a few processes for all.
  queued=0
  rest=$plan$depc_nl
  while [ -n "$rest" ]; do
    line=${rest%%"$depc_nl"*}
    rest=${rest#"$line$depc_nl"}
    case $line in
      W"$depc_tab"*) ;;
      *) continue ;;
    esac
    line=${line#W"$depc_tab"}
    a=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    b=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    c=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    depc_tree_stage "$line" "$a" "$b" "$c" "$owner" "$group" "$@" || return 1
    queued=$((queued + 1))
  done
  depc_stage_commit depc_tree_hook
  if [ "$depc_stage_good" -lt "$queued" ]; then
    eval "line=\$depcb_p_$((depc_stage_good + 1))"
    depc_error="cannot write $line: its content, digest, attributes or rename failed (the bundle is corrupt, or the disk is full); files before it are in place"
    return 1
  fi
  depc_tree_modes "$mode_list" || return 1
  # "USER:" would also set USER's login group: only what is managed.
  if [ -n "$owner" ] && [ -n "$group" ]; then
    depc_lines_run "cannot change owner and group in $p" "$own_list" chown "$owner:$group" || return 1
  elif [ -n "$owner" ]; then
    depc_lines_run "cannot change owner in $p" "$own_list" chown "$owner" || return 1
  elif [ -n "$group" ]; then
    depc_lines_run "cannot change group in $p" "$own_list" chgrp "$group" || return 1
  fi
  return 0
}

#@@ depc_tree_stage sha256:50b01740e8c534523857dfb53bcae93b87c1ea265480097efbc247645b0920a2
# depc_tree_stage PATH INDEX MODE SHA256 OWNER GROUP CONTENTS...: write the
# output of the INDEXth function of CONTENTS into the staging directory next to PATH and
# queue it (depc_stage_queue). Returns 1 with depc_error set.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_stage() {
  local path index mode sha owner group fn dir
  path=$1 index=$2 mode=$3 sha=$4 owner=$5 group=$6
  shift 6
  eval "fn=\${$index}"
  dir=${path%/*}
  if ! depc_stage_dir "$dir"; then
    depc_error="cannot create a staging directory in $dir"
    return 1
  fi
  depc_write_content "$fn" "$depc_stage/${path##*/}" "$path" || return 1
  depc_stage_queue 0 "$path" "$sha" "$mode" "$owner" "$group"
}

#@@ depc_tree_hook sha256:59181bfb0459ebe3cb0cca83a3b9e679f96d369f5eae6396f8225e6fa226a000
# depc_tree_hook K: nothing to do between a tree file's attributes and its
# rename (the tree's reactions were recorded by depc_step).
depc_tree_hook() {
  return 0
}

#@@ depc_tree_modes sha256:2f9d279bf6f0eac8138811019496bb8f22db16ff8f6ca3fa7d6ed94e35c56106
# depc_tree_modes LIST: chmod the entries of LIST ("MODE<TAB>PATH" lines),
# one call per mode.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_modes() {
  local rest line mode paths seen
  seen=$depc_nl
  rest=$1
  while [ -n "$rest" ]; do
    line=${rest%%"$depc_nl"*}
    rest=${rest#"$line$depc_nl"}
    mode=${line%%"$depc_tab"*}
    case $seen in
      *"$depc_nl$mode$depc_nl"*) continue ;;
    esac
    seen=$seen$mode$depc_nl
    paths=$(printf '%s' "$1" | awk -F '\t' -v m="$mode" '$1 == m { print substr($0, length(m) + 2) }')
    depc_lines_run "cannot change modes to $mode" "$paths$depc_nl" chmod "$mode" || return 1
  done
  return 0
}

#@@ depc_tree_scan sha256:f524ec5d802ecda0e33093d4d12c8520031d2b6c5e46f9fba6d5dd05a200287c
# depc_tree_scan PATH: what is below PATH, in a few processes whatever its
# size: "TYPE<TAB>MODE<TAB>UID<TAB>GID<TAB>USER<TAB>GROUP<TAB>PATH" lines
# (find + stat) into $depc_tmp/tree.stat and the sha256 lines of its regular
# files into $depc_tmp/tree.sha. In apply mode, entries whose name holds a
# newline (never in a manifest) are removed first: they would break the
# line-oriented lists. Returns 1 with depc_error set.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_scan() {
  local t root
  t=$depc_tab
  root=$1
  : >"$depc_tmp/tree.stat"
  : >"$depc_tmp/tree.sha"
  [ -d "$1" ] || return 0
  depc_need_cmd find || {
    depc_error="cannot list $1: no 'find' on host $DEPC_HOST"
    return 1
  }
  if [ "$depc_mode" = apply ]; then
    find "$1" -name "*$depc_nl*" -prune -exec rm -rf {} + 2>/dev/null
  fi
  if [ "$depc_stat_flavor" = gnu ]; then
    set -- find "$1" -exec stat -c "%F$t%a$t%u$t%g$t%U$t%G$t%n" {} +
  else
    set -- find "$1" -exec stat -f "%HT$t%Lp$t%u$t%g$t%Su$t%Sg$t%N" {} +
  fi
  if ! "$@" >"$depc_tmp/tree.stat" 2>"$depc_tmp/err"; then
    depc_fail "cannot list $root" "$depc_tmp/err"
    return 1
  fi
  case $depc_sha_tool in
    sha256sum) set -- sha256sum ;;
    shasum) set -- shasum -a 256 ;;
    sha256) set -- sha256 -r ;;
    *) set -- openssl dgst -sha256 -r ;;
  esac
  if ! find "$root" -type f -exec "$@" {} + >"$depc_tmp/tree.sha" 2>"$depc_tmp/err"; then
    depc_fail "cannot compute the sha256 of the files below $root" "$depc_tmp/err"
    return 1
  fi
  return 0
}

#@@ depc_tree_plan sha256:d6672dc9a53f271c96b1f07c2d23fe1de4dc0b81ff85e1129e9f35e81a2b3531
# depc_tree_plan PATH OWNER GROUP: ONE awk process joining the manifest with
# the scan. Prints, TAB-separated: "R PATH" (remove: not in the manifest, or
# of the wrong type), "D MODE PATH" (create a directory), "W N MODE SHA256
# PATH" (write the Nth file), "M MODE PATH" (mode only), "O PATH" (owner or
# group only); the display lines "+ REL", "~ REL", "- REL", "m REL OLD NEW",
# "o REL" (control characters of names as '?'); last "S ADDED CHANGED
# REMOVED MODES OWNERS CREATED".
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_plan() {
  # Data travels in files: awk -v would interpret backslashes.
  printf '%s\n%s\n%s\n' "$1" "$2" "$3" >"$depc_tmp/tree.args"
  awk -F '\t' '
    function unesc(s,   r, i, c, d, k) {
      r = ""
      k = length(s)
      for (i = 1; i <= k; i++) {
        c = substr(s, i, 1)
        if (c == "\\" && i < k) {
          d = substr(s, ++i, 1)
          if (d == "n") c = "\n"
          else if (d == "r") c = "\r"
          else c = d
        }
        r = r c
      }
      return r
    }
    function relof(p) {
      if (p == root) return "."
      if (substr(p, 1, length(root) + 1) == root "/") return substr(p, length(root) + 2)
      return ""
    }
    function excluded(rel,   i) {
      for (i = 1; i <= nx; i++) if (rel ~ xre[i]) return 1
      return 0
    }
    function shown(rel) {
      gsub(/[[:cntrl:]]/, "?", rel)
      return rel
    }
    function removed_above(rel,   q) {
      q = rel
      while (sub(/\/[^\/]*$/, "", q)) if (q in gone) return 1
      return 0
    }
    # Modes as digit strings without leading zeros: busybox awk reads "0755" as octal.
    function nz(s) {
      sub(/^0+/, "", s)
      return s == "" ? "0" : s
    }
    function wrong_owner(rel) {
      return (owner != "" && owner != su[rel] && owner != sun[rel]) || (group != "" && group != sg[rel] && group != sgn[rel])
    }
    FILENAME == ARGV[1] {
      if (FNR == 1) root = $0
      else if (FNR == 2) owner = $0
      else if (FNR == 3) group = $0
      next
    }
    FILENAME == ARGV[2] {
      if ($1 == "x") { xre[++nx] = $2; next }
      if (NF < 4) next
      rel = $4
      mt[rel] = $1; mm[rel] = $2; mh[rel] = $3
      if ($1 == "f") mi[rel] = ++nf
      order[++nm] = rel
      next
    }
    FILENAME == ARGV[3] {
      if (NF < 7) next
      t = tolower($1)
      if (t ~ /^regular/) t = "f"
      else if (t ~ /^directory/) t = "d"
      else t = "o"
      p = $7
      for (i = 8; i <= NF; i++) p = p "\t" $i
      rel = relof(p)
      if (rel == "") next
      st[rel] = t; sm[rel] = nz($2); su[rel] = $3; sg[rel] = $4; sun[rel] = $5; sgn[rel] = $6
      sorder[++ns] = rel
      next
    }
    FILENAME == ARGV[4] {
      line = $0
      e = 0
      if (substr(line, 1, 1) == "\\") { e = 1; line = substr(line, 2) }
      h = substr(line, 1, 64)
      if (h !~ /^[0-9a-f]+$/ || length(h) != 64) next
      rest = substr(line, 65)
      i = index(rest, "/")
      if (i == 0) next
      p = substr(rest, i)
      if (e) p = unesc(p)
      rel = relof(p)
      if (rel != "") sha[rel] = h
      next
    }
    END {
      # What the manifest lacks, in byte order (find lists in directory order).
      for (k = 1; k <= ns; k++) {
        rel = sorder[k]
        if (rel in mt || excluded(rel)) continue
        for (i = ++nr; i > 1 && cand[i - 1] > rel; i--) cand[i] = cand[i - 1]
        cand[i] = rel
      }
      for (k = 1; k <= nr; k++) {
        rel = cand[k]
        if (removed_above(rel)) continue
        gone[rel] = 1
        print "R\t" root "/" rel
        print "-\t" shown(rel) (st[rel] == "d" ? "/" : "")
        nrem++
      }
      for (k = 1; k <= nm; k++) {
        rel = order[k]
        abs = rel == "." ? root : root "/" rel
        have = rel in st ? st[rel] : ""
        replaced = 0
        if (have != "" && have != mt[rel]) {
          print "R\t" abs
          have = ""
          replaced = 1
        }
        if (mt[rel] == "d") {
          if (have == "") {
            print "D\t" mm[rel] "\t" abs
            if (owner != "" || group != "") print "O\t" abs
            if (rel == ".") created = 1
            else { print (replaced ? "~" : "+") "\t" shown(rel) "/"; if (replaced) nchg++; else nadd++ }
            continue
          }
        } else if (have == "" || sha[rel] != mh[rel]) {
          print "W\t" mi[rel] "\t" mm[rel] "\t" mh[rel] "\t" abs
          if (have == "" && !replaced) { print "+\t" shown(rel); nadd++ }
          else { print "~\t" shown(rel); nchg++ }
          continue
        }
        if (sm[rel] != nz(mm[rel])) {
          print "M\t" mm[rel] "\t" abs
          print "m\t" shown(rel) "\t" sm[rel] "\t" mm[rel]
          nmode++
        }
        if (wrong_owner(rel)) {
          print "O\t" abs
          print "o\t" shown(rel)
          nown++
        }
      }
      print "S\t" nadd + 0 "\t" nchg + 0 "\t" nrem + 0 "\t" nmode + 0 "\t" nown + 0 "\t" created + 0
    }
  ' "$depc_tmp/tree.args" "$depc_tmp/tree.manifest" "$depc_tmp/tree.stat" "$depc_tmp/tree.sha"
}

#@@ depc_tree_changes sha256:f1fdfd7546c65991120c74d65e4cacc3e7063789314fa5ea09d2bd70cfe955ff
# depc_tree_changes SUMMARY: the changes of the plan's "S" line, recorded
# with depc_change ("created, 12 added, 1 changed, 3 removed, 2 mode,
# 1 owner": counts of entries).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_changes() {
  local s added changed removed modes owners created
  s=${1#S"$depc_tab"}
  added=${s%%"$depc_tab"*}
  s=${s#*"$depc_tab"}
  changed=${s%%"$depc_tab"*}
  s=${s#*"$depc_tab"}
  removed=${s%%"$depc_tab"*}
  s=${s#*"$depc_tab"}
  modes=${s%%"$depc_tab"*}
  s=${s#*"$depc_tab"}
  owners=${s%%"$depc_tab"*}
  created=${s#*"$depc_tab"}
  [ "$created" = 0 ] || depc_change created created
  [ "$added" = 0 ] || depc_change added "$added added"
  [ "$changed" = 0 ] || depc_change content "$changed changed"
  [ "$removed" = 0 ] || depc_change removed "$removed removed"
  [ "$modes" = 0 ] || depc_change mode "$modes mode"
  [ "$owners" = 0 ] || depc_change owner "$owners owner"
  return 0
}

#@@ depc_tree_check_lines sha256:b32abc567a4176b3219d0080c78b22c3bd8f54d535428f6ed2eee8f8a7acdb4c
# depc_tree_check_lines PLAN: --check's lines for the plan's display lines,
# into $depc_tmp/diff: "  added    REL", "  changed  REL", "  removed  REL",
# "  mode     REL OLD -> NEW", "  owner    REL"; at most 50, then
# "  … and N more".
depc_tree_check_lines() {
  printf '%s\n' "$1" | awk -F '\t' '
    $1 == "+" { w = "added   " } $1 == "~" { w = "changed " } $1 == "-" { w = "removed " }
    $1 == "m" { w = "mode    " } $1 == "o" { w = "owner   " }
    $1 !~ /^[-+~mo]$/ { next }
    {
      n++
      if (n > 50) next
      if ($1 == "m") printf "  %s %s %s -> %s\n", w, $2, substr("000" $3, length($3)), $4
      else printf "  %s %s\n", w, $2
    }
    END { if (n > 50) printf "  \342\200\246 and %d more\n", n - 50 }
  ' >"$depc_tmp/diff"
  depc_has_diff=1
}

#@@ depc_lines_run sha256:5b98534e35d197e03973b2ee6935843c75df75065b85fafe6185c5abb5a2d0eb
# depc_lines_run WHAT LIST CMD [ARG...]: CMD ARG... with each line of LIST
# (newline-terminated) as one more argument, per 256; nothing when LIST is
# empty. On failure depc_fail WHAT with CMD's stderr. Returns its success.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_lines_run() {
  local what list line w1 w2 w3 nw k
  what=$1 list=$2 w1=$3 w2=${4:-} w3=${5:-}
  nw=$(($# - 2))
  set --
  k=0
  while [ -n "$list" ]; do
    line=${list%%"$depc_nl"*}
    list=${list#"$line$depc_nl"}
    set -- "$@" "$line"
    k=$((k + 1))
    if [ "$k" -ge 256 ] || [ -z "$list" ]; then
      case $nw in
        1) "$w1" "$@" ;;
        2) "$w1" "$w2" "$@" ;;
        *) "$w1" "$w2" "$w3" "$@" ;;
      esac 2>"$depc_tmp/err" || {
        depc_fail "$what" "$depc_tmp/err"
        return 1
      }
      set --
      k=0
    fi
  done
  return 0
}

#@@ depc_tree_remove sha256:488f21194e2a863eaff15e8eec037524185b5abaaaba203dc16dc61079692cc9
# depc_tree_remove PATH: the whole tree is removed (ledger.sh) when depc
# created PATH (flag "created"); else it is left as it is.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_tree_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
    depc_left="it is no longer a directory"
    depc_left_warn=1
    return 0
  fi
  [ -d "$1" ] || return 0
  case ,$depc_rm_flags, in
    *,created,*) ;;
    *)
      depc_left="it existed before depc managed it"
      return 0
      ;;
  esac
  depc_remove_guard "$1" || return 0
  depc_remove_tree_ok "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_try "cannot remove $1" rm -rf "$1"
}

#@@ depc_user sha256:c12a1a72e12007a738d6cd086dc4a331524f1592a9d9a2708aeb331bc7cf7b5d
# depc_user NAME SYSTEM CREATEHOME MANAGED HOME SHELL UID GROUP GROUPS COMMENT:
# NAME is a user. SYSTEM=1 creates it as a system user, CREATEHOME=1 creates
# its home. MANAGED is the comma list of the attributes the model sets (home,
# shell, uid, group, groups, comment); the others are left as they are.
# GROUP is the primary group (name or gid), GROUPS the supplementary groups
# (comma list, exact). A new user is recorded in STATE/principals before it
# is created: depc removes only users it created.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user() {
  local name system mkhome managed home shl uid grp groups comment
  name=$1 system=$2 mkhome=$3 managed=$4 home=$5 shl=$6 uid=$7 grp=$8 groups=$9 comment=${10}
  depc_principals_load || return 1
  depc_user_lookup "$name"
  if [ "$depc_pw_found" = 0 ]; then
    depc_change created created
    [ "$depc_mode" = apply ] || return 0
    depc_user_tool "create user $name" || return 1
    depc_principal_record user "$name" || return 1
    depc_pw_loaded=0
    if [ "$depc_user_flavor" = shadow ]; then
      set -- useradd
      [ "$system" = 0 ] || set -- "$@" -r
      if [ "$mkhome" = 1 ]; then set -- "$@" -m; else set -- "$@" -M; fi
      depc_user_has home "$managed" && set -- "$@" -d "$home"
      depc_user_has shell "$managed" && set -- "$@" -s "$shl"
      depc_user_has uid "$managed" && set -- "$@" -u "$uid"
      depc_user_has group "$managed" && set -- "$@" -g "$grp"
      depc_user_has groups "$managed" && [ -n "$groups" ] && set -- "$@" -G "$groups"
      depc_user_has comment "$managed" && set -- "$@" -c "$comment"
      depc_try "cannot create user $name" "$@" -- "$name" || return 1
      return 0
    fi
    set -- adduser -D
    [ "$system" = 0 ] || set -- "$@" -S
    [ "$mkhome" = 1 ] || set -- "$@" -H
    depc_user_has home "$managed" && set -- "$@" -h "$home"
    depc_user_has shell "$managed" && set -- "$@" -s "$shl"
    depc_user_has uid "$managed" && set -- "$@" -u "$uid"
    depc_user_has group "$managed" && set -- "$@" -G "$grp"
    depc_user_has comment "$managed" && set -- "$@" -g "$comment"
    depc_try "cannot create user $name" "$@" "$name" || return 1
    depc_user_has groups "$managed" || return 0
    depc_principals_load || return 1
    depc_user_groups_fix "$name" "$groups"
    return
  fi
  depc_user_compare "$name" "$managed" "$home" "$shl" "$uid" "$grp" "$groups" "$comment"
  [ -n "$depc_change_names" ] || return 0
  [ "$depc_mode" = apply ] || return 0
  depc_user_tool "change user $name" || return 1
  depc_pw_loaded=0
  if [ "$depc_user_flavor" = shadow ]; then
    set -- usermod
    case ,$depc_change_names, in *,home,*) set -- "$@" -d "$home" ;; esac
    case ,$depc_change_names, in *,shell,*) set -- "$@" -s "$shl" ;; esac
    case ,$depc_change_names, in *,uid,*) set -- "$@" -u "$uid" ;; esac
    case ,$depc_change_names, in *,group,*) set -- "$@" -g "$grp" ;; esac
    case ,$depc_change_names, in *,groups,*) set -- "$@" -G "$groups" ;; esac
    case ,$depc_change_names, in *,comment,*) set -- "$@" -c "$comment" ;; esac
    depc_try "cannot change user $name" "$@" -- "$name"
    return
  fi
  # busybox has no usermod: only the supplementary groups can be changed.
  case ,$depc_change_names, in
    *,home,* | *,shell,* | *,uid,* | *,group,* | *,comment,*)
      depc_error="cannot change ${depc_change_text} of user $name on host $DEPC_HOST: there is no 'usermod' (busybox adduser cannot change a user)"
      return 1
      ;;
  esac
  depc_user_groups_fix "$name" "$groups"
}

#@@ depc_user_has sha256:ffb18014b8f07702c85e50d88b7ef0fb91e7604ad3d3d0dcf21ba3dc392bbb31
# depc_user_has ATTR MANAGED: whether ATTR is in the comma list MANAGED.
depc_user_has() {
  case ,$2, in
    *,"$1",*) return 0 ;;
  esac
  return 1
}

#@@ depc_user_tool sha256:9cbd14a18a688b1c0bc485726cbb3afde8cff7d18bc978786277b3cee5f05678
# depc_user_tool WHAT: the tools to change users with, into depc_user_flavor:
# shadow (useradd, usermod) or busybox (adduser, addgroup, delgroup). Neither
# fails with one line naming the host and the tools.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_user_tool() {
  if command -v useradd >/dev/null 2>&1; then
    depc_user_flavor=shadow
  elif command -v adduser >/dev/null 2>&1 && command -v addgroup >/dev/null 2>&1; then
    depc_user_flavor=busybox
  else
    depc_error="cannot $1: host $DEPC_HOST has neither 'useradd' nor busybox 'adduser' (PATH=$PATH)"
    return 1
  fi
  return 0
}

#@@ depc_user_compare sha256:e2b00dc153f853c330a2f4caaeaf8c4c6353e232f2490ddba4369966e23ddae4
# depc_user_compare NAME MANAGED HOME SHELL UID GROUP GROUPS COMMENT: records
# a change (depc_change) for each managed attribute of the user found by
# depc_user_lookup that differs: "shell /bin/sh -> /bin/bash".
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user_compare() {
  local cur want
  if depc_user_has home "$2" && [ "$depc_pw_home" != "$3" ]; then
    depc_change home "home $depc_pw_home -> $3"
  fi
  if depc_user_has shell "$2" && [ "$depc_pw_shell" != "$4" ]; then
    depc_change shell "shell ${depc_pw_shell:-(none)} -> $4"
  fi
  if depc_user_has uid "$2" && [ "$depc_pw_uid" != "$5" ]; then
    depc_change uid "uid $depc_pw_uid -> $5"
  fi
  if depc_user_has group "$2"; then
    want=$6
    depc_group_lookup "$depc_pw_gid"
    cur=$depc_pw_gid
    [ "$depc_gr_found" = 0 ] || cur=$depc_gr_name
    case $want in
      *[!0-9]*)
        depc_group_lookup "$want"
        if [ "$depc_gr_found" = 0 ] || [ "$depc_gr_gid" != "$depc_pw_gid" ]; then
          depc_change group "group $cur -> $want"
        fi
        ;;
      *) [ "$want" = "$depc_pw_gid" ] || depc_change group "group $cur -> $want" ;;
    esac
  fi
  if depc_user_has groups "$2"; then
    depc_user_groups_of "$1"
    if ! depc_user_same_set "$depc_user_groups" "$7"; then
      depc_change groups "groups ${depc_user_groups:-(none)} -> ${7:-(none)}"
    fi
  fi
  if depc_user_has comment "$2" && [ "$depc_pw_gecos" != "$8" ]; then
    depc_change comment comment
  fi
  return 0
}

#@@ depc_user_same_set sha256:b021b7b8fd4d939c471b24389b4ee5c8257ff0e4fcf1cab4671e224ee795258b
# depc_user_same_set A B: whether the comma lists A and B hold the same names.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_user_same_set() {
  local x rest
  for rest in "$1" "$2"; do
    while [ -n "$rest" ]; do
      x=${rest%%,*}
      case $rest in *,*) rest=${rest#*,} ;; *) rest= ;; esac
      case ,$1, in *,"$x",*) ;; *) return 1 ;; esac
      case ,$2, in *,"$x",*) ;; *) return 1 ;; esac
    done
  done
  return 0
}

#@@ depc_user_groups_of sha256:5cb80d608b40c881213e447964e06c7364fa8e93104695499a2062e22fb61658
# depc_user_groups_of NAME: the groups that list NAME as a member, as a comma
# list in the order of the group database, into depc_user_groups.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user_groups_of() {
  local g x gid members
  depc_user_groups=
  while IFS=: read -r g x gid members; do
    case ,$members, in
      *,"$1",*) depc_user_groups=${depc_user_groups:+$depc_user_groups,}$g ;;
    esac
  done <"$depc_tmp/group"
}

#@@ depc_user_groups_fix sha256:7167fa393a0434eb52fff8e4ecee2b60dadf827fe3741468cb8446d4103a110b
# depc_user_groups_fix NAME GROUPS: busybox: make NAME a member of exactly the
# groups GROUPS (comma list) with addgroup NAME G / delgroup NAME G.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_user_groups_fix() {
  local x rest
  depc_user_groups_of "$1"
  rest=$2
  while [ -n "$rest" ]; do
    x=${rest%%,*}
    case $rest in *,*) rest=${rest#*,} ;; *) rest= ;; esac
    case ,$depc_user_groups, in
      *,"$x",*) ;;
      *) depc_try "cannot add user $1 to group $x" addgroup "$1" "$x" || return 1 ;;
    esac
  done
  rest=$depc_user_groups
  while [ -n "$rest" ]; do
    x=${rest%%,*}
    case $rest in *,*) rest=${rest#*,} ;; *) rest= ;; esac
    case ,$2, in
      *,"$x",*) ;;
      *) depc_try "cannot remove user $1 from group $x" delgroup "$1" "$x" || return 1 ;;
    esac
  done
  depc_pw_loaded=0
  return 0
}

#@@ depc_principals_load sha256:ba826201e58ef4eb82eba11d1f02812658e3e099b92b1316be29bbfb4ada53ec
# depc_principals_load: the host's users and groups into $depc_tmp/passwd and
# $depc_tmp/group (getent when present: it sees what the system sees; else
# /etc/passwd and /etc/group). Read once per run, and again after depc
# changed a user or group or an opaque resource invalidated the facts.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_principals_load() {
  local db
  if [ "${depc_pw_loaded:-0}" = 1 ] && [ "$depc_facts_valid" = 1 ]; then
    return 0
  fi
  for db in passwd group; do
    if ! { command -v getent >/dev/null 2>&1 && getent "$db" >"$depc_tmp/$db" 2>/dev/null; }; then
      if [ -f "/etc/$db" ]; then
        depc_try "cannot read /etc/$db" cat "/etc/$db" >"$depc_tmp/$db" || return 1
      else
        : >"$depc_tmp/$db"
      fi
    fi
  done
  depc_pw_loaded=1
  return 0
}

#@@ depc_user_lookup sha256:a5f5edf28cc6631e048c68f53feb5c6a25a7d738586cd5c252ae003bf2b4eb68
# depc_user_lookup NAME: NAME's passwd entry (loaded by depc_principals_load)
# into depc_pw_found (0/1), depc_pw_uid, depc_pw_gid, depc_pw_gecos,
# depc_pw_home, depc_pw_shell.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user_lookup() {
  local n x uid gid gecos home shl
  depc_pw_found=0
  while IFS=: read -r n x uid gid gecos home shl; do
    if [ "$n" = "$1" ]; then
      depc_pw_found=1 depc_pw_uid=$uid depc_pw_gid=$gid depc_pw_gecos=$gecos depc_pw_home=$home depc_pw_shell=$shl
      return 0
    fi
  done <"$depc_tmp/passwd"
  return 0
}

#@@ depc_principal_record sha256:24b4abd56675b0afecb1be19e87f49dff8cffd3ca0c310dbdc50e9d1fa3b0c00
# depc_principal_record KIND NAME: note in STATE/principals that depc is about
# to create user or group NAME (written before it is created: a run killed
# in between leaves a note for a name that does not exist, which removal
# ignores).
depc_principal_record() {
  if ! { printf '%s %s\n' "$1" "$2" >>"$depc_state_dir/principals"; } 2>"$depc_tmp/err"; then
    depc_fail "cannot record $1 $2 in $depc_state_dir/principals" "$depc_tmp/err"
    return 1
  fi
  return 0
}

#@@ depc_principal_created sha256:82d89c7456a4b9ecb07d1960440b71caca60faa25f7144a8795cf208cea2d5fe
# depc_principal_created KIND NAME: whether STATE/principals says depc created it.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_principal_created() {
  local k n
  [ -f "$depc_state_dir/principals" ] || return 1
  while read -r k n; do
    [ "$k $n" != "$1 $2" ] || return 0
  done <"$depc_state_dir/principals"
  return 1
}

#@@ depc_principal_forget sha256:978b9e0775d7ee433005184b1bcac0acddd95a73e5063c1b9239d1866dc6dd1b
# depc_principal_forget KIND NAME: drop its lines from STATE/principals
# (awk into a temp file there, then rename).
depc_principal_forget() {
  [ -f "$depc_state_dir/principals" ] || return 0
  awk -v k="$1" -v n="$2" '$1 != k || $2 != n' "$depc_state_dir/principals" >"$depc_state_dir/principals.new" 2>"$depc_tmp/err" &&
    mv -f "$depc_state_dir/principals.new" "$depc_state_dir/principals" 2>>"$depc_tmp/err" && return 0
  rm -f "$depc_state_dir/principals.new"
  depc_fail "cannot rewrite $depc_state_dir/principals" "$depc_tmp/err"
}

#@@ depc_user_remove sha256:686b0a6d8c941249fe0e7d632d5f3be8dde9304df7b0cb0b7d3e82440f85b51a
# depc_user_remove NAME: userdel (busybox: deluser) when depc created the
# user (STATE/principals); its home and files stay, and so does its primary
# group when this bundle declares it as a Group. A user depc did not create
# is left.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user_remove() {
  local keep gid
  depc_principals_load || return 1
  depc_user_lookup "$1"
  if [ "$depc_pw_found" = 0 ]; then
    [ "$depc_mode" != apply ] || depc_principal_forget user "$1"
    return
  fi
  if ! depc_principal_created user "$1"; then
    depc_left="it existed before depc managed it"
    return 0
  fi
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_pw_loaded=0
  # userdel and deluser also delete a primary group named like the user
  # (login.defs' USERGROUPS_ENAB); a Group this bundle declares is put back
  # with its gid (files keep their group).
  keep=
  depc_group_lookup "$depc_pw_gid"
  if [ "$depc_gr_found" = 1 ] && depc_declared group "$depc_gr_name"; then
    keep=$depc_gr_name gid=$depc_gr_gid
  fi
  if command -v userdel >/dev/null 2>&1; then
    depc_try "cannot remove user $1" userdel -- "$1" || return 1
  elif command -v deluser >/dev/null 2>&1; then
    depc_try "cannot remove user $1" deluser "$1" || return 1
  else
    depc_error="cannot remove user $1: host $DEPC_HOST has neither 'userdel' nor busybox 'deluser' (PATH=$PATH)"
    return 1
  fi
  depc_principal_forget user "$1" || return 1
  [ -n "$keep" ] || return 0
  depc_principals_load || return 1
  depc_group_lookup "$keep"
  [ "$depc_gr_found" = 0 ] || return 0
  depc_pw_loaded=0
  if command -v groupadd >/dev/null 2>&1; then
    depc_try "cannot restore group $keep (gid $gid) after removing user $1" groupadd -g "$gid" -- "$keep"
  else
    depc_try "cannot restore group $keep (gid $gid) after removing user $1" addgroup -g "$gid" "$keep"
  fi
}

#@@ depc_declared sha256:3891ee9bfd00f52c2be0ccd0db15a1a5c637eb0382ed8227fb779758f57607c0
# depc_declared KIND KEY: whether this bundle declares a resource KIND KEY
# (its ledger entries, read by depc_ledger_begin into the private temp dir).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_declared() {
  local kind key rest
  [ -f "$depc_tmp/ledger.decl" ] || return 1
  while IFS="$depc_tab" read -r kind key rest; do
    [ "$kind" != "$1" ] || [ "$key" != "$2" ] || return 0
  done <"$depc_tmp/ledger.decl"
  return 1
}

#@@ depc_virtualenv sha256:3848a94c59e84303cd3dca79dcd0c5216a23abdee84ee8754c3986f5758557b5
# depc_virtualenv PATH PYTHON SYSTEM DIGEST REQFN [PIPOPT...]: PATH is a
# virtualenv made by PYTHON (a program name looked up on PATH, or an absolute
# path; SYSTEM=1: with --system-site-packages) with
# the requirements file that REQFN prints installed by `pip install PIPOPT...
# -r` (REQFN '' = nothing to install). DIGEST identifies the requirements
# and the options. The venv is made when missing, or made again (its content
# removed first) when the interpreter behind PYTHON (or SYSTEM) is not what
# it was made with, its bin/python is gone, or an earlier run did not finish
# making it (PATH/.depc-making). pip runs when the venv was (re)made or .depc-installed
# does not say "DIGEST <interpreter>". Into an existing venv, pip installs
# only after `pip install --dry-run` succeeded with the same arguments
# (resolution, downloads and metadata checked, nothing installed), and pip
# itself builds every wheel before it installs any: a broken requirement
# fails the resource with pip's last lines and leaves the venv as it was.
# --check runs the interpreter probe only and reports what it would do, with
# the diff of the requirements.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_virtualenv() {
  local p python system digest reqfn ident have remake install
  p=$1 python=$2 system=$3 digest=$4 reqfn=$5
  shift 5
  depc_venv_probe "$python" || return 1
  ident=$depc_venv_ident
  [ "$system" = 0 ] || ident="$ident system-site-packages"
  if [ -L "$p" ]; then
    depc_error="$p exists and is a symbolic link"
    return 1
  elif [ -e "$p" ] && [ ! -d "$p" ]; then
    depc_error="$p exists and is not a directory"
    return 1
  fi
  remake=
  if [ ! -d "$p" ]; then
    depc_change created created
  elif [ -f "$p/.depc-making" ]; then
    remake=1
    depc_change created "created (an earlier run did not finish it)"
  elif [ ! -f "$p/pyvenv.cfg" ]; then
    if ! depc_venv_dir_empty "$p"; then
      depc_error="$p exists and is not a virtualenv (no pyvenv.cfg); depc does not replace it"
      return 1
    fi
    depc_change created created
  else
    have=
    if [ -f "$p/.depc-python" ]; then
      IFS= read -r have <"$p/.depc-python"
    fi
    if [ "$have" != "$ident" ]; then
      remake=1
      depc_change python "python ${have:-unknown} -> $ident"
    elif [ ! -x "$p/bin/python" ]; then
      remake=1
      depc_change python "python $p/bin/python is missing"
    fi
  fi
  install=0
  if [ -n "$reqfn" ]; then
    if [ -n "$depc_change_names" ]; then
      install=1
    else
      have=
      if [ -f "$p/.depc-installed" ]; then
        IFS= read -r have <"$p/.depc-installed"
      fi
      [ "$have" = "$digest $ident" ] || install=1
    fi
  fi
  if [ "$depc_mode" = check ]; then
    if [ "$install" = 1 ]; then
      depc_change requirements "installs requirements"
      depc_venv_check_diff "$p" "$reqfn" || return 1
    fi
    return 0
  fi
  [ -n "$depc_change_names" ] || [ "$install" = 1 ] || return 0
  depc_invalidate_facts
  if [ -n "$depc_change_names" ]; then
    depc_venv_create "$depc_venv_py" "$p" "$remake" "$ident" "$system" || return 1
  fi
  if [ "$install" = 1 ]; then
    depc_venv_pip "$p" "$reqfn" "$depc_change_names" "$@" || return 1
    if ! printf '%s %s\n' "$digest" "$ident" 2>"$depc_tmp/err" >"$p/.depc-installed"; then
      depc_fail "cannot record the installed requirements in $p/.depc-installed" "$depc_tmp/err"
      return 1
    fi
    depc_change requirements "installed requirements"
  fi
  return 0
}

#@@ depc_venv_probe sha256:d7b0dd3a26b095fd3f80468ef6a269c98606df2a565994684ca1bcc5b987bbcd
# depc_venv_probe PYTHON: find PYTHON (a name on PATH or an absolute path)
# and ask it who it is: depc_venv_py (its path) and depc_venv_ident
# ("VERSION REALPATH" of the interpreter a venv made by it runs, so the
# name python3 pointing at another Python counts as a change).
# shellcheck disable=SC2034 # sets globals read by other functions
depc_venv_probe() {
  case $1 in
    /*)
      if [ ! -f "$1" ] || [ ! -x "$1" ]; then
        depc_error="python $1 is not an executable file on host $DEPC_HOST"
        return 1
      fi
      depc_venv_py=$1
      ;;
    *)
      if ! depc_venv_py=$(command -v "$1" 2>/dev/null) || [ -z "$depc_venv_py" ]; then
        depc_error="python '$1' not found on host $DEPC_HOST (PATH=$PATH)"
        return 1
      fi
      ;;
  esac
  if ! depc_venv_ident=$("$depc_venv_py" -I -S -c 'import os, sys; print("%d.%d.%d" % sys.version_info[:3], os.path.realpath(getattr(sys, "_base_executable", sys.executable)))' 2>"$depc_tmp/err" </dev/null); then
    depc_fail "cannot run $depc_venv_py" "$depc_tmp/err"
    return 1
  fi
  if [ -z "$depc_venv_ident" ]; then
    depc_error="$depc_venv_py printed nothing when asked for its version"
    return 1
  fi
  return 0
}

#@@ depc_venv_dir_empty sha256:d7bbae4eefbbf436ca3681f8d4c4023ac87bc11f8e117d68f43966655edf0f15
# depc_venv_dir_empty DIR: succeeds when DIR has no entries (dot files too).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_venv_dir_empty() {
  local entry
  set -- "$1"/* "$1"/.[!.]* "$1"/..?*
  for entry in "$@"; do
    if [ -e "$entry" ] || [ -L "$entry" ]; then
      return 1
    fi
  done
  return 0
}

#@@ depc_venv_create sha256:aca581e9e82b4359a48c05a04d2e7dd9c64c0d01019d6a2db53b551a6f30587e
# depc_venv_create PY PATH REMAKE IDENT SYSTEM: `PY -m venv
# [--system-site-packages] PATH`, then record IDENT in PATH/.depc-python.
# PATH/.depc-making is written first and removed last, so a run stopped
# half-way leaves a directory the next run knows as its own and makes
# again. REMAKE set: PATH's content goes first but that marker (what
# `--clear` does, except that --clear would remove the marker too). Returns
# 1 with depc_error set (the tool's last lines) on failure.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_venv_create() {
  local entry
  rm -f "$2/.depc-installed" "$2/.depc-python"
  if ! mkdir -p "$2" 2>"$depc_tmp/err" || ! : 2>>"$depc_tmp/err" >"$2/.depc-making"; then
    depc_fail "cannot create $2" "$depc_tmp/err"
    return 1
  fi
  if [ -n "$3" ]; then
    for entry in "$2"/* "$2"/.[!.]* "$2"/..?*; do
      [ "$entry" != "$2/.depc-making" ] || continue
      if [ -e "$entry" ] || [ -L "$entry" ]; then
        depc_try "cannot remove $entry to make the venv again" rm -rf "$entry" || return 1
      fi
    done
  fi
  (
    depc_venv_where=$2
    depc_venv_system=$5
    set -- "$1" -m venv
    [ "$depc_venv_system" != 1 ] || set -- "$@" --system-site-packages
    exec "$@" "$depc_venv_where"
  ) </dev/null >"$depc_tmp/out" 2>&1 9>&-
  depc_venv_rc=$?
  if [ "$depc_venv_rc" != 0 ]; then
    depc_venv_pip_cause
    depc_fail "$1 -m venv $2 exited with status $depc_venv_rc" "$depc_tmp/err"
    return 1
  fi
  if ! printf '%s\n' "$4" 2>"$depc_tmp/err" >"$2/.depc-python" || ! rm -f "$2/.depc-making" 2>>"$depc_tmp/err"; then
    depc_fail "cannot write $2/.depc-python" "$depc_tmp/err"
    return 1
  fi
  return 0
}

#@@ depc_venv_pip sha256:c8098317917960e678c5c161ce1a21b3bb45b8270fd3444044377c74416b9be7
# depc_venv_pip PATH REQFN FRESH [PIPOPT...]: write REQFN's output to
# PATH/.depc-requirements.txt and install it with PATH's pip, in PATH. Unless
# FRESH (the venv was just made, there is nothing to protect), a
# `pip install --dry-run` with the same arguments must succeed first (a pip
# without --dry-run, older than 22.2, skips that step). Returns 1 with
# depc_error set to pip's last lines.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_venv_pip() {
  local p reqfn fresh req
  p=$1 reqfn=$2 fresh=$3
  shift 3
  req=$p/.depc-requirements.txt
  if ! : 2>"$depc_tmp/err" >"$req" || ! chmod 600 "$req" 2>>"$depc_tmp/err" || ! "$reqfn" 2>>"$depc_tmp/err" >"$req"; then
    depc_fail "cannot write $req" "$depc_tmp/err"
    return 1
  fi
  if [ -z "$fresh" ]; then
    depc_venv_run_pip "$p" --dry-run "$@" -r "$req"
    if [ "$depc_venv_rc" != 0 ] && ! awk '/no such option: --dry-run/ { found = 1 } END { exit !found }' "$depc_tmp/out"; then
      depc_venv_pip_cause
      depc_fail "pip install --dry-run exited with status $depc_venv_rc, nothing was installed" "$depc_tmp/err"
      return 1
    fi
  fi
  rm -f "$p/.depc-installed"
  depc_venv_run_pip "$p" "$@" -r "$req"
  cat "$depc_tmp/out" >"$p/.depc-pip.log" 2>/dev/null
  if [ "$depc_venv_rc" != 0 ]; then
    depc_venv_pip_cause
    depc_fail "pip install exited with status $depc_venv_rc (all of its output: $p/.depc-pip.log)" "$depc_tmp/err"
    return 1
  fi
  return 0
}

#@@ depc_venv_pip_cause sha256:1d38655c57cdf3ef85536e5ec9b2fbf30e1bbb7e0d5cffd35cd3dcc22834746a
# depc_venv_pip_cause: pip's failed output ($depc_tmp/out) cut for the
# failure ($depc_tmp/err): its ERROR lines (the cause; a build failure puts
# it far above the end), then its last 10 lines, in order, each once.
depc_venv_pip_cause() {
  awk '{ line[NR] = $0 }
    END {
      start = NR > 10 ? NR - 9 : 1
      for (i = 1; i < start; i++) if (line[i] ~ /^ *(ERROR|error)[: ]/ && n++ < 5) print line[i]
      for (i = start; i <= NR; i++) print line[i]
    }' "$depc_tmp/out" >"$depc_tmp/err" 2>/dev/null
}

#@@ depc_venv_run_pip sha256:476bcf8bc5ad391f385b3709440dba24439288f9eb4524eb368007d71f6d3029
# depc_venv_run_pip PATH PIPARGS...: `PATH/bin/python -m pip install
# PIPARGS...` in PATH, non-interactive, output in $depc_tmp/out, status in
# depc_venv_rc.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_venv_run_pip() {
  (
    cd "$1" || exit 1
    shift
    PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 exec ./bin/python -m pip install "$@"
  ) </dev/null >"$depc_tmp/out" 2>&1 9>&-
  depc_venv_rc=$?
}

#@@ depc_venv_check_diff sha256:e018ab3ff469b43e7bac4096f3458dc3718e88ee5d14dbe7b8463537bd5a0f96
# depc_venv_check_diff PATH REQFN: --check only. The diff between the
# requirements pip last got (PATH/.depc-requirements.txt) and REQFN's, for
# depc_step to print; nothing when they are the same text (the interpreter
# or the options changed).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_venv_check_diff() {
  local old oldsha newsha
  if ! "$2" >"$depc_tmp/new" 2>"$depc_tmp/err"; then
    depc_fail "cannot produce the requirements of $1" "$depc_tmp/err"
    return 1
  fi
  old=$1/.depc-requirements.txt
  oldsha='(none)'
  if [ -f "$old" ] && [ -r "$old" ]; then
    depc_sha256_of "$old" || return 1
    oldsha=$depc_digest
  else
    old=/dev/null
  fi
  depc_sha256_of "$depc_tmp/new" || return 1
  newsha=$depc_digest
  [ "$oldsha" != "$newsha" ] || return 0
  depc_diff "$old" "$depc_tmp/new" "$1/.depc-requirements.txt" "$oldsha" "$newsha"
}

#@@ depc_virtualenv_remove sha256:e40aba89aa3c2df544d59948897428594e5abed144fed0ca50bc19d6237334bb
# depc_virtualenv_remove PATH: rm -rf (ledger.sh; never follows links inside)
# if it has pyvenv.cfg and holds no path the bundle declares.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_virtualenv_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
    depc_left="it is no longer a directory"
    depc_left_warn=1
    return 0
  fi
  [ -d "$1" ] || return 0
  if [ ! -f "$1/pyvenv.cfg" ]; then
    depc_left="it has no pyvenv.cfg, so it is not a virtualenv any more"
    depc_left_warn=1
    return 0
  fi
  depc_remove_guard "$1" || return 0
  depc_remove_tree_ok "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_try "cannot remove the virtualenv $1" rm -rf "$1"
}
