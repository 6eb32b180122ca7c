# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: cold deployment (batou's `deployment = "cold"`). A cold
# resource (a supervisor Program with cold: true) is stopped right before
# the first resource it depends on changes, and started again by its own
# step. The bundle's depc_evasions table names, for each such precursor,
# the cold resources to stop (compiler/emit/evade.ts); the bundle's
# `depc_evade N` stops resource N with its kind's evade function, which records the owed start
# in the state directory *before* it stops anything, so a run killed in
# between leaves it owed and the next run starts it.
#
# depc_evaded holds the indices stopped (or found not running) in this run,
# " 7  9 " style, so each is stopped at most once.

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
