# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: supervisord and its programs. Every supervisorctl call gets
# `-c CONF` (never a supervisord.conf found in the working directory).
# supervisorctl exit codes (supervisor 4): `pid` 0 when supervisord answers;
# `status NAME` 0 RUNNING, 3 not running, 4 unknown or unreachable, so the
# state is read from its output, not from its status.

# depc_supervisor_system CTL CONF: the system's supervisord must answer on
# the socket of CONF (it is the distribution's service; depc does not start
# it). Changes nothing, in both modes.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_system() {
  local ctl conf
  ctl=$1 conf=$2
  depc_supervisor_need "$ctl" || return 1
  if "$ctl" -c "$conf" pid </dev/null >"$depc_tmp/err" 2>&1; then
    return 0
  fi
  depc_fail "the system supervisord is not running or not reachable (supervisorctl -c $conf pid); start it with the host's service manager" "$depc_tmp/err"
}

# depc_supervisor_user BASE SUPERVISORD CTL SHA256 CONTENTFN: a supervisord
# of the deployment's own under BASE, run as the user applying the bundle:
# BASE, BASE/conf.d and BASE/logs exist, BASE/supervisord.conf is
# CONTENTFN's output (written like a File, mode 0600, diffed in --check),
# and supervisord is running; a running one whose config changed is
# reloaded (which restarts its programs).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_supervisor_user() {
  local base supd ctl sha fn conf d missing
  base=$1 supd=$2 ctl=$3 sha=$4 fn=$5
  conf=$base/supervisord.conf
  depc_supervisor_need "$ctl" || return 1
  missing=0
  for d in "$base" "$base/conf.d" "$base/logs"; do
    [ -d "$d" ] && continue
    missing=1
    if [ "$depc_mode" = apply ]; then
      depc_try "cannot create $d" mkdir -p "$d" || return 1
    fi
  done
  [ "$missing" = 0 ] || depc_change directories "created $base"
  depc_supervisor_conf "$conf" "$sha" "$fn" || return 1
  if depc_supervisor_answers "$ctl" "$conf"; then
    [ "$depc_sv_conf_changed" = 1 ] || return 0
    depc_change reload "supervisord reloaded"
    [ "$depc_mode" = apply ] || return 0
    depc_invalidate_facts
    depc_supervisor_ctl "cannot reload supervisord" "$ctl" "$conf" reload || return 1
    depc_supervisor_await "$ctl" "$conf"
    return
  fi
  depc_supervisor_need "$supd" || return 1
  depc_change start "supervisord started"
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  # No descriptor of this run may stay open in the daemon (fd 9 is the
  # run's stderr): a caller waiting for the run's output would hang.
  if ! "$supd" -c "$conf" </dev/null >"$depc_tmp/err" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; then
    depc_fail "cannot start supervisord ($supd -c $conf)" "$depc_tmp/err"
    return 1
  fi
  depc_supervisor_await "$ctl" "$conf"
}

# depc_supervisor_conf PATH SHA256 CONTENTFN: PATH is written like a File
# (mode 0600, owner kept; a diff in --check); its change is recorded as one
# "config ..." change. Sets depc_sv_conf_changed to 1 or 0.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_supervisor_conf() {
  local names text
  names=$depc_change_names text=$depc_change_text
  depc_change_names='' depc_change_text=''
  if ! depc_file "$1" 0600 '' '' "$2" "$3"; then
    depc_change_names=$names depc_change_text=$text
    return 1
  fi
  depc_sv_conf_changed=0
  if [ -n "$depc_change_names" ]; then
    depc_sv_conf_changed=1
    text=${text:+$text, }"config $depc_change_text"
    names=${names:+$names,}config
  fi
  depc_change_names=$names depc_change_text=$text
  return 0
}

# depc_supervisor_need TOOL: TOOL (a name on PATH or a path) is executable.
depc_supervisor_need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  depc_error="'$1' not found on host $DEPC_HOST (PATH=$PATH); install supervisor or give the Supervisor's bin"
  return 1
}

# depc_supervisor_answers CTL CONF: whether a supervisord answers on CONF's socket.
depc_supervisor_answers() {
  command -v "$1" >/dev/null 2>&1 || return 1
  "$1" -c "$2" pid </dev/null >/dev/null 2>&1
}

# depc_supervisor_await CTL CONF: wait up to 30 s until supervisord answers.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_await() {
  local n
  n=0
  while [ "$n" -lt 120 ]; do
    depc_supervisor_answers "$1" "$2" && return 0
    depc_supervisor_nap
    n=$((n + 1))
  done
  "$1" -c "$2" pid </dev/null >"$depc_tmp/err" 2>&1
  depc_fail "supervisord ($2) does not answer after 30 s" "$depc_tmp/err"
}

# depc_supervisor_nap: a quarter of a second where sleep takes fractions, else 1 s.
depc_supervisor_nap() {
  sleep 0.25 2>/dev/null || sleep 1
}

# depc_supervisor_ctl MESSAGE CTL CONF ARGS...: run `CTL -c CONF ARGS...`,
# its output in $depc_tmp/ctl; on failure depc_fail MESSAGE with that output.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_ctl() {
  local msg ctl conf
  msg=$1 ctl=$2 conf=$3
  shift 3
  if "$ctl" -c "$conf" "$@" </dev/null >"$depc_tmp/ctl" 2>&1; then
    return 0
  fi
  depc_fail "$msg" "$depc_tmp/ctl"
}

# depc_supervisor_state CTL CONF NAME: the program's state (RUNNING,
# STARTING, STOPPED, FATAL, ...) in depc_sv_state, '' when supervisord does
# not know it or does not answer (its output is then in $depc_tmp/ctl).
# shellcheck disable=SC2034 # sets globals read by other functions
depc_supervisor_state() {
  depc_sv_state=
  "$1" -c "$2" status "$3" </dev/null >"$depc_tmp/ctl" 2>&1
  depc_sv_state=$(awk -v n="$3" '$1 == n && $2 ~ /^[A-Z]+$/ { print $2; exit }' "$depc_tmp/ctl")
}

# depc_supervisor_pid CTL CONF NAME: the program's pid in depc_sv_pid, 0
# when it is not running.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_supervisor_pid() {
  depc_sv_pid=$("$1" -c "$2" pid "$3" </dev/null 2>/dev/null)
  case $depc_sv_pid in
    '' | *[!0-9]*) depc_sv_pid=0 ;;
  esac
}

# depc_supervisor_wait CTL CONF NAME SECONDS: wait until NAME is RUNNING;
# fail at FATAL or after SECONDS with the state and the program's last log
# lines (supervisorctl tail).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_wait() {
  local ctl conf name limit start now
  ctl=$1 conf=$2 name=$3 limit=$4
  start=$(date +%s)
  while :; do
    depc_supervisor_state "$ctl" "$conf" "$name"
    case $depc_sv_state in
      RUNNING) return 0 ;;
      FATAL | EXITED | STOPPED | '') break ;;
    esac
    now=$(date +%s)
    [ $((now - start)) -lt "$limit" ] || break
    depc_supervisor_nap
  done
  "$ctl" -c "$conf" tail -1600 "$name" </dev/null 2>&1 | tail -n 10 >"$depc_tmp/err"
  if [ ! -s "$depc_tmp/err" ]; then
    "$ctl" -c "$conf" tail -1600 "$name" stderr </dev/null 2>&1 | tail -n 10 >"$depc_tmp/err"
  fi
  # No log: the program never started. supervisord's own reason is on its
  # status line ("can't find command '/opt/app/bin/web'").
  if [ ! -s "$depc_tmp/err" ] || grep -q 'ERROR (no log file)' "$depc_tmp/err"; then
    awk -v n="$name" '$1 == n { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$depc_tmp/ctl" >"$depc_tmp/err"
    depc_fail "$name is ${depc_sv_state:-unknown to supervisord}, not RUNNING; supervisord says" "$depc_tmp/err"
    return 1
  fi
  case $depc_sv_state in
    STARTING | BACKOFF) depc_fail "$name is $depc_sv_state, not RUNNING after ${limit}s; its last log lines" "$depc_tmp/err" ;;
    *) depc_fail "$name is ${depc_sv_state:-unknown to supervisord}, not RUNNING; its last log lines" "$depc_tmp/err" ;;
  esac
}

# depc_supervisor_program OWE NAME CONFPATH SHA256 CONTENTFN CTL CONF AUTOSTART WAIT COLD STABLE [HEALTH...]
# One program of a supervisord (CTL -c CONF). CONFPATH is written like a
# File (mode 0600; a diff in --check). A changed config owes the restart OWE
# first (recorded on the host, so a run that fails before the update leaves
# it owed). When OWE is owed (by the config or by a change of something in
# whenChanged): reread + update NAME, then restart NAME unless the update
# already did (its pid changed). AUTOSTART=1: a program that is not running
# is started. After any (re)start: wait up to WAIT seconds for RUNNING,
# then depc_supervisor_proven (HEALTH's check, STABLE seconds of the same
# pid). Without changes only `status NAME` runs. --check runs only `status`.
# COLD ('' unless cold: true) is the key of the start owed by its cold stop
# (depc_supervisor_program_evade): see depc_supervisor_cold_start.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_supervisor_program() {
  local owe name p sha fn ctl conf autostart wait pid started cold stable
  owe=$1 name=$2 p=$3 sha=$4 fn=$5 ctl=$6 conf=$7 autostart=$8 wait=$9 cold=${10}
  shift 10
  stable=${1:-0}
  [ $# -eq 0 ] || shift
  depc_supervisor_need "$ctl" || return 1
  if [ ! -f "$p" ] || ! depc_sha256_of "$p" || [ "$depc_digest" != "$sha" ]; then
    depc_owe "$owe" || return 1
  fi
  depc_supervisor_conf "$p" "$sha" "$fn" || return 1
  if [ -n "$cold" ] && depc_is_owed "$cold"; then
    depc_supervisor_cold_report
    if [ "$depc_mode" = check ]; then
      [ "$depc_sv_conf_changed" = 0 ] || depc_change update "reread/update"
      return 0
    fi
  fi
  if [ "$depc_mode" = check ]; then
    depc_supervisor_state "$ctl" "$conf" "$name"
    if depc_is_owed "$owe"; then
      if [ "$depc_sv_conf_changed" = 1 ]; then
        depc_change update "reread/update"
      else
        depc_change restart "restart (notified)"
      fi
    elif [ "$autostart" = 1 ] && [ "$depc_sv_state" != RUNNING ]; then
      depc_change start "start (${depc_sv_state:-not loaded})"
    fi
    return 0
  fi
  started=0
  if depc_is_owed "$owe"; then
    depc_invalidate_facts
    depc_supervisor_ctl "supervisorctl reread failed" "$ctl" "$conf" reread || return 1
    depc_supervisor_pid "$ctl" "$conf" "$name"
    pid=$depc_sv_pid
    depc_supervisor_ctl "supervisorctl update $name failed" "$ctl" "$conf" update "$name" || return 1
    if awk 'toupper($0) ~ /ERROR/ { e = 1 } END { exit !e }' "$depc_tmp/ctl"; then
      depc_fail "supervisorctl update $name failed" "$depc_tmp/ctl"
      return 1
    fi
    depc_supervisor_pid "$ctl" "$conf" "$name"
    if [ "$pid" != 0 ] && [ "$depc_sv_pid" = "$pid" ]; then
      depc_supervisor_ctl "cannot restart $name" "$ctl" "$conf" restart "$name" ||
        depc_supervisor_wait "$ctl" "$conf" "$name" 0 || return 1
      depc_change restart "restarted"
      started=1
    elif [ "$pid" != 0 ] && [ "$depc_sv_pid" = 0 ]; then
      depc_supervisor_ctl "cannot start $name" "$ctl" "$conf" start "$name" ||
        depc_supervisor_wait "$ctl" "$conf" "$name" 0 || return 1
      depc_change restart "restarted"
      started=1
    elif [ "$pid" != 0 ]; then
      depc_change restart "restarted"
      started=1
    elif [ "$depc_sv_pid" != 0 ] ||
      { [ "$autostart" = 1 ] && awk '/(added|updated) process group/ { a = 1 } END { exit !a }' "$depc_tmp/ctl"; }; then
      # Added or updated with autostart: supervisord started it (it may
      # have died already: the wait below reports that, no second start).
      depc_change start "started"
      started=1
    fi
  fi
  depc_supervisor_state "$ctl" "$conf" "$name"
  if [ -z "$depc_sv_state" ]; then
    depc_fail "supervisord does not know $name ($conf)" "$depc_tmp/ctl"
    return 1
  fi
  if [ "$started" = 0 ] && [ "$autostart" = 1 ]; then
    case $depc_sv_state in
      STOPPED | EXITED | FATAL | BACKOFF)
        depc_invalidate_facts
        # Owed until proven (depc_supervisor_proven): a run killed before
        # its check leaves the next run to restart and check it.
        depc_owe "$owe" || return 1
        depc_supervisor_ctl "cannot start $name" "$ctl" "$conf" start "$name" ||
          depc_supervisor_wait "$ctl" "$conf" "$name" 0 || return 1
        depc_change start "started"
        started=1
        ;;
      STARTING) started=1 ;;
    esac
  elif [ "$started" = 0 ] && [ "$depc_sv_state" = STARTING ]; then
    started=1
  fi
  if [ "$started" = 1 ]; then
    depc_supervisor_wait "$ctl" "$conf" "$name" "$wait" || return 1
    depc_supervisor_proven "$owe" "$ctl" "$conf" "$name" "$stable" "$@" || return 1
  fi
  if [ -n "$cold" ]; then
    depc_supervisor_cold_start "$cold" "$ctl" "$conf" "$name" "$wait" "$started" "$stable" "$@" || return 1
  fi
  depc_settle "$owe"
}

# depc_supervisor_cold_report: the change line of a cold program that was
# stopped for its dependencies (in --check: would be).
depc_supervisor_cold_report() {
  if [ "$depc_mode" = check ]; then
    depc_change cold "stop while its dependencies change, start"
  else
    depc_change cold "stopped while its dependencies changed"
  fi
}

# depc_supervisor_program_evade OWE NAME CTL CONF: (cold: true; runtime/
# evade.sh runs it right before a resource the program depends on changes)
# a running program is stopped. The start it is then owed (OWE) is recorded
# first, so a run killed after the stop leaves it owed and the next run
# starts it. A program that does not run, or a supervisord that does not
# answer yet (the first deploy), is left alone. --check only records OWE.
depc_supervisor_program_evade() {
  depc_supervisor_answers "$3" "$4" || return 0
  depc_supervisor_state "$3" "$4" "$2"
  case $depc_sv_state in
    RUNNING | STARTING | BACKOFF) ;;
    *) return 0 ;;
  esac
  depc_owe "$1" || return 1
  [ "$depc_mode" = apply ] || return 0
  depc_supervisor_ctl "cannot stop $2 while its dependencies change (cold: true)" "$3" "$4" stop "$2"
}

# depc_supervisor_cold_start COLD CTL CONF NAME WAIT STARTED STABLE
# [HEALTH...]: (apply) when COLD is owed (depc_supervisor_program_evade
# stopped the program, in this run or in one that was killed), the program
# is started unless it already was (STARTED=1 or running), whatever its
# autostart: it ran before the stop. The start is proven like any other
# (depc_supervisor_proven), also when the program already runs: a start
# whose check failed left it running unproven, and COLD owed. Then COLD is
# settled.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_cold_start() {
  local cold ctl conf name wait started stable
  cold=$1 ctl=$2 conf=$3 name=$4 wait=$5 started=$6 stable=$7
  shift 7
  depc_is_owed "$cold" || return 0
  if [ "$started" = 0 ]; then
    depc_supervisor_state "$ctl" "$conf" "$name"
    case $depc_sv_state in
      RUNNING | STARTING) ;;
      *)
        depc_invalidate_facts
        depc_supervisor_ctl "cannot start $name" "$ctl" "$conf" start "$name" ||
          depc_supervisor_wait "$ctl" "$conf" "$name" 0 || return 1
        depc_change start "started"
        ;;
    esac
    depc_supervisor_wait "$ctl" "$conf" "$name" "$wait" || return 1
    # Also when it runs already: a start whose check failed ran on, unproven.
    depc_supervisor_proven "$cold" "$ctl" "$conf" "$name" "$stable" "$@" || return 1
  fi
  depc_settle "$cold"
}

# depc_supervisor_proven OWE CTL CONF NAME STABLE [HEALTH...]: a program
# just (re)started and RUNNING is done only when HEALTH's check passes
# (depc_health) and it is still RUNNING with the same pid STABLE seconds
# after it became RUNNING (0: not watched). Otherwise it fails, with the
# check's output or the program's last log lines, and OWE is owed again, so
# the next run restarts and checks it (a crash loop fails every run).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_supervisor_proven() {
  local owe ctl conf name stable pid start now
  owe=$1 ctl=$2 conf=$3 name=$4 stable=$5
  shift 5
  depc_supervisor_pid "$ctl" "$conf" "$name"
  pid=$depc_sv_pid
  start=$(depc_health_clock)
  if [ $# -gt 0 ] && ! depc_health "health check of $name" "$@"; then
    depc_owe "$owe"
    return 1
  fi
  [ "$stable" -gt 0 ] || return 0
  while :; do
    depc_supervisor_state "$ctl" "$conf" "$name"
    depc_supervisor_pid "$ctl" "$conf" "$name"
    if [ "$depc_sv_state" != RUNNING ] || [ "$depc_sv_pid" != "$pid" ]; then
      break
    fi
    now=$(depc_health_clock)
    [ $((now - start)) -lt $((stable * 100)) ] || return 0
    depc_supervisor_nap
  done
  if [ $# -gt 0 ]; then
    depc_health_done failed "$depc_health_attempts" "$start"
  fi
  depc_owe "$owe"
  now=${depc_sv_state:-unknown to supervisord}
  [ "$depc_sv_pid" = 0 ] || now="$now as pid $depc_sv_pid"
  "$ctl" -c "$conf" tail -1600 "$name" </dev/null 2>&1 | tail -n 10 >"$depc_tmp/err"
  depc_health_tail "$depc_tmp/err"
  depc_fail "$name did not stay up: it was RUNNING as pid $pid, then $now within ${stable}s; its last log lines" "$depc_tmp/health.out"
}

# depc_supervisor_program_remove NAME CONFPATH CTL CONF: (ledger.sh, before
# the resources run: a renamed program takes over the port) stopped, config
# removed, `update NAME`; a supervisord that does not answer: config only.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_supervisor_program_remove() {
  local answers
  [ -f "$2" ] || [ -L "$2" ] || return 0
  depc_remove_guard "$2" || return 0
  answers=0
  ! depc_supervisor_answers "$3" "$4" || answers=1
  if [ "$answers" = 1 ]; then
    depc_change removed 'stopped, config removed'
  else
    depc_change removed 'config removed'
  fi
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  if [ "$answers" = 1 ]; then
    depc_supervisor_state "$3" "$4" "$1"
    case $depc_sv_state in
      '' | STOPPED | EXITED | FATAL) ;;
      *) depc_supervisor_ctl "cannot stop program $1" "$3" "$4" stop "$1" || return 1 ;;
    esac
  fi
  depc_try "cannot remove $2" rm -f "$2" || return 1
  [ "$answers" = 1 ] || return 0
  depc_supervisor_ctl "supervisorctl reread failed" "$3" "$4" reread || return 1
  depc_supervisor_ctl "supervisorctl update $1 failed" "$3" "$4" update "$1"
}

# depc_supervisor_user_remove BASE CTL: (ledger.sh) supervisord shut down,
# BASE removed, unless it holds a path the bundle declares.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_supervisor_user_remove() {
  [ -d "$1" ] && [ ! -L "$1" ] || return 0
  depc_remove_guard "$1" || return 0
  depc_remove_tree_ok "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  if depc_supervisor_answers "$2" "$1/supervisord.conf"; then
    depc_supervisor_ctl "cannot shut down the supervisord of $1" "$2" "$1/supervisord.conf" shutdown || return 1
  fi
  depc_try "cannot remove $1" rm -rf "$1"
}
