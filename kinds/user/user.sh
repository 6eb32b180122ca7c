# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: system users (shadow's useradd/usermod/userdel, or busybox
# adduser/addgroup/delgroup/deluser). The host's users and groups are read
# once per run (depc_principals_load) and parsed with builtins.

# depc_user NAME SYSTEM CREATEHOME MANAGED HOME SHELL UID GROUP GROUPS COMMENT:
# NAME is a user. SYSTEM=1 creates it as a system user, CREATEHOME=1 creates
# its home. MANAGED is the comma list of the attributes the model sets (home,
# shell, uid, group, groups, comment); the others are left as they are.
# GROUP is the primary group (name or gid), GROUPS the supplementary groups
# (comma list, exact). A new user is recorded in STATE/principals before it
# is created: depc removes only users it created.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user() {
  local name system mkhome managed home shl uid grp groups comment
  name=$1 system=$2 mkhome=$3 managed=$4 home=$5 shl=$6 uid=$7 grp=$8 groups=$9 comment=${10}
  depc_principals_load || return 1
  depc_user_lookup "$name"
  if [ "$depc_pw_found" = 0 ]; then
    depc_change created created
    [ "$depc_mode" = apply ] || return 0
    depc_user_tool "create user $name" || return 1
    depc_principal_record user "$name" || return 1
    depc_pw_loaded=0
    if [ "$depc_user_flavor" = shadow ]; then
      set -- useradd
      [ "$system" = 0 ] || set -- "$@" -r
      if [ "$mkhome" = 1 ]; then set -- "$@" -m; else set -- "$@" -M; fi
      depc_user_has home "$managed" && set -- "$@" -d "$home"
      depc_user_has shell "$managed" && set -- "$@" -s "$shl"
      depc_user_has uid "$managed" && set -- "$@" -u "$uid"
      depc_user_has group "$managed" && set -- "$@" -g "$grp"
      depc_user_has groups "$managed" && [ -n "$groups" ] && set -- "$@" -G "$groups"
      depc_user_has comment "$managed" && set -- "$@" -c "$comment"
      depc_try "cannot create user $name" "$@" -- "$name" || return 1
      return 0
    fi
    set -- adduser -D
    [ "$system" = 0 ] || set -- "$@" -S
    [ "$mkhome" = 1 ] || set -- "$@" -H
    depc_user_has home "$managed" && set -- "$@" -h "$home"
    depc_user_has shell "$managed" && set -- "$@" -s "$shl"
    depc_user_has uid "$managed" && set -- "$@" -u "$uid"
    depc_user_has group "$managed" && set -- "$@" -G "$grp"
    depc_user_has comment "$managed" && set -- "$@" -g "$comment"
    depc_try "cannot create user $name" "$@" "$name" || return 1
    depc_user_has groups "$managed" || return 0
    depc_principals_load || return 1
    depc_user_groups_fix "$name" "$groups"
    return
  fi
  depc_user_compare "$name" "$managed" "$home" "$shl" "$uid" "$grp" "$groups" "$comment"
  [ -n "$depc_change_names" ] || return 0
  [ "$depc_mode" = apply ] || return 0
  depc_user_tool "change user $name" || return 1
  depc_pw_loaded=0
  if [ "$depc_user_flavor" = shadow ]; then
    set -- usermod
    case ,$depc_change_names, in *,home,*) set -- "$@" -d "$home" ;; esac
    case ,$depc_change_names, in *,shell,*) set -- "$@" -s "$shl" ;; esac
    case ,$depc_change_names, in *,uid,*) set -- "$@" -u "$uid" ;; esac
    case ,$depc_change_names, in *,group,*) set -- "$@" -g "$grp" ;; esac
    case ,$depc_change_names, in *,groups,*) set -- "$@" -G "$groups" ;; esac
    case ,$depc_change_names, in *,comment,*) set -- "$@" -c "$comment" ;; esac
    depc_try "cannot change user $name" "$@" -- "$name"
    return
  fi
  # busybox has no usermod: only the supplementary groups can be changed.
  case ,$depc_change_names, in
    *,home,* | *,shell,* | *,uid,* | *,group,* | *,comment,*)
      depc_error="cannot change ${depc_change_text} of user $name on host $DEPC_HOST: there is no 'usermod' (busybox adduser cannot change a user)"
      return 1
      ;;
  esac
  depc_user_groups_fix "$name" "$groups"
}

# depc_user_has ATTR MANAGED: whether ATTR is in the comma list MANAGED.
depc_user_has() {
  case ,$2, in
    *,"$1",*) return 0 ;;
  esac
  return 1
}

# depc_user_tool WHAT: the tools to change users with, into depc_user_flavor:
# shadow (useradd, usermod) or busybox (adduser, addgroup, delgroup). Neither
# fails with one line naming the host and the tools.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_user_tool() {
  if command -v useradd >/dev/null 2>&1; then
    depc_user_flavor=shadow
  elif command -v adduser >/dev/null 2>&1 && command -v addgroup >/dev/null 2>&1; then
    depc_user_flavor=busybox
  else
    depc_error="cannot $1: host $DEPC_HOST has neither 'useradd' nor busybox 'adduser' (PATH=$PATH)"
    return 1
  fi
  return 0
}

# depc_user_compare NAME MANAGED HOME SHELL UID GROUP GROUPS COMMENT: records
# a change (depc_change) for each managed attribute of the user found by
# depc_user_lookup that differs: "shell /bin/sh -> /bin/bash".
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user_compare() {
  local cur want
  if depc_user_has home "$2" && [ "$depc_pw_home" != "$3" ]; then
    depc_change home "home $depc_pw_home -> $3"
  fi
  if depc_user_has shell "$2" && [ "$depc_pw_shell" != "$4" ]; then
    depc_change shell "shell ${depc_pw_shell:-(none)} -> $4"
  fi
  if depc_user_has uid "$2" && [ "$depc_pw_uid" != "$5" ]; then
    depc_change uid "uid $depc_pw_uid -> $5"
  fi
  if depc_user_has group "$2"; then
    want=$6
    depc_group_lookup "$depc_pw_gid"
    cur=$depc_pw_gid
    [ "$depc_gr_found" = 0 ] || cur=$depc_gr_name
    case $want in
      *[!0-9]*)
        depc_group_lookup "$want"
        if [ "$depc_gr_found" = 0 ] || [ "$depc_gr_gid" != "$depc_pw_gid" ]; then
          depc_change group "group $cur -> $want"
        fi
        ;;
      *) [ "$want" = "$depc_pw_gid" ] || depc_change group "group $cur -> $want" ;;
    esac
  fi
  if depc_user_has groups "$2"; then
    depc_user_groups_of "$1"
    if ! depc_user_same_set "$depc_user_groups" "$7"; then
      depc_change groups "groups ${depc_user_groups:-(none)} -> ${7:-(none)}"
    fi
  fi
  if depc_user_has comment "$2" && [ "$depc_pw_gecos" != "$8" ]; then
    depc_change comment comment
  fi
  return 0
}

# depc_user_same_set A B: whether the comma lists A and B hold the same names.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_user_same_set() {
  local x rest
  for rest in "$1" "$2"; do
    while [ -n "$rest" ]; do
      x=${rest%%,*}
      case $rest in *,*) rest=${rest#*,} ;; *) rest= ;; esac
      case ,$1, in *,"$x",*) ;; *) return 1 ;; esac
      case ,$2, in *,"$x",*) ;; *) return 1 ;; esac
    done
  done
  return 0
}

# depc_user_groups_of NAME: the groups that list NAME as a member, as a comma
# list in the order of the group database, into depc_user_groups.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user_groups_of() {
  local g x gid members
  depc_user_groups=
  while IFS=: read -r g x gid members; do
    case ,$members, in
      *,"$1",*) depc_user_groups=${depc_user_groups:+$depc_user_groups,}$g ;;
    esac
  done <"$depc_tmp/group"
}

# depc_user_groups_fix NAME GROUPS: busybox: make NAME a member of exactly the
# groups GROUPS (comma list) with addgroup NAME G / delgroup NAME G.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_user_groups_fix() {
  local x rest
  depc_user_groups_of "$1"
  rest=$2
  while [ -n "$rest" ]; do
    x=${rest%%,*}
    case $rest in *,*) rest=${rest#*,} ;; *) rest= ;; esac
    case ,$depc_user_groups, in
      *,"$x",*) ;;
      *) depc_try "cannot add user $1 to group $x" addgroup "$1" "$x" || return 1 ;;
    esac
  done
  rest=$depc_user_groups
  while [ -n "$rest" ]; do
    x=${rest%%,*}
    case $rest in *,*) rest=${rest#*,} ;; *) rest= ;; esac
    case ,$2, in
      *,"$x",*) ;;
      *) depc_try "cannot remove user $1 from group $x" delgroup "$1" "$x" || return 1 ;;
    esac
  done
  depc_pw_loaded=0
  return 0
}

# depc_principals_load: the host's users and groups into $depc_tmp/passwd and
# $depc_tmp/group (getent when present: it sees what the system sees; else
# /etc/passwd and /etc/group). Read once per run, and again after depc
# changed a user or group or an opaque resource invalidated the facts.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_principals_load() {
  local db
  if [ "${depc_pw_loaded:-0}" = 1 ] && [ "$depc_facts_valid" = 1 ]; then
    return 0
  fi
  for db in passwd group; do
    if ! { command -v getent >/dev/null 2>&1 && getent "$db" >"$depc_tmp/$db" 2>/dev/null; }; then
      if [ -f "/etc/$db" ]; then
        depc_try "cannot read /etc/$db" cat "/etc/$db" >"$depc_tmp/$db" || return 1
      else
        : >"$depc_tmp/$db"
      fi
    fi
  done
  depc_pw_loaded=1
  return 0
}

# depc_user_lookup NAME: NAME's passwd entry (loaded by depc_principals_load)
# into depc_pw_found (0/1), depc_pw_uid, depc_pw_gid, depc_pw_gecos,
# depc_pw_home, depc_pw_shell.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user_lookup() {
  local n x uid gid gecos home shl
  depc_pw_found=0
  while IFS=: read -r n x uid gid gecos home shl; do
    if [ "$n" = "$1" ]; then
      depc_pw_found=1 depc_pw_uid=$uid depc_pw_gid=$gid depc_pw_gecos=$gecos depc_pw_home=$home depc_pw_shell=$shl
      return 0
    fi
  done <"$depc_tmp/passwd"
  return 0
}

# depc_principal_record KIND NAME: note in STATE/principals that depc is about
# to create user or group NAME (written before it is created: a run killed
# in between leaves a note for a name that does not exist, which removal
# ignores).
depc_principal_record() {
  if ! { printf '%s %s\n' "$1" "$2" >>"$depc_state_dir/principals"; } 2>"$depc_tmp/err"; then
    depc_fail "cannot record $1 $2 in $depc_state_dir/principals" "$depc_tmp/err"
    return 1
  fi
  return 0
}

# depc_principal_created KIND NAME: whether STATE/principals says depc created it.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_principal_created() {
  local k n
  [ -f "$depc_state_dir/principals" ] || return 1
  while read -r k n; do
    [ "$k $n" != "$1 $2" ] || return 0
  done <"$depc_state_dir/principals"
  return 1
}

# depc_principal_forget KIND NAME: drop its lines from STATE/principals
# (awk into a temp file there, then rename).
depc_principal_forget() {
  [ -f "$depc_state_dir/principals" ] || return 0
  awk -v k="$1" -v n="$2" '$1 != k || $2 != n' "$depc_state_dir/principals" >"$depc_state_dir/principals.new" 2>"$depc_tmp/err" &&
    mv -f "$depc_state_dir/principals.new" "$depc_state_dir/principals" 2>>"$depc_tmp/err" && return 0
  rm -f "$depc_state_dir/principals.new"
  depc_fail "cannot rewrite $depc_state_dir/principals" "$depc_tmp/err"
}

# depc_user_remove NAME: userdel (busybox: deluser) when depc created the
# user (STATE/principals); its home and files stay, and so does its primary
# group when this bundle declares it as a Group. A user depc did not create
# is left.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_user_remove() {
  local keep gid
  depc_principals_load || return 1
  depc_user_lookup "$1"
  if [ "$depc_pw_found" = 0 ]; then
    [ "$depc_mode" != apply ] || depc_principal_forget user "$1"
    return
  fi
  if ! depc_principal_created user "$1"; then
    depc_left="it existed before depc managed it"
    return 0
  fi
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_pw_loaded=0
  # userdel and deluser also delete a primary group named like the user
  # (login.defs' USERGROUPS_ENAB); a Group this bundle declares is put back
  # with its gid (files keep their group).
  keep=
  depc_group_lookup "$depc_pw_gid"
  if [ "$depc_gr_found" = 1 ] && depc_declared group "$depc_gr_name"; then
    keep=$depc_gr_name gid=$depc_gr_gid
  fi
  if command -v userdel >/dev/null 2>&1; then
    depc_try "cannot remove user $1" userdel -- "$1" || return 1
  elif command -v deluser >/dev/null 2>&1; then
    depc_try "cannot remove user $1" deluser "$1" || return 1
  else
    depc_error="cannot remove user $1: host $DEPC_HOST has neither 'userdel' nor busybox 'deluser' (PATH=$PATH)"
    return 1
  fi
  depc_principal_forget user "$1" || return 1
  [ -n "$keep" ] || return 0
  depc_principals_load || return 1
  depc_group_lookup "$keep"
  [ "$depc_gr_found" = 0 ] || return 0
  depc_pw_loaded=0
  if command -v groupadd >/dev/null 2>&1; then
    depc_try "cannot restore group $keep (gid $gid) after removing user $1" groupadd -g "$gid" -- "$keep"
  else
    depc_try "cannot restore group $keep (gid $gid) after removing user $1" addgroup -g "$gid" "$keep"
  fi
}

# depc_declared KIND KEY: whether this bundle declares a resource KIND KEY
# (its ledger entries, read by depc_ledger_begin into the private temp dir).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_declared() {
  local kind key rest
  [ -f "$depc_tmp/ledger.decl" ] || return 1
  while IFS="$depc_tab" read -r kind key rest; do
    [ "$kind" != "$1" ] || [ "$key" != "$2" ] || return 0
  done <"$depc_tmp/ledger.decl"
  return 1
}
