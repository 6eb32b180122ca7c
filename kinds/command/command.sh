# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: commands, made idempotent by their guards.

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
    # GNU timeout exits 124; busybox's kills the command with TERM, which
    # the shell reports as 143 (yash: 399).
    if [ -n "$timeout" ] && { [ "$rc" = 124 ] || [ "$rc" = 143 ] || [ "$rc" = 399 ]; }; then
      depc_fail "$display timed out after ${timeout}s" "$depc_tmp/err"
    else
      depc_fail "$display exited with status $rc" "$depc_tmp/err"
    fi
    return 1
  fi
  depc_change run "ran $display"
  depc_settle "$owe"
}

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
