# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: collected kinds (KindDefinition.collect). The resources of a
# group (all Packages of a host, the cron lines of a user) are applied by ONE
# call of their kind's function, emitted at the group's first member:
#
#   depc_collect '3 4 7' depc_package ARGS...      the group's call
#   depc_step 3 package 'nginx' depc_collected 3 1  each member's own line,
#   depc_step 4 package 'curl' depc_collected 3 2   from what the call
#   depc_step 7 package 'cron' depc_collected 3 3   recorded for it
#
# The call reports each member's outcome by its ordinal (1 = first member):
# depc_member_change ORDINAL NAME DETAIL and depc_member_fail ORDINAL
# MESSAGE [OUTPUT_FILE]; a member it reports nothing for is ok. A call that
# returns non-zero (depc_error set, e.g. a missing tool) fails every member
# it did not report a failure for. Outcomes live in the private temp dir,
# one file per group: `ORDINAL<TAB>c<TAB>NAME<TAB>DETAIL` and
# `ORDINAL<TAB>f<TAB>MESSAGE` lines (ordinal 0: the whole group), a failed
# command's output in collect.GROUP.ORDINAL.out.

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

# depc_member_change ORDINAL NAME DETAIL: for a collected call: its member
# ORDINAL changed (or, in --check, would change), like depc_change NAME DETAIL.
depc_member_change() {
  printf '%s\t%s\t%s\t%s\n' "$1" c "$2" "$3" >>"$depc_collect_file"
}

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

# depc_member_diff ORDINAL FILE: for a collected call in --check: FILE (a
# diff, as depc_diff writes it) is shown under member ORDINAL's line.
depc_member_diff() {
  cat "$2" >"$depc_collect_file.$1.diff" 2>/dev/null
  return 0
}

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
