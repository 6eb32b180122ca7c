# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: staged writes of many files in a few processes (File's
# batches, Tree). Each file's content is written, with shell builtins, into
# the run's staging directory next to its target (DIR/.depc.RUNID.s, mode
# 0700), queued, and then committed for all: one sha256 pass, one chown and
# one chmod per distinct value, one `mv -f STAGED... DIR/` per directory,
# which renames each file over its own path (rename(2): atomic per file).
# The queue: depc_batch_n entries, entry K in depcb_i_K (an index), depcb_p_K
# (target path), depcb_s_K (staging dir), depcb_h_K (sha256), depcb_m_K
# (mode), depcb_o_K / depcb_g_K (owner / group, '' = unmanaged).

# depc_stage_dir DIR: create the run's staging directory in DIR,
# DIR/.depc.RUNID.s (mode 0700), once per run and DIR; its name goes into
# depc_stage. DIR is written to the private temp dir's inflight record
# before the directory is made, so a run killed at any point leaves a name
# the next run finds (depc_lock_clean_after). Returns 1 when it cannot.
depc_stage_dir() {
  depc_stage=${1%/}/.depc.$depc_run_id.s
  case $depc_stage_dirs in
    *"$depc_nl$depc_stage$depc_nl"*) return 0 ;;
  esac
  { printf '%s\n' "$1" >>"$depc_tmp/inflight"; } 2>/dev/null || return 1
  mkdir -m 700 "$depc_stage" 2>/dev/null || return 1
  depc_stage_dirs=$depc_stage_dirs$depc_stage$depc_nl
  return 0
}

# depc_stage_drop: remove the run's staging directories (and what is still
# in them) and empty the inflight record. One process for all.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_stage_drop() {
  local rest d
  [ "$depc_stage_dirs" != "$depc_nl" ] || return 0
  rest=${depc_stage_dirs#"$depc_nl"}
  set --
  while [ -n "$rest" ]; do
    d=${rest%%"$depc_nl"*}
    rest=${rest#"$d$depc_nl"}
    set -- "$@" "$d"
  done
  rm -rf "$@" 2>/dev/null
  depc_stage_dirs=$depc_nl
  : >"$depc_tmp/inflight" 2>/dev/null
  return 0
}

# depc_stage_queue INDEX PATH SHA256 MODE OWNER GROUP: queue the file
# staged as $depc_stage/NAME (NAME: PATH's last component) for
# depc_stage_commit.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_stage_queue() {
  local n
  n=$((depc_batch_n + 1))
  depc_batch_n=$n
  eval "depcb_i_$n=\$1 depcb_p_$n=\$2 depcb_s_$n=\$depc_stage depcb_h_$n=\$3 depcb_m_$n=\$4 depcb_o_$n=\$5 depcb_g_$n=\$6"
  return 0
}

# depc_stage_commit HOOK: complete the queued files: ONE sha256 pass over
# the staged files (per 256) proves each byte-exact, then one chown per
# distinct owner and group and one chmod per distinct mode give them their
# attributes, then HOOK K runs for each (a non-zero status ends the good run
# before K), then one `mv -f` per directory renames each over its path.
# Only the longest run of queued files from the first on that passed every
# step is completed: depc_stage_good is its length. The staging directories
# are removed last and the queue is emptied.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_stage_commit() {
  local n k good start end line sums keys stage hook
  hook=$1
  n=$depc_batch_n
  depc_batch_n=0
  depc_stage_good=0
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
  depc_stage_attrs owner
  depc_stage_attrs mode
  k=1
  while [ "$k" -le "$good" ]; do
    if ! "$hook" "$k"; then
      good=$((k - 1))
      break
    fi
    k=$((k + 1))
  done
  depc_stage_renames
  depc_stage_good=$good
  depc_stage_drop
  return 0
}

# depc_stage_value WHAT K: queued file K's owner:group (WHAT owner) or
# mode (WHAT mode) into depc_value.
# shellcheck disable=SC2034 # sets a global read by the caller
depc_stage_value() {
  depc_value=
  if [ "$1" = owner ]; then
    eval "depc_value=\$depcb_o_$2:\$depcb_g_$2"
  else
    eval "depc_value=\$depcb_m_$2"
  fi
}

# depc_stage_attrs WHAT: for each distinct owner:group (WHAT owner) or
# mode (WHAT mode) of the queued files 1..good, one chown/chgrp/chmod of
# the staged files that have it, per 256. A failure ends the good run
# before the first file of the failed call. Uses depc_stage_commit's `good`.
# shellcheck disable=SC3043,SC2154 # local is a deliberate extension; good is depc_stage_commit's
depc_stage_attrs() {
  local what keys key k first
  what=$1
  keys=$depc_nl
  k=1
  while [ "$k" -le "$good" ]; do
    depc_stage_value "$what" "$k"
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
      depc_stage_value "$what" "$k"
      if [ "$depc_value" = "$key" ]; then
        [ "$first" != 0 ] || first=$k
        eval "set -- \"\$@\" \"\$depcb_s_$k/\${depcb_p_$k##*/}\""
      fi
      k=$((k + 1))
      if [ $# -ge 256 ] || { [ "$k" -gt "$good" ] && [ $# -gt 0 ]; }; then
        if ! depc_stage_attr "$what" "$key" "$@"; then
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

# depc_stage_attr WHAT VALUE FILE...: one chown OWNER:GROUP, chown
# OWNER or chgrp GROUP (WHAT owner, VALUE "OWNER:GROUP") or chmod VALUE
# (WHAT mode) of FILEs.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_stage_attr() {
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

# depc_stage_renames: the queued files 1..good renamed over their paths,
# one `mv -f STAGED... DIR/` per run of consecutive files staged in one
# directory (per 256): rename(2) per file. When mv fails, the good run ends
# before that call's first file (some of its files may be in place: their
# next check finds them converged). Uses depc_stage_commit's `good`.
# shellcheck disable=SC3043,SC2154 # local is a deliberate extension; good is depc_stage_commit's
depc_stage_renames() {
  local k s stage first
  k=1
  first=1
  stage=
  set --
  while [ "$k" -le "$good" ]; do
    eval "s=\$depcb_s_$k"
    if [ $# -gt 0 ] && { [ "$s" != "$stage" ] || [ $# -ge 256 ]; }; then
      if ! mv -f "$@" "${stage%/*}/" 2>/dev/null; then
        good=$((first - 1))
        return 0
      fi
      set --
      first=$k
    fi
    stage=$s
    eval "set -- \"\$@\" \"\$s/\${depcb_p_$k##*/}\""
    k=$((k + 1))
  done
  if [ $# -gt 0 ] && ! mv -f "$@" "${stage%/*}/" 2>/dev/null; then
    good=$((first - 1))
  fi
  return 0
}
