# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: archives extracted into a directory, swapped in whole.

# depc_extract ARCHIVE TO FORMAT STRIP OWNER GROUP: TO is ARCHIVE's content
# (FORMAT tar, tar.gz, tar.xz, tar.bz2 or zip) less STRIP leading directory
# levels, owned by OWNER/GROUP ('' = as extracted, never the archive's ids).
# TO/.depc-extracted holds "depc-extract 1 SHA256 FORMAT STRIP OWNER GROUP"
# of the extraction it came from: when it matches, nothing is done. Else the
# archive is extracted into a fresh sibling (DIR/.depc.RUNID.XXXXXX, which
# a failed or killed run's cleanup removes), the marker written into it, and
# it replaces TO by two renames (the old tree is removed after). A non-empty
# TO without the marker is not depc's: it fails, nothing is removed.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_extract() {
  local archive to format strip owner group dir ident cur new tree old
  archive=$1 to=$2 format=$3 strip=$4 owner=$5 group=$6
  dir=${to%/*}
  [ -n "$dir" ] || dir=/
  if [ -L "$to" ] || { [ -e "$to" ] && [ ! -d "$to" ]; }; then
    depc_error="$to exists and is not a directory"
    return 1
  fi
  if [ ! -f "$archive" ]; then
    # In --check, an earlier Download of this run may not have fetched it yet.
    if [ "$depc_mode" = check ] && [ ! -e "$archive" ]; then
      depc_change extracted "extract $archive"
      return 0
    fi
    depc_error="archive $archive does not exist or is not a regular file"
    return 1
  fi
  depc_sha256_of "$archive" || return 1
  ident="depc-extract 1 $depc_digest $format $strip ${owner:--} ${group:--}"
  cur=
  if [ -f "$to/.depc-extracted" ]; then
    IFS= read -r cur <"$to/.depc-extracted" || :
    [ "$cur" != "$ident" ] || return 0
  elif [ -d "$to" ] && ! depc_extract_empty "$to"; then
    depc_error="$to is not empty and was not extracted by depc (no $to/.depc-extracted): move it away first"
    return 1
  fi
  if [ -n "$cur" ]; then
    depc_change extracted "extract $archive again (it changed)"
  else
    depc_change extracted "extract $archive"
  fi
  [ "$depc_mode" = apply ] || return 0
  if [ ! -d "$dir" ]; then
    depc_error="parent directory $dir does not exist"
    return 1
  fi
  case $format in
    zip) depc_extract_need unzip "$archive" || return 1 ;;
    *) depc_extract_need tar "$archive" || return 1 ;;
  esac
  # A fresh directory under an in-flight name (depc_mktemp makes a file).
  depc_mktemp "$dir" || return 1
  new=$depc_inflight
  rm -f "$new"
  if ! mkdir -m 755 "$new" 2>"$depc_tmp/err"; then
    depc_fail "cannot create a directory in $dir" "$depc_tmp/err"
    return 1
  fi
  case $format in
    zip) depc_try "cannot extract $archive with unzip" unzip -q -o "$archive" -d "$new" >/dev/null || return 1 ;;
    tar) depc_try "cannot extract $archive with tar" tar -x -o -f "$archive" -C "$new" || return 1 ;;
    tar.gz) depc_try "cannot extract $archive with tar" tar -x -o -z -f "$archive" -C "$new" || return 1 ;;
    tar.xz) depc_try "cannot extract $archive with tar" tar -x -o -J -f "$archive" -C "$new" || return 1 ;;
    tar.bz2) depc_try "cannot extract $archive with tar" tar -x -o -j -f "$archive" -C "$new" || return 1 ;;
  esac
  depc_extract_strip "$new" "$strip" "$archive" || return 1
  tree=$depc_ex_tree
  if ! { printf '%s\n' "$ident" >"$tree/.depc-extracted"; } 2>"$depc_tmp/err"; then
    depc_fail "cannot write $tree/.depc-extracted" "$depc_tmp/err"
    return 1
  fi
  if [ -n "$owner" ] && [ -n "$group" ]; then
    depc_try "cannot change owner of the files of $to to $owner:$group" chown -R "$owner:$group" "$tree" || return 1
  elif [ -n "$owner" ]; then
    depc_try "cannot change owner of the files of $to to $owner" chown -R "$owner" "$tree" || return 1
  elif [ -n "$group" ]; then
    depc_try "cannot change group of the files of $to to $group" chgrp -R "$group" "$tree" || return 1
  fi
  # The old tree goes under another in-flight name, the new one takes its
  # place; between the two renames TO is missing for a moment (a run killed
  # exactly then leaves no TO, and the next run extracts again).
  old=
  if [ -d "$to" ]; then
    old=$new.old
    depc_try "cannot move $to aside" mv "$to" "$old" || return 1
  fi
  if ! mv "$tree" "$to" 2>"$depc_tmp/err"; then
    [ -z "$old" ] || mv "$old" "$to" 2>/dev/null
    depc_fail "cannot rename $tree to $to" "$depc_tmp/err"
    return 1
  fi
  depc_invalidate_facts
  # What is left: the old tree, and the levels strip took the tree out of.
  [ -z "$old" ] || rm -rf "$old"
  [ "$tree" = "$new" ] || rm -rf "$new"
  depc_inflight=
  return 0
}

# depc_extract_need TOOL ARCHIVE: TOOL is on PATH, else fail with one line
# naming the host and the tool.
depc_extract_need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  depc_error="cannot extract $2: host $DEPC_HOST has no '$1' (PATH=$PATH)"
  return 1
}

# depc_extract_empty DIR: whether DIR has no entries.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_extract_empty() {
  local f
  set -- "$1"/* "$1"/.[!.]* "$1"/..?*
  for f in "$@"; do
    if [ -e "$f" ] || [ -L "$f" ]; then
      return 1
    fi
  done
  return 0
}

# depc_extract_strip DIR N ARCHIVE: the tree N directory levels down in DIR
# into depc_ex_tree (DIR itself for 0). Each level must hold exactly one
# entry, a directory, or it fails naming what it found.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_extract_strip() {
  local d n level one count f
  d=$1 n=$2 level=0
  while [ "$level" -lt "$n" ]; do
    level=$((level + 1))
    count=0 one=
    for f in "$d"/* "$d"/.[!.]* "$d"/..?*; do
      if [ -e "$f" ] || [ -L "$f" ]; then
        count=$((count + 1))
        one=$f
      fi
    done
    if [ "$count" != 1 ] || [ -L "$one" ] || [ ! -d "$one" ]; then
      depc_error="cannot strip $n leading directories from $3: level $level holds $count entries, not one directory"
      return 1
    fi
    d=$one
  done
  depc_ex_tree=$d
  return 0
}

# depc_extract_remove TO: the extracted tree is removed (ledger.sh) when it
# still carries depc's marker (TO/.depc-extracted); otherwise it is left.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_extract_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
    depc_left="it is no longer a directory"
    depc_left_warn=1
    return 0
  fi
  [ -d "$1" ] || return 0
  if [ ! -f "$1/.depc-extracted" ]; then
    depc_left="it has no .depc-extracted: not depc's tree"
    depc_left_warn=1
    return 0
  fi
  depc_remove_guard "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_try "cannot remove $1" rm -rf "$1"
}
