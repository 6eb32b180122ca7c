# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: system groups (shadow's groupadd/groupmod/groupdel, or busybox
# addgroup/delgroup), read with the users (depc_principals_load, user.sh).

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
