# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: symbolic links.

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
