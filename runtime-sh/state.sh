# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: the host's state directory (owed reactions; later the lock,
# kept bundles and the run log).

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
