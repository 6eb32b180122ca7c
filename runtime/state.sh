# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: the host's state directory: the lock against concurrent
# runs, the kept bundles, the run log (and the owed reactions, notify.sh).
# Layout (runtime/README.md, "The state directory"):
#   lock            symlink; its target describes the holder
#   lock.break      symlink; held for a moment while a stale lock is taken over
#   bundles/HEX.sh  the last applied bundles (mode 0600), bundles/.order
#   runs.log        one line per run
#   owed            owed reactions

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

# depc_proc_start PID: the start time of process PID (field 22 of
# /proc/PID/stat, clock ticks since boot) into depc_pstart and its state
# (field 3: R, S, Z, ...) into depc_pstate; '' (return 1)
# where there is no /proc or the process is gone. The comm field may hold
# spaces and parentheses: fields are counted after its last ") ".
# shellcheck disable=SC3043,SC2034,SC2086 # local is a deliberate extension; sets globals; word splitting intended
depc_proc_start() {
  local line
  depc_pstart=
  [ -r "/proc/$1/stat" ] || return 1
  line=
  IFS= read -r line <"/proc/$1/stat" 2>/dev/null
  line=${line##*) }
  set -f
  set -- $line
  set +f
  [ $# -ge 20 ] || return 1
  depc_pstate=$1
  shift 19
  depc_pstart=$1
  return 0
}

# depc_lock_field INFO NAME: the value of NAME=... in a lock's INFO into
# depc_field ('' when absent). `tmp=` is last and runs to the end (a path
# may hold spaces); the others are single words. (Named locals: posh
# mis-expands ${1#*"$2"}.)
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_lock_field() {
  local info name rest
  info=" $1"
  name=$2
  depc_field=
  case $info in
    *" $name="*) rest=${info#*" $name="} ;;
    *) return 1 ;;
  esac
  case $name in
    tmp) depc_field=$rest ;;
    *) depc_field=${rest%% *} ;;
  esac
  return 0
}

# depc_lock_alive INFO: whether the run described by a lock's INFO is still
# running. `kill -0` decides (a failure other than "No such process" is a
# process of another user: alive); where /proc exists, a recorded start time
# that differs from the process's own means the pid was reused: gone.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_lock_alive() {
  local pid start
  depc_lock_field "$1" pid
  pid=$depc_field
  case $pid in
    '' | *[!0-9]*) return 1 ;;
  esac
  # Our own pid in a lock we do not hold yet: the pid was reused.
  [ "$pid" != "$$" ] || return 1
  if ! kill -0 "$pid" 2>"$depc_tmp/err"; then
    case $(cat "$depc_tmp/err" 2>/dev/null) in
      *[Nn]'o such process'* | *ESRCH*) return 1 ;;
      *[Nn]'ot permitted'* | *EPERM*) ;;
      *) return 1 ;;
    esac
  fi
  depc_proc_start "$pid" || return 0
  # A zombie has exited (kill -0 still succeeds until its parent reaps it,
  # which a busy parent or a slow pid 1 may not do soon): its lock is stale.
  [ "$depc_pstate" != Z ] || return 1
  depc_lock_field "$1" start
  start=$depc_field
  case $start in
    '' | -) return 0 ;;
  esac
  [ "$depc_pstart" = "$start" ]
}

# depc_lock_holder INFO: "pid N, started TIME, user U (MODE)" for messages.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_lock_holder() {
  local pid since user mode
  depc_lock_field "$1" pid
  pid=${depc_field:-?}
  depc_lock_field "$1" since
  since=${depc_field:-?}
  depc_lock_field "$1" user
  user=${depc_field:-?}
  depc_lock_field "$1" mode
  mode=${depc_field:-?}
  depc_holder="pid $pid, started $since, user $user ($mode)"
}

# depc_lock_clean_after INFO: remove what a killed run left behind: the
# in-flight temp files in the directories its private temp dir's inflight
# record names, one a line (DIR/.depc.RUNID.*: a temp file, or a batch's
# staging directory DIR/.depc.RUNID.s; RUNID from the temp dir's name depc.RUNID;
# a record of an older runtime holds one `.depc.*` file name) and that temp
# dir (only a `depc.*` dir holding the run's step log; with a second
# argument 1 also one without: depc_tmp_sweep, whose names are stricter).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_lock_clean_after() {
  local dir name id f
  depc_lock_field "$1" tmp || return 0
  dir=$depc_field
  case ${dir##*/} in
    depc.*) ;;
    *) return 0 ;;
  esac
  [ "$dir" != "$depc_tmp" ] || return 0
  [ -d "$dir" ] || return 0
  [ -f "$dir/log" ] || [ "${2:-0}" = 1 ] || return 0
  if [ -f "$dir/inflight" ]; then
    id=${dir##*/depc.}
    # One directory a line: a batch stages in several (its .depc.RUNID.s).
    while IFS= read -r name || [ -n "$name" ]; do
      [ -n "$name" ] || continue
      case ${name##*/} in
        .depc.*) rm -rf "$name" 2>/dev/null ;;
        *)
          case $id in
            *[!0-9A-Za-z.]* | '') ;;
            *)
              for f in "$name"/.depc."$id".*; do
                if [ -e "$f" ] || [ -L "$f" ]; then
                  rm -rf "$f" 2>/dev/null
                fi
              done
              ;;
          esac
          ;;
      esac
    done <"$dir/inflight" 2>/dev/null
  fi
  rm -rf "$dir" 2>/dev/null
  return 0
}

# depc_lock_acquire: take the run's lock, $depc_state_dir/lock: a symlink
# whose target is the holder's description ("pid=N start=TICKS user=U
# since=TIME mode=M tmp=DIR"), created with `ln -s`, which is atomic and
# fails when the name exists, so the lock and its description appear
# together. A lock whose holder is gone (depc_lock_alive) is taken over with
# a warning, under a second lock ($depc_state_dir/lock.break) so that two
# runs never both take over one stale lock. --check takes the lock too (it
# must not read a half-applied host), but only when the state directory
# exists, and runs without it (with a warning) when it cannot write there.
# Returns 0 (depc_lock_held=1 when taken), 3 when another run holds it
# (message printed), 1 on an error (message printed).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_lock_acquire() {
  local lock brk user info info2 holder tries
  depc_lock_held=0
  depc_run_since=$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null) || depc_run_since=-
  [ -n "$depc_run_since" ] || depc_run_since=-
  if [ ! -d "$depc_state_dir" ]; then
    [ "$depc_mode" = check ] && return 0
    depc_err "the state directory $depc_state_dir does not exist"
    return 1
  fi
  lock=$depc_state_dir/lock
  brk=$depc_state_dir/lock.break
  user=${USER:-${LOGNAME:-}}
  if [ -z "$user" ]; then
    user=$(id -un 2>/dev/null) || user=
  fi
  case $user in
    '' | *[!A-Za-z0-9._@-]*) user=uid$(id -u 2>/dev/null) ;;
  esac
  depc_proc_start $$ || depc_pstart=-
  depc_lock_me="pid=$$ start=$depc_pstart user=$user since=$depc_run_since mode=$depc_mode tmp=$depc_tmp"
  depc_run_user=$user
  tries=0
  while [ "$tries" -lt 5 ]; do
    tries=$((tries + 1))
    if ln -s "$depc_lock_me" "$lock" 2>"$depc_tmp/err"; then
      depc_lock_held=1
      depc_lock_path=$lock
      return 0
    fi
    if [ ! -L "$lock" ]; then
      if [ -e "$lock" ]; then
        depc_err "$lock exists and is not a depc lock (a symbolic link); remove it if no depc run is active"
        return 1
      fi
      if [ "$depc_mode" = check ]; then
        depc_fail "cannot create the lock $lock" "$depc_tmp/err"
        depc_warn "$depc_error; checking without the lock"
        return 0
      fi
      depc_fail "cannot create the lock $lock" "$depc_tmp/err"
      depc_err "$depc_error"
      return 1
    fi
    if ! info=$(readlink "$lock" 2>/dev/null); then
      continue
    fi
    depc_lock_holder "$info"
    holder=$depc_holder
    if depc_lock_alive "$info"; then
      depc_err "another run holds the lock $lock: $holder"
      return 3
    fi
    # The holder is gone: take its lock over, one taker at a time.
    if ln -s "$depc_lock_me" "$brk" 2>/dev/null; then
      if info2=$(readlink "$lock" 2>/dev/null) && [ "$info2" = "$info" ]; then
        # Cleaned while the lock still names the dead run: a taker killed
        # right after this leaves the same stale lock to the next run.
        depc_lock_clean_after "$info"
        rm -f "$lock"
        if ln -s "$depc_lock_me" "$lock" 2>"$depc_tmp/err"; then
          rm -f "$brk"
          depc_lock_held=1
          depc_lock_path=$lock
          depc_warn "took over a stale lock: the run that held it ($holder) is gone"
          return 0
        fi
      fi
      rm -f "$brk"
      continue
    fi
    # Another run is taking over; or one that died doing so left lock.break.
    if info=$(readlink "$brk" 2>/dev/null) && ! depc_lock_alive "$info"; then
      rm -f "$brk"
      continue
    fi
    depc_err "another run holds the lock $lock: $holder, being taken over by another run"
    return 3
  done
  depc_err "cannot take the lock $lock: it keeps changing hands"
  return 3
}

# depc_lock_release: remove the lock if this run holds it and it is still
# this run's (not taken over by a run that judged this one gone). Idempotent.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_lock_release() {
  local info
  [ "${depc_lock_held:-0}" = 1 ] || return 0
  depc_lock_held=0
  if info=$(readlink "$depc_lock_path" 2>/dev/null) && [ "$info" = "$depc_lock_me" ]; then
    rm -f "$depc_lock_path"
  fi
  return 0
}

# depc_keep_bundle: apply mode, under the lock: keep a copy of the running
# bundle ($0) as $depc_state_dir/bundles/<sha256 hex>.sh (mode 0600; temp
# file, then rename, which also makes a reused bundle the newest by
# modification time) and keep the last depc_keep of them by recency of use.
# The order, most recent last, is in bundles/.order. When the bundle is
# already the last one kept, nothing is written (its file keeps its time).
# Sets depc_bundle_digest. A bundle that is not a readable file
# (`sh < b.sh`) or a copy that fails gives a warning: the run goes on.
# shellcheck disable=SC3043,SC2034,SC2086 # local is a deliberate extension; sets globals read by other functions; hex words split on purpose
depc_keep_bundle() {
  local dir hex line order n kept f
  dir=$depc_state_dir/bundles
  if ! depc_is_bundle_file "$0"; then
    depc_warn "not keeping a copy of this bundle: \$0 ('$0') is not a readable bundle file (run it as 'sh FILE')"
    return 0
  fi
  if [ ! -d "$dir" ] && ! mkdir -m 700 "$dir" 2>"$depc_tmp/err"; then
    depc_fail "cannot create $dir" "$depc_tmp/err"
    depc_warn "not keeping a copy of this bundle: $depc_error"
    return 0
  fi
  # Temp files of runs that were killed (this run holds the lock).
  for f in "$dir"/.depc.*; do
    [ ! -f "$f" ] || rm -f "$f"
  done
  # The common case, the bundle applied last running again: nothing to do.
  if depc_sha256_of "$0" && [ -f "$dir/$depc_digest.sh" ] && [ -f "$dir/.order" ]; then
    n=0
    line=
    while IFS= read -r f || [ -n "$f" ]; do
      n=$((n + 1))
      line=$f
    done <"$dir/.order"
    if [ "$line" = "$depc_digest" ] && [ "$n" -le "$depc_keep" ]; then
      depc_bundle_digest=$depc_digest
      return 0
    fi
  fi
  if ! depc_mktemp "$dir" ||
    ! depc_try "cannot copy $0" cat "$0" >"$depc_inflight" ||
    ! depc_sha256_of "$depc_inflight"; then
    depc_drop_inflight
    depc_warn "not keeping a copy of this bundle: $depc_error"
    return 0
  fi
  hex=$depc_digest
  if ! depc_try "cannot keep the bundle as $dir/$hex.sh" mv -f "$depc_inflight" "$dir/$hex.sh"; then
    depc_drop_inflight
    depc_warn "$depc_error"
    return 0
  fi
  depc_inflight=
  depc_bundle_digest=$hex
  # The new order: the kept digests but this one, oldest first, then this one.
  order=
  if [ -f "$dir/.order" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
        "$hex" | '' | *[!0-9a-f]*) ;;
        *) [ -f "$dir/$line.sh" ] && order=$order$line$depc_nl ;;
      esac
    done <"$dir/.order"
  fi
  order=$order$hex$depc_nl
  n=0
  kept=$depc_nl
  # Walk newest first (reverse the list), keeping depc_keep entries.
  f=
  for line in $order; do
    f="$line $f"
  done
  order=
  for line in $f; do
    if [ "$n" -lt "$depc_keep" ]; then
      n=$((n + 1))
      kept=$kept$line$depc_nl
      order=$line$depc_nl$order
    fi
  done
  for f in "$dir"/*.sh; do
    [ -f "$f" ] || continue
    line=${f##*/}
    case $kept in
      *"$depc_nl${line%.sh}$depc_nl"*) ;;
      *) rm -f "$f" ;;
    esac
  done
  if ! printf '%s' "$order" 2>"$depc_tmp/err" >"$dir/.order.new" ||
    ! mv -f "$dir/.order.new" "$dir/.order" 2>>"$depc_tmp/err"; then
    depc_fail "cannot update $dir/.order" "$depc_tmp/err"
    depc_warn "$depc_error"
  fi
  return 0
}

# depc_is_bundle_file FILE: whether FILE is a readable regular file that
# starts like a bundle: "#!/bin/sh", then comment lines (and the
# incomplete-bundle guard, `{ trap ... EXIT; }`), one of the first ten of
# them "# depc bundle for host ...". ($0 is the shell itself when the bundle
# came on stdin: `sh < b.sh`.)
# shellcheck disable=SC3043 # local is a deliberate extension
depc_is_bundle_file() {
  local line n
  [ -f "$1" ] && [ -r "$1" ] || return 1
  n=0
  {
    IFS= read -r line || return 1
    [ "$line" = '#!/bin/sh' ] || return 1
    while [ "$n" -lt 10 ] && IFS= read -r line; do
      n=$((n + 1))
      case $line in
        '# depc bundle for host '*) return 0 ;;
        '#'* | "{ trap '"*"' EXIT; }") ;;
        *) return 1 ;;
      esac
    done
    return 1
  } <"$1" 2>/dev/null
}

# depc_bundle_digest_of_self: check mode: the sha256 of the running bundle
# ($0) into depc_bundle_digest, '-' when $0 is not a readable file.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_bundle_digest_of_self() {
  depc_bundle_digest=-
  if depc_is_bundle_file "$0" && depc_sha256_of "$0"; then
    depc_bundle_digest=$depc_digest
  fi
  return 0
}

# depc_log_run RESULT NOT_RUN: under the lock, append the run's line to
# $depc_state_dir/runs.log (space-separated; the fields are single words):
#   TIME DIGEST MODE RESULT ok=N changed=N failed=N not_run=N env=ENV host=HOST user=USER
# TIME is the run's start (UTC), DIGEST the sha256 hex of the bundle ('-'
# when unknown), MODE apply or check, RESULT converged / failed /
# interrupted (apply) or clean / pending / failed / interrupted (check);
# in check lines changed= counts the resources that would change. Beyond
# 1100 lines the log is cut to its last 1000 (temp file, then rename).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_log_run() {
  local log changed
  [ "${depc_lock_held:-0}" = 1 ] || return 0
  log=$depc_state_dir/runs.log
  changed=$depc_n_changed
  [ "$depc_mode" = apply ] || changed=$depc_n_would
  if ! printf '%s %s %s %s ok=%s changed=%s failed=%s not_run=%s env=%s host=%s user=%s\n' \
    "$depc_run_since" "${depc_bundle_digest:--}" "$depc_mode" "$1" \
    "$depc_n_ok" "$changed" "$depc_n_failed" "$2" "$DEPC_ENV" "$DEPC_HOST" "${depc_run_user:--}" \
    2>/dev/null >>"$log"; then
    depc_warn "cannot append to $log"
    return 0
  fi
  if awk -v max=1000 -v out="$log.new" '
    { line[NR % max] = $0 }
    END {
      if (NR <= max + 100) exit 1
      for (i = NR - max + 1; i <= NR; i++) print line[i % max] > out
      exit 0
    }' "$log" 2>/dev/null; then
    mv -f "$log.new" "$log" 2>/dev/null || rm -f "$log.new"
  fi
  return 0
}
