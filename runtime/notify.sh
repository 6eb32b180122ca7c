# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: notifications. A resource that changes owes the reactions
# subscribed to it (a command with whenChanged, a service restart). An owed
# reaction is written to the state directory *before* the change is
# reported, and removed only after the reaction succeeded: a run that fails
# in between leaves it owed, and the next run performs it.
#
# depc_owed holds the owed reactions as "\nkey1\nkey2\n" (newline-framed,
# so a case pattern finds a whole line).

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
}

# depc_is_owed KEY: whether KEY is owed, by this run or an earlier one.
depc_is_owed() {
  case $depc_owed in
    *"$depc_nl$1$depc_nl"*) return 0 ;;
  esac
  return 1
}

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
