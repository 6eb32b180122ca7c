# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: regular files with exact content.

# depc_file PATH MODE OWNER GROUP SHA256 CONTENTFN [SALT]: PATH is a regular file
# whose bytes are CONTENTFN's output (digest SHA256), with MODE (4-digit
# octal; '' = unmanaged: a new file gets 0644, an existing file keeps its
# mode), OWNER and GROUP (name or id; '' = unmanaged: kept on rewrite when
# possible). Content is written to a temp file in PATH's directory, verified
# against SHA256, given its attributes and renamed over PATH (atomic).
# Attribute-only differences are fixed in place.
# With SALT the content is secret. --check shows no diff,
# only "Secret content changed (fingerprint OLD -> NEW)", 12 hex digits of
# sha256(SALT || content); no message shows its sha256; the temp file gets
# its owner, group and mode while still empty, before the content is written.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_file() {
  local p mode owner group sha fn salt dir new
  p=$1 mode=$2 owner=$3 group=$4 sha=$5 fn=$6 salt=${7:-}
  # Written by its batch's flush (depc_file_flush): only the report is left.
  if depc_batch_done "$depc_index"; then
    depc_change created created
    return 0
  fi
  dir=${p%/*}
  [ -n "$dir" ] || dir=/
  if [ -L "$p" ]; then
    depc_error="$p exists and is a symbolic link"
    return 1
  elif [ -d "$p" ]; then
    depc_error="$p exists and is a directory"
    return 1
  elif [ -e "$p" ] && [ ! -f "$p" ]; then
    depc_error="$p exists and is not a regular file"
    return 1
  fi
  if [ -f "$p" ]; then
    new=0
    depc_stat "$p" || return 1
    depc_sha256_of "$p" || return 1
    if [ "$depc_digest" != "$sha" ]; then
      depc_change content content
    fi
    depc_attrs_compare "$mode" "$owner" "$group" 1
    [ -n "$depc_change_names" ] || return 0
  else
    new=1
    depc_change created created
    if [ ! -d "$dir" ] && [ "$depc_mode" = apply ]; then
      depc_error="parent directory $dir does not exist"
      return 1
    fi
  fi
  if [ "$depc_mode" = check ]; then
    if [ "$new" = 1 ] || [ "$depc_digest" != "$sha" ]; then
      depc_file_check_content "$p" "$sha" "$fn" "$new" "$salt" || return 1
    fi
    return 0
  fi
  if [ "$new" = 1 ] || [ "$depc_digest" != "$sha" ]; then
    depc_file_write "$p" "$dir" "$mode" "$owner" "$group" "$sha" "$fn" "$new" "$salt"
    return
  fi
  depc_attrs_apply "$p" "$mode" "$owner" "$group"
}

# depc_file_check_content PATH SHA256 CONTENTFN NEW [SALT]: --check only.
# Writes CONTENTFN's output into the private temp dir, verifies its digest and
# prepares the unified diff against PATH (or /dev/null when NEW is 1) for
# depc_step to print. The old digest is in depc_digest when NEW is 0. With
# SALT (secret content) the "diff" is one line of salted fingerprints.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_file_check_content() {
  local old olddigest
  depc_write_content "$3" "$depc_tmp/new" "$1" || return 1
  if [ "$4" = 1 ]; then
    old=/dev/null
    olddigest='(none)'
  else
    old=$1
    olddigest=$depc_digest
  fi
  depc_sha256_of "$depc_tmp/new" || return 1
  if [ "$depc_digest" != "$2" ]; then
    depc_write_cause "$depc_tmp/new"
    if [ -n "$depc_cause" ]; then
      depc_error="cannot write the content of $1 to $depc_tmp/new: $depc_cause"
    elif [ -n "${5:-}" ]; then
      depc_error="secret content of $1 does not match its digest: the bundle is corrupt"
    else
      depc_error="content of $1 does not match its sha256 (expected $2, got $depc_digest): the bundle is corrupt"
    fi
    return 1
  fi
  if [ -n "${5:-}" ]; then
    depc_secret_diff "$old" "$depc_tmp/new" "$5"
    return
  fi
  depc_diff "$old" "$depc_tmp/new" "$1" "$olddigest" "$2"
}

# depc_secret_diff OLD NEW SALT: the --check "diff" of secret content, into
# $depc_tmp/diff: "Secret content changed (fingerprint OLD -> NEW)", OLD being
# "(none)" for a new file. A fingerprint is the first 12 hex digits of
# sha256(SALT || content); SALT is secret (only in the bundle), so a
# fingerprint in a log does not allow guessing a short secret offline.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_secret_diff() {
  local before
  before='(none)'
  if [ "$1" != /dev/null ]; then
    depc_secret_fingerprint "$1" "$3" || return 1
    before=$depc_fingerprint
  fi
  depc_secret_fingerprint "$2" "$3" || return 1
  printf 'Secret content changed (fingerprint %s -> %s)\n' "$before" "$depc_fingerprint" >"$depc_tmp/diff"
  depc_has_diff=1
  return 0
}

# depc_secret_fingerprint FILE SALT: depc_fingerprint = the first 12 hex
# digits of sha256(SALT || FILE's bytes).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_secret_fingerprint() {
  local out
  if ! out=$({ printf '%s' "$2" && cat "$1"; } | depc_sha256_cmd 2>"$depc_tmp/err"); then
    depc_fail "cannot compute the fingerprint of $1" "$depc_tmp/err"
    return 1
  fi
  out=${out#\\}
  depc_fingerprint=${out%"${out#????????????}"}
  case $depc_fingerprint in
    *[!0-9a-f]* | '')
      depc_error="cannot compute the fingerprint of $1: unexpected output from $depc_sha_tool"
      return 1
      ;;
  esac
  return 0
}

# depc_file_write PATH DIR MODE OWNER GROUP SHA256 CONTENTFN NEW [SALT]:
# apply the content: mktemp in DIR, write, verify the digest (proves
# byte-exact transport), chown/chgrp/chmod the temp file, then mv -f over
# PATH. With SALT (secret content) the empty temp file (0600 from mktemp)
# gets its owner, group and mode first and the content is written after,
# so no other user can ever read it. The temp file is tracked in
# depc_inflight so failures and signals remove it. When NEW is 0, unmanaged
# attributes are copied from the last depc_stat.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_file_write() {
  local tmp mode owner group
  mode=$3 owner=$4 group=$5
  if [ "$8" = 1 ]; then
    [ -n "$mode" ] || mode=0644
  else
    [ -n "$mode" ] || mode=$depc_st_mode
    [ -n "$owner" ] || owner=$depc_st_uid
    [ -n "$group" ] || group=$depc_st_gid
  fi
  depc_mktemp "$2" || return 1
  tmp=$depc_inflight
  if [ -n "${9:-}" ]; then
    depc_file_attrs "$tmp" "$mode" "$owner" "$group" || return 1
  fi
  depc_write_content "$7" "$tmp" "$1" || return 1
  depc_sha256_of "$tmp" || return 1
  if [ "$depc_digest" != "$6" ]; then
    # Short content because the disk filled up is not a corrupt bundle.
    depc_write_cause "$tmp"
    if [ -n "$depc_cause" ]; then
      depc_error="cannot write the content of $1 to $tmp: $depc_cause"
    elif [ -n "${9:-}" ]; then
      depc_error="secret content written for $1 does not match its digest: the bundle is corrupt"
    else
      depc_error="content written for $1 does not match its sha256 (expected $6, got $depc_digest): the bundle is corrupt"
    fi
    return 1
  fi
  if [ -z "${9:-}" ]; then
    depc_file_attrs "$tmp" "$mode" "$owner" "$group" || return 1
  fi
  depc_try "cannot rename $tmp to $1" mv -f "$tmp" "$1" || return 1
  depc_inflight=
  return 0
}

# depc_write_content CONTENTFN OUT PATH: CONTENTFN's output (PATH's content)
# into the file OUT, in this shell (no process is left behind by a kill).
# A failed write is reported once, with its cause (depc_write_cause): the
# shells' printf say only "I/O error", once per call, or nothing, and their
# messages could not go to the temp dir if its disk is the full one.
# Returns 1 with depc_error set.
depc_write_content() {
  if "$1" 2>/dev/null >"$2"; then
    return 0
  fi
  depc_write_cause "$2"
  depc_error="cannot write the content of $3 to $2${depc_cause:+: $depc_cause}"
  return 1
}

# depc_write_cause FILE: why FILE cannot be written, into depc_cause: an
# append of 8 KiB (more than a partly filled page can take) by cat, which
# names the cause ("no space left on device", "disk quota exceeded", else
# cat's first line; '' when it could write). Used after a write failed
# (FILE is then dropped) or read back wrong.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_write_cause() {
  local pad n
  pad=0123456789abcdef
  n=0
  while [ "$n" -lt 9 ]; do
    pad=$pad$pad
    n=$((n + 1))
  done
  depc_cause=$(printf '%s\n' "$pad" 2>/dev/null | cat 2>&1 >>"$1")
  case $depc_cause in
    *'No space left on device'* | *ENOSPC*) depc_cause='no space left on device' ;;
    *'Disk quota exceeded'* | *EDQUOT*) depc_cause='disk quota exceeded' ;;
    *) depc_cause=${depc_cause%%"$depc_nl"*} ;;
  esac
}

# depc_file_attrs TMP MODE OWNER GROUP: owner and group (when given), then
# the mode (chown clears set-id bits) of a temp file.
depc_file_attrs() {
  if [ -n "$3" ] && [ -n "$4" ]; then
    depc_try "cannot change owner and group of $1 to $3:$4" chown "$3:$4" "$1" || return 1
  elif [ -n "$3" ]; then
    depc_try "cannot change owner of $1 to $3" chown "$3" "$1" || return 1
  elif [ -n "$4" ]; then
    depc_try "cannot change group of $1 to $4" chgrp "$4" "$1" || return 1
  fi
  depc_try "cannot change mode of $1 to $2" chmod "$2" "$1" || return 1
}

# depc_text_nonl: content helper for text without a final newline. Copies
# stdin to stdout minus exactly one final newline (the heredoc's), byte-exact
# for the text the compiler routes here (no NUL, no CR).
depc_text_nonl() {
  awk 'NR > 1 { printf "\n" } { printf "%s", $0 }'
}

# depc_file_remove PATH SECRET: removed (ledger.sh) if still a regular file;
# --check diffs the content going away (SECRET=1: one line, no content).
# shellcheck disable=SC2034 # sets globals read by other functions
depc_file_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -f "$1" ]; }; then
    depc_left="it is no longer a regular file"
    depc_left_warn=1
    return 0
  fi
  [ -f "$1" ] || return 0
  depc_remove_guard "$1" || return 0
  depc_change removed ''
  if [ "$depc_mode" = check ]; then
    if [ "$2" = 1 ]; then
      printf 'Secret content removed\n' >"$depc_tmp/diff"
      depc_has_diff=1
      return 0
    fi
    depc_sha256_of "$1" || return 1
    depc_diff "$1" /dev/null "$1" "$depc_digest" '(none)'
    return 0
  fi
  depc_try "cannot remove $1" rm -f "$1"
}

# depc_file_stage PATH MODE OWNER GROUP SHA256 CONTENTFN [SALT]: the staging
# pass of a batch of files (depc_batch_stage) in apply mode: a new,
# non-secret file whose directory exists gets its content written, by
# CONTENTFN, into the run's staging directory next to it
# (DIR/.depc.RUNID.s/NAME, mode 0700: nobody else can read it there) and is
# queued (depc_stage_queue) for depc_file_flush. Anything else (an existing
# path, a secret, a failure) is left to depc_file, which reports it exactly:
# returns 1, and the rest of the batch runs the normal way too
# (depc_batch_stage).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_file_stage() {
  local dir
  # Secret: its mode before its content, the normal way.
  [ -z "${7:-}" ] || return 1
  [ "$depc_mode" = apply ] || return 0
  if [ -e "$1" ] || [ -L "$1" ]; then
    return 1
  fi
  dir=${1%/*}
  [ -n "$dir" ] || dir=/
  [ -d "$dir" ] || return 1
  depc_stage_dir "$dir" || return 1
  if ! "$6" 2>/dev/null >"$depc_stage/${1##*/}"; then
    return 1
  fi
  depc_stage_queue "$depc_index" "$1" "$5" "${2:-0644}" "$3" "$4"
}

# depc_file_flush: complete the files depc_file_stage queued
# (depc_stage_commit), recording each one's reactions as owed before its
# rename (as depc_step does before a change); depc_file then only reports
# "created" for each completed one (depc_batch_done). One that was not
# completed, and every later one, runs the normal way: a failure stops the
# run where it would have stopped without the batch.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_file_flush() {
  local k
  depc_stage_commit depc_file_flush_owe
  k=1
  while [ "$k" -le "$depc_stage_good" ]; do
    eval "depc_index=\$depcb_i_$k"
    eval "depcb_done_$depc_index=1"
    k=$((k + 1))
  done
  return 0
}

# depc_file_flush_owe K: the reactions queued file K owes, recorded before
# its rename (depc_notifies).
depc_file_flush_owe() {
  eval "depc_index=\$depcb_i_$1"
  depc_notifies "$depc_index"
}
