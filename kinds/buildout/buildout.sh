# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: zc.buildout. DIR/.depc-buildout holds the digest of the
# inputs of the last buildout run that succeeded; it is removed before a
# run starts, so a run that fails or is interrupted is repeated next time.

# depc_buildout OWE DIR EXECUTABLE OFFLINE TIMEOUT NOTIFIED DIGEST FILES...
# FILES is NAME SHA256 CONTENTFN per config file, buildout.cfg first.
# Writes each DIR/NAME like depc_file (atomically; unmanaged mode and
# owner), then runs
# `EXECUTABLE -c buildout.cfg [-o]` in DIR when a config file was written,
# DIR/.depc-buildout does not hold DIGEST (the compiler's digest of the
# configs, the executable and OFFLINE), or (NOTIFIED=1) the reaction OWE is
# owed. EXECUTABLE is a name looked up on PATH or an absolute path. TIMEOUT
# (seconds, '' = none) needs `timeout` on the host. A failed run fails the
# resource with buildout's last lines. --check shows the configs' diffs and
# whether buildout would run.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_buildout() {
  local owe dir exe offline timeout notified digest run have cmd
  owe=$1 dir=$2 exe=$3 offline=$4 timeout=$5 notified=$6 digest=$7
  shift 7
  run=0
  : >"$depc_tmp/buildout.diff"
  while [ $# -ge 3 ]; do
    depc_buildout_config "$dir/$1" "$2" "$3" || return 1
    [ "$depc_buildout_written" = 0 ] || run=1
    shift 3
  done
  if [ -s "$depc_tmp/buildout.diff" ]; then
    mv -f "$depc_tmp/buildout.diff" "$depc_tmp/diff"
    depc_has_diff=1
  fi
  have=
  if [ -f "$dir/.depc-buildout" ]; then
    IFS= read -r have <"$dir/.depc-buildout"
  fi
  [ "$have" = "$digest" ] || run=1
  if [ "$notified" = 1 ] && depc_is_owed "$owe"; then
    run=1
  fi
  [ "$run" = 1 ] || return 0
  cmd="$exe -c buildout.cfg"
  [ "$offline" = 0 ] || cmd="$cmd -o"
  if [ "$depc_mode" = check ]; then
    depc_change run "runs $cmd"
    return 0
  fi
  case $exe in
    /*)
      if [ ! -f "$exe" ] || [ ! -x "$exe" ]; then
        depc_error="buildout executable $exe is not an executable file on host $DEPC_HOST"
        return 1
      fi
      ;;
    *)
      if ! command -v "$exe" >/dev/null 2>&1; then
        depc_error="buildout executable '$exe' not found on host $DEPC_HOST (PATH=$PATH)"
        return 1
      fi
      ;;
  esac
  if [ -n "$timeout" ] && ! command -v timeout >/dev/null 2>&1; then
    depc_error="timeout ${timeout}s needs the 'timeout' tool on host $DEPC_HOST"
    return 1
  fi
  depc_invalidate_facts
  if ! rm -f "$dir/.depc-buildout" 2>"$depc_tmp/err"; then
    depc_fail "cannot remove $dir/.depc-buildout" "$depc_tmp/err"
    return 1
  fi
  depc_buildout_run "$dir" "$exe" "$offline" "$timeout"
  if [ "$depc_buildout_rc" != 0 ]; then
    tail -n 10 "$depc_tmp/out" >"$depc_tmp/err" 2>/dev/null
    # GNU timeout exits 124 (137 after its -k KILL); busybox's kills with
    # TERM, which the shell reports as 143 (yash: 399; KILL 393).
    case ${timeout:+t}$depc_buildout_rc in
      t124 | t137 | t143 | t393 | t399) depc_fail "$cmd timed out after ${timeout}s" "$depc_tmp/err" ;;
      *) depc_fail "$cmd exited with status $depc_buildout_rc" "$depc_tmp/err" ;;
    esac
    return 1
  fi
  if ! printf '%s\n' "$digest" 2>"$depc_tmp/err" >"$dir/.depc-buildout.new" ||
    ! mv -f "$dir/.depc-buildout.new" "$dir/.depc-buildout" 2>>"$depc_tmp/err"; then
    depc_fail "buildout ran, but $dir/.depc-buildout cannot be written" "$depc_tmp/err"
    return 1
  fi
  depc_change run "ran $cmd"
  depc_settle "$owe"
}

# depc_buildout_config PATH SHA256 CONTENTFN: depc_file for one config file,
# its change recorded as "NAME created" / "NAME content" and its --check diff
# appended to $depc_tmp/buildout.diff. depc_buildout_written: 1 when the file
# differs (apply: was written).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_buildout_config() {
  local names text
  names=$depc_change_names
  text=$depc_change_text
  depc_change_names=
  depc_change_text=
  depc_has_diff=0
  depc_buildout_written=0
  if ! depc_file "$1" '' '' '' "$2" "$3"; then
    depc_change_names=$names
    depc_change_text=$text
    return 1
  fi
  if [ -n "$depc_change_names" ]; then
    depc_buildout_written=1
    if [ "$depc_has_diff" = 1 ]; then
      cat "$depc_tmp/diff" >>"$depc_tmp/buildout.diff"
    fi
    depc_has_diff=0
    names=${names:+$names,}config
    text=${text:+$text, }"${1##*/} $depc_change_text"
  fi
  depc_change_names=$names
  depc_change_text=$text
  return 0
}

# depc_buildout_run DIR EXECUTABLE OFFLINE TIMEOUT: run buildout in DIR,
# output in $depc_tmp/out, status in depc_buildout_rc. fd 9 (the run's
# stderr) is closed for it: a program it leaves running must not hold the
# caller's pipe open.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_buildout_run() {
  (
    cd "$1" || exit 1
    depc_buildout_limit=$4
    if [ "$3" = 0 ]; then
      set -- "$2" -c buildout.cfg
    else
      set -- "$2" -c buildout.cfg -o
    fi
    if [ -n "$depc_buildout_limit" ]; then
      exec timeout "$depc_buildout_limit" "$@"
    fi
    exec "$@"
  ) </dev/null >"$depc_tmp/out" 2>&1 9>&-
  depc_buildout_rc=$?
}

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
