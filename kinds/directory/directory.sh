# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: directories.

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
