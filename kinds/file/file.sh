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
# queued for depc_file_flush. Anything else (an existing path, a secret, a
# failure) is left to depc_file, which reports it exactly: returns 1, and
# the rest of the batch runs the normal way too (depc_batch_stage).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_file_stage() {
  local dir n
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
  n=$((depc_batch_n + 1))
  depc_batch_n=$n
  eval "depcb_i_$n=\$depc_index depcb_p_$n=\$1 depcb_s_$n=\$depc_stage depcb_h_$n=\$5 depcb_m_$n=\${2:-0644} depcb_o_$n=\$3 depcb_g_$n=\$4"
  return 0
}

# depc_file_flush: complete the files depc_file_stage queued, in a few
# processes for all: ONE sha256 pass over the staged files (per 256) proves
# each byte-exact, then one chown per distinct owner and group and one
# chmod per distinct mode give them their attributes, then their reactions
# are recorded as owed (depc_notifies, as depc_step would before a change),
# and one `mv -f STAGED... DIR/` per directory renames each over its path:
# rename(2) per file, so each appears whole and with its attributes. Only
# the longest run of queued files from the first on that passed every test
# is completed (depc_batch_done); from the first that did not on, each is
# left to depc_file, whose own write reports the exact cause, so a failure
# stops the run where it would have stopped without the batch. The staging
# directories are removed last.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_file_flush() {
  local n k good start end line sums keys stage
  n=$depc_batch_n
  depc_batch_n=0
  [ "$n" -gt 0 ] || return 0
  good=$n
  # Digests, per 256 files; a failed tool run ends the good run before its chunk.
  k=1
  while [ "$k" -le "$good" ]; do
    start=$k
    set --
    while [ "$k" -le "$good" ] && [ $# -lt 256 ]; do
      eval "set -- \"\$@\" \"\$depcb_s_$k/\${depcb_p_$k##*/}\""
      k=$((k + 1))
    done
    end=$((k - 1))
    # Read by a command substitution: `read` takes one byte per system call.
    if ! sums=$(depc_sha256_cmd "$@" 2>/dev/null); then
      good=$((start - 1))
      break
    fi
    k=$start
    while [ "$k" -le "$end" ] && [ -n "$sums" ]; do
      line=${sums%%"$depc_nl"*}
      sums=${sums#"$line"}
      sums=${sums#"$depc_nl"}
      line=${line#\\}
      eval "[ \"\${line%%[!0-9a-f]*}\" = \"\$depcb_h_$k\" ]" || break
      k=$((k + 1))
    done
    if [ "$k" -le "$end" ]; then
      good=$((k - 1))
      break
    fi
  done
  # Owner and group, then mode (chown clears set-id bits): one call per value.
  depc_file_flush_attrs owner
  depc_file_flush_attrs mode
  # Owed before the change, as depc_step records them.
  k=1
  while [ "$k" -le "$good" ]; do
    eval "depc_index=\$depcb_i_$k"
    if ! depc_notifies "$depc_index"; then
      good=$((k - 1))
      break
    fi
    k=$((k + 1))
  done
  # The renames, per staging directory.
  keys=$depc_stage_dirs
  while [ -n "${keys#"$depc_nl"}" ]; do
    keys=${keys#"$depc_nl"}
    stage=${keys%%"$depc_nl"*}
    keys=${keys#"$stage"}
    depc_file_flush_renames "$stage"
  done
  k=1
  while [ "$k" -le "$good" ]; do
    eval "depc_index=\$depcb_i_$k"
    eval "depcb_done_$depc_index=1"
    k=$((k + 1))
  done
  depc_stage_drop
  return 0
}

# depc_file_flush_value WHAT K: queued file K's owner:group (WHAT owner) or
# mode (WHAT mode) into depc_value.
# shellcheck disable=SC2034 # sets a global read by the caller
depc_file_flush_value() {
  depc_value=
  if [ "$1" = owner ]; then
    eval "depc_value=\$depcb_o_$2:\$depcb_g_$2"
  else
    eval "depc_value=\$depcb_m_$2"
  fi
}

# depc_file_flush_attrs WHAT: for each distinct owner:group (WHAT owner) or
# mode (WHAT mode) of the queued files 1..good, one chown/chgrp/chmod of
# the staged files that have it, per 256. A failure ends the good run
# before the first file of the failed call. Uses depc_file_flush's `good`.
# shellcheck disable=SC3043,SC2154 # local is a deliberate extension; good is depc_file_flush's
depc_file_flush_attrs() {
  local what keys key k first
  what=$1
  keys=$depc_nl
  k=1
  while [ "$k" -le "$good" ]; do
    depc_file_flush_value "$what" "$k"
    case $keys in
      *"$depc_nl$depc_value$depc_nl"*) ;;
      *) keys=$keys$depc_value$depc_nl ;;
    esac
    k=$((k + 1))
  done
  while [ -n "${keys#"$depc_nl"}" ]; do
    keys=${keys#"$depc_nl"}
    key=${keys%%"$depc_nl"*}
    keys=${keys#"$key"}
    [ "$key" != ':' ] || continue
    first=0
    k=1
    set --
    while [ "$k" -le "$good" ]; do
      depc_file_flush_value "$what" "$k"
      if [ "$depc_value" = "$key" ]; then
        [ "$first" != 0 ] || first=$k
        eval "set -- \"\$@\" \"\$depcb_s_$k/\${depcb_p_$k##*/}\""
      fi
      k=$((k + 1))
      if [ $# -ge 256 ] || { [ "$k" -gt "$good" ] && [ $# -gt 0 ]; }; then
        if ! depc_file_flush_attr "$what" "$key" "$@"; then
          good=$((first - 1))
          break
        fi
        first=0
        set --
      fi
    done
  done
  return 0
}

# depc_file_flush_attr WHAT VALUE FILE...: one chown OWNER:GROUP, chown
# OWNER or chgrp GROUP (WHAT owner, VALUE "OWNER:GROUP") or chmod VALUE
# (WHAT mode) of FILEs.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_file_flush_attr() {
  local what value
  what=$1
  value=$2
  shift 2
  if [ "$what" = mode ]; then
    chmod "$value" "$@" 2>/dev/null
  elif [ -z "${value#*:}" ]; then
    chown "${value%:}" "$@" 2>/dev/null
  elif [ -z "${value%:*}" ]; then
    chgrp "${value#:}" "$@" 2>/dev/null
  else
    chown "$value" "$@" 2>/dev/null
  fi
}

# depc_file_flush_renames STAGE: one `mv -f` (per 256) of the queued files
# 1..good staged in STAGE to its directory, each by rename(2) over its own
# path. When mv fails, the good run ends before that call's first file.
# shellcheck disable=SC3043,SC2154 # local is a deliberate extension; good is depc_file_flush's
depc_file_flush_renames() {
  local stage k s first
  stage=$1
  k=1
  first=0
  set --
  while [ "$k" -le "$good" ]; do
    eval "s=\$depcb_s_$k"
    if [ "$s" = "$stage" ]; then
      [ "$first" != 0 ] || first=$k
      eval "set -- \"\$@\" \"\$s/\${depcb_p_$k##*/}\""
    fi
    k=$((k + 1))
    if [ $# -ge 256 ] || { [ "$k" -gt "$good" ] && [ $# -gt 0 ]; }; then
      # Some of this call's files may be in place now: their steps find them converged.
      if ! mv -f "$@" "${stage%/*}/" 2>/dev/null; then
        good=$((first - 1))
        return 0
      fi
      first=0
      set --
    fi
  done
  return 0
}
