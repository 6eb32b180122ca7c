# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: systemd services. A service is its unit file in
# /etc/systemd/system (written atomically, like a file), its enablement
# and whether it runs. systemd is asked once for the unit's state; a
# converged service costs one stat, one sha256, one `systemctl show` and one
# `systemctl is-enabled`.

# depc_service OWE NAME SHA256 CONTENTFN ENABLED RUNNING RELOAD STABLE [HEALTH...]: the unit
# NAME ("web.service") has the file /etc/systemd/system/NAME with
# CONTENTFN's bytes (digest SHA256, mode 0644, owned by root), is enabled
# (ENABLED=1; re-enabled when its [Install] section changed) or not, and
# runs (RUNNING=1) or not. A changed unit file is
# followed by one `systemctl daemon-reload` (also when systemd says it
# needs one: a run that stopped in between). A running service is
# restarted when its unit changed, and restarted — or reloaded when RELOAD
# is 1 and the unit can reload — when the reaction OWE ("service:NAME") is
# owed. A running service whose unit changes owes its own restart before
# the file is written, so a failure before the restart leaves it owed.
# Starting a stopped service, or a service that must not run, settles OWE.
# A start, restart or reload is done only when depc_service_proven agrees
# (HEALTH's check, STABLE seconds without a restart by systemd).
# --check asks systemd the same questions and changes nothing.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_service() {
  local owe name sha fn enabled running reload p new unit_changed details state reload_daemon was_active install_changed stable acted
  owe=$1 name=$2 sha=$3 fn=$4 enabled=$5 running=$6 reload=$7
  shift 7
  stable=${1:-0}
  [ $# -eq 0 ] || shift
  p=/etc/systemd/system/$name
  if [ ! -d /run/systemd/system ]; then
    depc_error="host $DEPC_HOST does not run systemd (there is no /run/systemd/system), so it cannot run service $name"
    return 1
  fi
  if ! command -v systemctl >/dev/null 2>&1; then
    depc_error="host $DEPC_HOST runs systemd but 'systemctl' is not on PATH ($PATH)"
    return 1
  fi
  depc_service_show "$name" || return 1
  was_active=0
  case $depc_svc_active in
    active | reloading | activating) was_active=1 ;;
  esac

  # The unit file: compared like a file, changes named "unit ...".
  unit_changed=0
  details=
  if [ -L "$p" ] || { [ -e "$p" ] && [ ! -f "$p" ]; }; then
    depc_error="$p exists and is not a regular file"
    return 1
  fi
  if [ -f "$p" ]; then
    new=0
    depc_stat "$p" || return 1
    depc_sha256_of "$p" || return 1
    if [ "$depc_digest" != "$sha" ]; then
      unit_changed=1
      details=content
    fi
    depc_attrs_compare 0644 0 0 0
    [ "$depc_need_mode" = 0 ] || details=${details:+$details, }"mode $depc_st_mode -> 0644"
    [ "$depc_need_owner" = 0 ] || details=${details:+$details, }"owner $depc_st_user -> root"
    [ "$depc_need_group" = 0 ] || details=${details:+$details, }"group $depc_st_group -> root"
  else
    new=1
    unit_changed=1
    details=created
  fi
  [ -z "$details" ] || depc_change unit "unit $details"
  if [ "$unit_changed" = 1 ] && [ "$was_active" = 1 ] && [ "$running" = 1 ]; then
    depc_owe "$owe" || return 1
  fi
  # An enabled unit whose [Install] section changes is re-enabled, so its
  # symlinks follow the new WantedBy=.
  install_changed=0
  if [ "$unit_changed" = 1 ] && [ "$new" = 0 ] && [ "$enabled" = 1 ]; then
    depc_service_install_section "$p" >"$depc_tmp/install.old"
    install_changed=1
  fi
  if [ "$depc_mode" = check ]; then
    if [ "$unit_changed" = 1 ]; then
      depc_file_check_content "$p" "$sha" "$fn" "$new" || return 1
      if [ "$install_changed" = 1 ]; then
        depc_service_install_section "$depc_tmp/new" >"$depc_tmp/install.new"
      fi
    fi
  elif [ "$unit_changed" = 1 ]; then
    depc_file_write "$p" /etc/systemd/system 0644 0 0 "$sha" "$fn" "$new" || return 1
    if [ "$install_changed" = 1 ]; then
      depc_service_install_section "$p" >"$depc_tmp/install.new"
    fi
  elif [ -n "$details" ]; then
    depc_attrs_apply "$p" 0644 0 0 || return 1
  fi
  if [ "$install_changed" = 1 ] && diff "$depc_tmp/install.old" "$depc_tmp/install.new" >/dev/null 2>&1; then
    install_changed=0
  fi

  # One daemon-reload when the unit changed (or systemd still has an old copy).
  reload_daemon=0
  if [ "$unit_changed" = 1 ] || [ "$depc_svc_need_reload" = yes ]; then
    reload_daemon=1
  fi

  # Enablement. `--no-reload` when the daemon-reload below follows anyway.
  systemctl is-enabled "$name" >"$depc_tmp/svc" 2>/dev/null
  state=
  IFS= read -r state <"$depc_tmp/svc"
  if [ "$enabled" = 1 ] && [ "$state" != enabled ]; then
    depc_change enable enable
    depc_service_enablement enable "$name" "$reload_daemon" || return 1
  elif [ "$enabled" = 1 ] && [ "$install_changed" = 1 ]; then
    depc_change reenable reenable
    depc_service_enablement reenable "$name" "$reload_daemon" || return 1
  elif [ "$enabled" = 0 ] && [ "$state" = enabled ]; then
    depc_change disable disable
    depc_service_enablement disable "$name" "$reload_daemon" || return 1
  fi

  if [ "$reload_daemon" = 1 ]; then
    depc_change daemon-reload daemon-reload
    if [ "$depc_mode" = apply ]; then
      depc_try "systemctl daemon-reload failed" systemctl daemon-reload || return 1
    fi
  fi

  # Running or not; restart or reload when the unit changed or a restart is owed.
  acted=0
  if [ "$running" = 1 ]; then
    acted=1
    if [ "$was_active" = 0 ]; then
      depc_change start start
      depc_service_do start "$name" || return 1
    elif [ "$unit_changed" = 1 ]; then
      depc_change restart restart
      depc_service_do restart "$name" || return 1
    elif depc_is_owed "$owe"; then
      if [ "$reload" = 1 ] && [ "$depc_svc_can_reload" = yes ]; then
        depc_change reload "notified: reload"
        depc_service_do reload "$name" || return 1
      else
        depc_change restart "notified: restart"
        depc_service_do restart "$name" || return 1
      fi
    else
      acted=0
    fi
    if [ "$acted" = 1 ] && [ "$depc_mode" = apply ]; then
      depc_service_proven "$owe" "$name" "$stable" "$@" || return 1
    fi
  elif [ "$was_active" = 1 ]; then
    depc_change stop stop
    depc_service_do stop "$name" || return 1
  fi
  depc_settle "$owe"
}

# depc_service_proven OWE NAME STABLE [HEALTH...]: a service just started,
# restarted or reloaded is done only when HEALTH's check passes
# (depc_health) and, STABLE seconds after the systemctl call returned, it is
# still active with the same MainPID and NRestarts (0: not watched; a
# `Restart=always` service that dies is restarted by systemd, which counts
# it). Otherwise it fails with the check's output or the unit's last
# journal lines, and OWE is owed again: the next run restarts and checks it.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_service_proven() {
  local owe name stable start now pid restarts
  owe=$1 name=$2 stable=$3
  shift 3
  start=$(depc_health_clock)
  depc_service_process "$name" || return 1
  pid=$depc_svc_pid restarts=$depc_svc_restarts
  if [ $# -gt 0 ] && ! depc_health "health check of $name" "$@"; then
    depc_owe "$owe"
    return 1
  fi
  [ "$stable" -gt 0 ] || return 0
  while :; do
    depc_service_process "$name" || return 1
    if [ "$depc_svc_active" != active ] || [ "$depc_svc_pid" != "$pid" ] || [ "$depc_svc_restarts" != "$restarts" ]; then
      break
    fi
    now=$(depc_health_clock)
    [ $((now - start)) -lt $((stable * 100)) ] || return 0
    sleep 0.25 2>/dev/null || sleep 1
  done
  if [ $# -gt 0 ]; then
    depc_health_done failed "$depc_health_attempts" "$start"
  fi
  depc_owe "$owe"
  : >"$depc_tmp/err"
  if command -v journalctl >/dev/null 2>&1; then
    journalctl -q --no-pager -o cat -n 10 -u "$name" >"$depc_tmp/err" 2>/dev/null
  fi
  depc_health_tail "$depc_tmp/err"
  depc_fail "$name did not stay up: it was active as pid $pid, then $depc_svc_active as pid $depc_svc_pid after $((depc_svc_restarts - restarts)) restarts by systemd within ${stable}s; its last journal lines" "$depc_tmp/health.out"
}

# depc_service_process NAME: depc_svc_active (ActiveState), depc_svc_pid
# (MainPID) and depc_svc_restarts (NRestarts, 0 before systemd 235).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_service_process() {
  local line
  depc_svc_pid=0 depc_svc_restarts=0 depc_svc_active=
  if ! systemctl show -p ActiveState -p MainPID -p NRestarts "$1" >"$depc_tmp/svc" 2>"$depc_tmp/err"; then
    depc_fail "systemctl show $1 failed" "$depc_tmp/err"
    return 1
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      ActiveState=*) depc_svc_active=${line#*=} ;;
      MainPID=*) depc_svc_pid=${line#*=} ;;
      NRestarts=?*) depc_svc_restarts=${line#*=} ;;
    esac
  done <"$depc_tmp/svc"
  return 0
}

# depc_service_show NAME: what systemd knows about unit NAME, from one
# `systemctl show`: depc_svc_active (ActiveState: active, inactive,
# failed...), depc_svc_need_reload (NeedDaemonReload: yes/no) and
# depc_svc_can_reload (CanReload: yes/no). Returns 1 with depc_error set.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_service_show() {
  local line
  depc_svc_active=
  depc_svc_need_reload=no
  depc_svc_can_reload=no
  if ! systemctl show -p ActiveState -p NeedDaemonReload -p CanReload "$1" >"$depc_tmp/svc" 2>"$depc_tmp/err"; then
    depc_fail "systemctl show $1 failed" "$depc_tmp/err"
    return 1
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      ActiveState=*) depc_svc_active=${line#*=} ;;
      NeedDaemonReload=*) depc_svc_need_reload=${line#*=} ;;
      CanReload=*) depc_svc_can_reload=${line#*=} ;;
    esac
  done <"$depc_tmp/svc"
  if [ -z "$depc_svc_active" ]; then
    depc_error="systemctl show $1 printed no ActiveState"
    return 1
  fi
  return 0
}

# depc_service_install_section FILE: print FILE's [Install] section (its
# lines from the header to the next section), to tell whether a changed
# unit needs re-enabling.
depc_service_install_section() {
  awk '/^[ \t]*\[/ { s = ($0 ~ /^[ \t]*\[Install\][ \t]*$/) } s' "$1" 2>/dev/null
}

# depc_service_enablement enable|reenable|disable NAME NORELOAD: apply mode
# only: `systemctl enable NAME` (with --no-reload when NORELOAD is 1: a
# daemon-reload follows), then checks that systemd agrees.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_service_enablement() {
  local state want
  [ "$depc_mode" = apply ] || return 0
  if [ "$3" = 1 ]; then
    depc_try "systemctl $1 $2 failed" systemctl --no-reload "$1" "$2" || return 1
  else
    depc_try "systemctl $1 $2 failed" systemctl "$1" "$2" || return 1
  fi
  systemctl is-enabled "$2" >"$depc_tmp/svc" 2>/dev/null
  state=
  IFS= read -r state <"$depc_tmp/svc"
  want=enabled
  [ "$1" != disable ] || want=disabled
  if [ "$state" != "$want" ]; then
    depc_error="systemctl $1 $2 left it ${state:-in an unknown state} (is-enabled), not $want"
    return 1
  fi
  return 0
}

# depc_service_do start|stop|restart|reload NAME: apply mode only: run the
# systemctl action. Its effect on the host is opaque, so the preflight facts
# are no longer trusted. A failure carries systemctl's message and the
# unit's last journal lines when journalctl can read them.
depc_service_do() {
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  if systemctl "$1" "$2" 2>"$depc_tmp/err"; then
    return 0
  fi
  if command -v journalctl >/dev/null 2>&1; then
    journalctl -q --no-pager -o cat -n 5 -u "$2" >>"$depc_tmp/err" 2>/dev/null
  fi
  depc_fail "systemctl $1 $2 failed" "$depc_tmp/err"
}

# depc_service_remove NAME: (ledger.sh, before the resources run) stopped,
# disabled, /etc/systemd/system/NAME removed, one daemon-reload.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_service_remove() {
  local p
  p=/etc/systemd/system/$1
  [ -f "$p" ] || [ -L "$p" ] || return 0
  if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
    depc_change removed 'unit removed'
    [ "$depc_mode" = apply ] || return 0
    depc_try "cannot remove $p" rm -f "$p"
    return
  fi
  depc_change removed 'stopped, disabled, unit removed'
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  depc_service_do stop "$1" || return 1
  depc_try "systemctl disable $1 failed" systemctl --no-reload disable "$1" || return 1
  depc_try "cannot remove $p" rm -f "$p" || return 1
  depc_try "systemctl daemon-reload failed" systemctl daemon-reload
}
