# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: systemd timers. A Timer is two unit files in
# /etc/systemd/system, NAME.service (Type=oneshot, never enabled: the timer
# starts it) and NAME.timer (enabled and running), written like files, and
# at most one daemon-reload. It uses Service's helpers (service.sh). A
# converged timer costs two stats, two sha256, one `systemctl show` and one
# `systemctl is-enabled`.

# depc_timer NAME CALENDAR SERVICESHA SERVICEFN TIMERSHA TIMERFN: the units
# /etc/systemd/system/NAME.service (SERVICEFN's bytes) and NAME.timer
# (TIMERFN's), mode 0644, owned by root, the timer enabled and active.
# CALENDAR (its OnCalendar=) is checked first with `systemd-analyze
# calendar` where the host has it, so a bad expression writes nothing. One
# daemon-reload when a unit changed or systemd says one is needed; a running
# timer whose unit changed is restarted (its new schedule counts from now).
# --check asks systemd the same questions, shows both diffs, changes nothing.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_timer() {
  local name cal dir changed timer_changed reload state
  name=$1 cal=$2 dir=/etc/systemd/system
  if [ ! -d /run/systemd/system ]; then
    depc_error="host $DEPC_HOST does not run systemd (there is no /run/systemd/system), so it cannot run timer $name.timer"
    return 1
  fi
  if ! command -v systemctl >/dev/null 2>&1; then
    depc_error="host $DEPC_HOST runs systemd but 'systemctl' is not on PATH ($PATH)"
    return 1
  fi
  if command -v systemd-analyze >/dev/null 2>&1 && ! systemd-analyze calendar "$cal" >/dev/null 2>"$depc_tmp/err"; then
    depc_fail "onCalendar '$cal' is not a calendar expression systemd understands (systemd-analyze calendar)" "$depc_tmp/err"
    return 1
  fi
  depc_timer_show "$name" || return 1
  : >"$depc_tmp/timer.diff"
  depc_timer_unit "$dir/$name.service" "$3" "$4" service || return 1
  changed=$depc_timer_written
  depc_timer_unit "$dir/$name.timer" "$5" "$6" timer || return 1
  timer_changed=$depc_timer_written
  if [ -s "$depc_tmp/timer.diff" ]; then
    mv -f "$depc_tmp/timer.diff" "$depc_tmp/diff"
    depc_has_diff=1
  fi
  reload=0
  if [ "$changed" = 1 ] || [ "$timer_changed" = 1 ] || [ "$depc_tm_need_reload" = 1 ]; then
    reload=1
  fi
  systemctl is-enabled "$name.timer" >"$depc_tmp/svc" 2>/dev/null
  state=
  IFS= read -r state <"$depc_tmp/svc"
  if [ "$state" != enabled ]; then
    depc_change enable enable
    depc_service_enablement enable "$name.timer" "$reload" || return 1
  fi
  if [ "$reload" = 1 ]; then
    depc_change daemon-reload daemon-reload
    if [ "$depc_mode" = apply ]; then
      depc_try "systemctl daemon-reload failed" systemctl daemon-reload || return 1
    fi
  fi
  case $depc_tm_active in
    active | reloading | activating)
      if [ "$timer_changed" = 1 ]; then
        depc_change restart restart
        depc_service_do restart "$name.timer" || return 1
      fi
      ;;
    *)
      depc_change start start
      depc_service_do start "$name.timer" || return 1
      ;;
  esac
  return 0
}

# depc_timer_show NAME: one `systemctl show` of NAME.timer and NAME.service:
# depc_tm_active (the timer's ActiveState) and depc_tm_need_reload (1 when
# systemd says either unit needs a daemon-reload). Returns 1 with depc_error.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_timer_show() {
  local line unit
  depc_tm_active=
  depc_tm_need_reload=0
  if ! systemctl show -p ActiveState -p NeedDaemonReload "$1.timer" "$1.service" >"$depc_tmp/svc" 2>"$depc_tmp/err"; then
    depc_fail "systemctl show $1.timer $1.service failed" "$depc_tmp/err"
    return 1
  fi
  # One block per unit, in the order asked, separated by an empty line.
  unit=1
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      '') unit=2 ;;
      ActiveState=*) [ "$unit" = 2 ] || depc_tm_active=${line#*=} ;;
      NeedDaemonReload=yes) depc_tm_need_reload=1 ;;
    esac
  done <"$depc_tmp/svc"
  if [ -z "$depc_tm_active" ]; then
    depc_error="systemctl show $1.timer printed no ActiveState"
    return 1
  fi
  return 0
}

# depc_timer_unit PATH SHA256 CONTENTFN WHAT: depc_file for one unit file
# (0644, root:root), its change recorded as "WHAT created" / "WHAT content"
# / "WHAT mode ..." and its --check diff appended to $depc_tmp/timer.diff.
# depc_timer_written: 1 when the file's content differs (apply: was written).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_timer_unit() {
  local names text
  names=$depc_change_names text=$depc_change_text
  depc_change_names='' depc_change_text='' depc_has_diff=0
  depc_timer_written=0
  if ! depc_file "$1" 0644 0 0 "$2" "$3"; then
    depc_change_names=$names depc_change_text=$text
    return 1
  fi
  if [ -n "$depc_change_names" ]; then
    case ,$depc_change_names, in
      *,created,* | *,content,*) depc_timer_written=1 ;;
    esac
    if [ "$depc_has_diff" = 1 ]; then
      cat "$depc_tmp/diff" >>"$depc_tmp/timer.diff"
    fi
    depc_has_diff=0
    names=${names:+$names,}$4
    text=${text:+$text, }"$4 $depc_change_text"
  fi
  depc_change_names=$names depc_change_text=$text
  return 0
}

# depc_timer_remove NAME: (ledger.sh) NAME.timer stopped and disabled, both
# unit files removed, one daemon-reload. A run of NAME.service in progress
# is left to finish (systemd keeps a running unit whose file went). Without
# systemd: the files only.
depc_timer_remove() {
  [ -f "/etc/systemd/system/$1.timer" ] || [ -L "/etc/systemd/system/$1.timer" ] ||
    [ -f "/etc/systemd/system/$1.service" ] || [ -L "/etc/systemd/system/$1.service" ] || return 0
  if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
    depc_change removed 'units removed'
    [ "$depc_mode" = apply ] || return 0
    depc_try "cannot remove the units of $1" rm -f "/etc/systemd/system/$1.timer" "/etc/systemd/system/$1.service"
    return
  fi
  depc_change removed 'stopped, disabled, units removed'
  [ "$depc_mode" = apply ] || return 0
  depc_invalidate_facts
  depc_service_do stop "$1.timer" || return 1
  depc_try "systemctl disable $1.timer failed" systemctl --no-reload disable "$1.timer" || return 1
  depc_try "cannot remove the units of $1" rm -f "/etc/systemd/system/$1.timer" "/etc/systemd/system/$1.service" || return 1
  depc_try "systemctl daemon-reload failed" systemctl daemon-reload
}
