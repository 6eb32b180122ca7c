# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: mode, owner and group of files and directories.

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
