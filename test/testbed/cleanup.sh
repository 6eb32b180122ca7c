#!/bin/sh
# Tear down depc test beds: every process, network namespace, veth, cgroup directory,
# address and temporary directory a test bed recorded.
#
#   cleanup.sh --bed ID ...   tear down these test beds (what Testbed.stop() runs)
#   cleanup.sh [--stale]      tear down test beds whose owning process is gone (crashed runs)
#   cleanup.sh --all          tear down every test bed, then sweep leftovers by the project
#                             prefix "depc-" (network namespaces and the processes inside
#                             them, veths, cgroup dirs, nspawn runtime files, the bridge)
#
# Processes are stopped only by recorded pid (checked against the recorded start time, so a
# reused pid is never hit) or, with --all, by membership in a depc-* network namespace;
# never by process name. Run as root. Exit status 1 when something could not be removed.
set -u
STATE=${DEPC_TESTBED_STATE:-/run/depc-testbed}
BRIDGE=depcbr0
status=0
say() { printf '[testbed cleanup] %s\n' "$*" >&2; }

# starttime PID: field 22 of /proc/PID/stat; fails for a missing or zombie process.
starttime() {
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  [ "$1" != Z ] || return 1
  printf '%s\n' "${20}"
}
# same PID START: PID is still the recorded process (alive, not a zombie).
same() { [ "$(starttime "$1" 2>/dev/null)" = "$2" ]; }

# any_alive PID START...: is any of the recorded processes still alive?
any_alive() {
  while [ $# -ge 2 ]; do same "$1" "$2" && return 0; shift 2; done
  return 1
}
# wait_gone SECONDS PID START...: wait until none of the processes is alive.
wait_gone() {
  limit=$(( $1 * 20 )); shift
  i=0
  while any_alive "$@"; do
    [ "$i" -ge "$limit" ] && return 1
    sleep 0.05; i=$((i + 1))
  done
  return 0
}

rm_cgroup() { # remove a cgroup directory and its children, bottom-up (rmdir only)
  [ -d "$1" ] || return 0
  find "$1" -depth -type d -exec rmdir {} \; 2>/dev/null
  if [ -d "$1" ]; then say "cgroup $1 still busy"; status=1; fi
}

rm_nspawn_runtime() { # files systemd-nspawn left for machine $1
  [ -d /run/systemd/nspawn ] || return 0
  find /run/systemd/nspawn -depth -name "*$1*" -exec rm -rf {} + 2>/dev/null
  find /run/systemd/nspawn -depth -type d -empty -exec rmdir {} \; 2>/dev/null
  return 0
}

release_addrs() { # release the bed's addresses; remove the bridge when nobody uses it
  flock -w 60 "$STATE/alloc.lock" sh -c '
    STATE=$1 BED=$2 BRIDGE=$3
    for f in "$STATE"/addrs/*; do
      [ -f "$f" ] || continue
      if [ -z "$BED" ]; then
        # --all sweep: free addresses of test beds that no longer exist
        read -r id _ <"$f" || id=
        [ -d "$STATE/beds/$id" ] || rm -f "$f"
      else
        read -r id _ <"$f" || id=
        [ "$id" = "$BED" ] && rm -f "$f"
      fi
    done
    if [ -z "$(ls -A "$STATE/addrs" 2>/dev/null)" ] && [ -e "/sys/class/net/$BRIDGE" ]; then
      ip link del "$BRIDGE"
    fi
    exit 0
  ' sh "$STATE" "$1" "$BRIDGE"
}

teardown_bed() {
  id=$1
  bed=$STATE/beds/$id
  res=$bed/resources
  [ -d "$bed" ] || return 0
  [ -f "$res" ] || : >"$res"
  # 1. ssh control masters on this machine
  while read -r kind a b _; do
    [ "$kind" = ssh ] && [ -f "$a" ] && timeout 3 ssh -F "$a" -O exit "$b" >/dev/null 2>&1
  done <"$res"
  # 2. signals: SIGKILL a host's PID 1 (its whole PID namespace dies); SIGTERM systemd-nspawn
  #    (clean poweroff of the container); SIGKILL an unshare whose PID 1 is unknown.
  waitlist=
  nspawns=
  while read -r kind a b _; do
    case $kind in
      init) same "$a" "$b" && kill -KILL "$a" 2>/dev/null ;;
      nspawn) same "$a" "$b" && kill -TERM "$a" 2>/dev/null; nspawns="$nspawns $a $b" ;;
      proc) waitlist="$waitlist $a $b" ;;
    esac
  done <"$res"
  # shellcheck disable=SC2086
  if [ -n "$nspawns" ] && ! wait_gone 20 $nspawns; then
    say "systemd-nspawn did not stop on SIGTERM; SIGKILL"
    set -- $nspawns
    while [ $# -ge 2 ]; do same "$1" "$2" && kill -KILL "$1"; shift 2; done
    wait_gone 5 $nspawns
  fi
  # shellcheck disable=SC2086
  if [ -n "$waitlist" ] && ! wait_gone 10 $waitlist; then
    set -- $waitlist
    while [ $# -ge 2 ]; do same "$1" "$2" && kill -KILL "$1"; shift 2; done
    wait_gone 5 $waitlist
  fi
  leftover=0
  while read -r kind a b _; do
    case $kind in
      init|proc|nspawn) if same "$a" "$b"; then say "process $a still alive"; leftover=1; status=1; fi ;;
    esac
  done <"$res"
  # 3. cgroups, nspawn runtime files, network namespaces, veths
  while read -r kind a _; do
    case $kind in
      cgroup) rm_cgroup "$a" ;;
      machine) rm_nspawn_runtime "$a" ;;
      netns) [ -e "/run/netns/$a" ] && ip netns del "$a" ;;
      veth) [ -e "/sys/class/net/$a" ] && ip link del "$a" 2>/dev/null ;;
    esac
  done <"$res"
  # 4. addresses (and the bridge when this was the last test bed)
  release_addrs "$id"
  # 5. directories, only when no process of the bed survived
  if [ "$leftover" = 0 ]; then
    while read -r kind a _; do
      case $kind in dir) case $a in */depc-tb-*) rm -rf "$a" ;; esac ;; esac
    done <"$res"
    rm -rf "$bed"
  else
    say "kept $bed (processes survive)"
  fi
}

owner_alive() { # the bed's owner process (pid + start time) still runs
  [ -f "$STATE/beds/$1/owner" ] || return 1
  read -r p st <"$STATE/beds/$1/owner" || return 1
  same "$p" "$st"
}

mode=stale
beds=
while [ $# -gt 0 ]; do
  case $1 in
    --bed) beds="$beds $2"; mode=bed; shift 2 ;;
    --stale) mode=stale; shift ;;
    --all) mode=all; shift ;;
    *) echo "usage: $0 [--bed ID]... | --stale | --all" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "cleanup.sh: run as root" >&2; exit 2; }
mkdir -p "$STATE/beds" "$STATE/addrs"

case $mode in
  bed) for b in $beds; do teardown_bed "$b"; done ;;
  stale|all)
    for d in "$STATE"/beds/*; do
      [ -d "$d" ] || continue
      b=${d##*/}
      # a bed without an owner file is still being created
      if [ "$mode" = stale ] && { [ ! -f "$d/owner" ] || owner_alive "$b"; }; then continue; fi
      say "tearing down test bed $b"
      teardown_bed "$b"
    done ;;
esac

if [ "$mode" = all ]; then
  # Sweep by prefix: whatever a lost state directory no longer describes.
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^depc-/ {print $1}'); do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    say "removing netns $ns"
    ip netns del "$ns"
  done
  for l in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^depc'); do
    ip link del "$l"
  done
  for cg in /sys/fs/cgroup/depc-* /sys/fs/cgroup/*/depc-*; do
    [ -d "$cg" ] && rm_cgroup "$cg"
  done
  rm_nspawn_runtime depc-
  release_addrs ""
  for d in "${TMPDIR:-/tmp}"/depc-tb-*; do
    [ -d "$d" ] || continue
    id=${d##*/depc-tb-}
    [ -d "$STATE/beds/$id" ] || rm -rf "$d"
  done
fi
exit $status
