#!/bin/sh
# depc pull agent: pull-agent CONFIG
#
# Fetches the environment's signed manifest from the store, verifies it and
# applies this host's bundle when its serial is newer than the one applied
# last (docs/pull.md; the store's layout: /tmp/briefs/pull-spec.md, folded
# into docs/pull.md). Installed by the standard library's PullAgent as
# /usr/local/lib/depc/pull-agent and run as root by a systemd timer or cron.
#
# Standalone POSIX sh: it runs before any bundle exists on the host, so it
# carries its own small helpers instead of the runtime's. CONFIG is read
# line by line ("key value"), never sourced: user data never becomes shell
# code. Everything from the store is checked against a strict pattern before
# use, and only printable ASCII of it ever reaches the log or the terminal.
#
# Exit: 0 applied, nothing to do, waiting for providers, or the bundle's lock
# held (retried next tick); 1 refused or failed; 3 another agent run holds
# the agent's lock; 64 a bad CONFIG.
# shellcheck shell=sh

export LC_ALL=C
umask 077

pull_tmp_files=
pull_lock_held=
pull_attempted=0

# pull_die STATUS MESSAGE: one line on stderr, then exit.
pull_die() {
  printf 'pull-agent: %s\n' "$2" >&2
  exit "$1"
}

# pull_clean TEXT [MAX]: TEXT as printable ASCII only, at most MAX (200)
# characters (bytes from the store or a tool never reach the log raw).
pull_clean() {
  printf '%s' "$1" | tr '\t\n\r' '   ' | tr -cd ' -~' | cut -c1-"${2:-200}"
}

# pull_now: epoch seconds (date +%s, else awk's srand(), which returns the time it seeded with the second call).
pull_now() {
  pull_t=$(date +%s 2>/dev/null) || pull_t=
  case $pull_t in
    '' | *[!0-9]*) pull_t=$(awk 'BEGIN { srand(); print srand() }') ;;
  esac
  printf '%s\n' "$pull_t"
}

# pull_iso [EPOCH]: UTC ISO time of EPOCH (default now); computed by awk, so no date -d is needed.
pull_iso() {
  awk -v t="${1:-$(pull_now)}" 'BEGIN {
    t = int(t); d = int(t / 86400); s = t - d * 86400
    z = d + 719468; era = int(z / 146097); doe = z - era * 146097
    yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
    y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
    mp = int((5 * doy + 2) / 153); dd = doy - int((153 * mp + 2) / 5) + 1
    m = mp < 10 ? mp + 3 : mp - 9; if (m <= 2) y++
    printf "%04d-%02d-%02dT%02d:%02d:%02dZ\n", y, m, dd, int(s / 3600), int(s % 3600 / 60), s % 60
  }'
}

# pull_gt A B: A > B for decimal integers of up to 15 digits (awk: mksh's arithmetic is 32-bit).
pull_gt() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'
}

# pull_log MESSAGE: one line "<ISO time> MESSAGE" appended to the log and
# printed on stdout. A repeat of the previous event (a refusal or a wait seen
# again every tick) is not logged again.
pull_log() {
  pull_msg=$(pull_clean "$1" 400)
  if [ -f "$pull_dir/last-event" ] && [ "$(cat "$pull_dir/last-event")" = "$pull_msg" ]; then
    return 0
  fi
  pull_line="$(pull_iso) $pull_msg"
  printf '%s\n' "$pull_line"
  printf '%s\n' "$pull_line" >>"$pull_logfile" || printf 'pull-agent: cannot append to the log %s\n' "$pull_logfile" >&2
  printf '%s\n' "$pull_msg" | pull_put "$pull_dir/last-event"
  # Beyond 1100 lines the log is cut to its last 1000 (temp file, then rename).
  if [ "$(wc -l <"$pull_logfile" 2>/dev/null || echo 0)" -gt 1100 ]; then
    pull_cut=$(mktemp "$pull_logfile.tmp.XXXXXX") &&
      tail -n 1000 "$pull_logfile" >"$pull_cut" && mv -f "$pull_cut" "$pull_logfile"
  fi
}

# pull_mktemp: a new private temp file under <state>/pull/ into pull_t
# (removed at exit; one left by a killed run is swept at the next start).
pull_mktemp() {
  pull_t=$(mktemp "$pull_dir/.tmp.XXXXXX") || pull_die 1 "cannot create a temporary file in $pull_dir"
  pull_tmp_files="$pull_tmp_files $pull_t"
}

# pull_put FILE: stdin into FILE atomically (a temp file in its directory, then rename).
pull_put() {
  pull_mktemp
  cat >"$pull_t" && mv -f "$pull_t" "$1"
}

# pull_need TOOL: fail with one line naming the host and the tool when TOOL is not on PATH.
pull_need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  pull_die 1 "host $pull_host: required tool '$1' not found (PATH=$PATH)"
}

# pull_probe: the fetch tool (curl, else GNU wget, else busybox wget) into
# pull_fetcher and the sha256 tool into pull_sha.
pull_probe() {
  if command -v curl >/dev/null 2>&1; then
    pull_fetcher=curl
  elif command -v wget >/dev/null 2>&1; then
    case $(wget --version 2>/dev/null) in
      *"GNU Wget"*) pull_fetcher=wget ;;
      *) pull_fetcher=wget-busybox ;;
    esac
  else
    pull_die 1 "host $pull_host: neither 'curl' nor 'wget' found (PATH=$PATH)"
  fi
  if command -v sha256sum >/dev/null 2>&1; then
    pull_sha=sha256sum
  elif command -v shasum >/dev/null 2>&1; then
    pull_sha=shasum
  elif command -v openssl >/dev/null 2>&1; then
    pull_sha=openssl
  else
    pull_die 1 "host $pull_host: required tool 'sha256sum' (or 'shasum', 'openssl') not found (PATH=$PATH)"
  fi
  for pull_tool in mktemp awk tr cut mv rm ln readlink ssh-keygen; do
    pull_need "$pull_tool"
  done
}

# pull_sha256 FILE: its lowercase sha256 hex on stdout.
pull_sha256() {
  case $pull_sha in
    sha256sum) sha256sum <"$1" ;;
    shasum) shasum -a 256 <"$1" ;;
    *) openssl dgst -sha256 -r <"$1" ;;
  esac | awk '{ print tolower($1) }'
}

# pull_fetch PATH FILE: GET <store>PATH into FILE (through the shell's
# redirection, so a tool that outlives a killed run writes into a removed
# file). Fails with pull_error set to the tool's last line.
pull_fetch() {
  pull_mktemp
  pull_err=$pull_t
  case $pull_fetcher in
    curl) curl -fsS --connect-timeout 30 --max-time 1800 -H 'Cache-Control: no-cache' -- "$pull_store$1" >"$2" 2>"$pull_err" ;;
    wget) wget -nv -T 60 --no-cache -O - -- "$pull_store$1" >"$2" 2>"$pull_err" ;;
    # busybox wget: no -nv, and -T crashes some builds; without -q it says why it failed.
    *) wget -O - -- "$pull_store$1" >"$2" 2>"$pull_err" ;;
  esac && return 0
  pull_error=$(pull_clean "$(tail -n 1 "$pull_err")")
  [ -n "$pull_error" ] || pull_error="${pull_fetcher%-busybox} failed"
  return 1
}

# pull_ticks PID: the process's start time (field 22 of /proc/PID/stat, after the command name), or - without /proc.
pull_ticks() {
  if [ -r "/proc/$1/stat" ]; then
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'
  else
    echo -
  fi
}

# pull_alive INFO: the run that INFO ("pid=P start=T") describes is still running.
pull_alive() {
  pull_p=${1#pid=}
  pull_p=${pull_p%% *}
  pull_s=${1##*start=}
  case $pull_p in '' | *[!0-9]*) return 1 ;; esac
  [ "$pull_p" != "$$" ] || return 1
  kill -0 "$pull_p" 2>/dev/null || return 1
  [ "$pull_s" = - ] || [ "$(pull_ticks "$pull_p")" = "$pull_s" ]
}

# pull_lock: take <state>/pull/lock (a symlink whose target names the holder:
# created atomically). A lock whose holder is gone (killed with -9) is taken
# over under lock.break, and only while it still names that run.
pull_lock() {
  pull_info="pid=$$ start=$(pull_ticks $$)"
  if ln -s "$pull_info" "$pull_dir/lock" 2>/dev/null; then
    pull_lock_held=1
    return 0
  fi
  pull_held=$(readlink "$pull_dir/lock" 2>/dev/null) || pull_held=
  if [ -n "$pull_held" ] && pull_alive "$pull_held"; then
    pull_die 3 "another run holds the lock $pull_dir/lock (${pull_held%% start=*})"
  fi
  if ! ln -s "$pull_info" "$pull_dir/lock.break" 2>/dev/null; then
    pull_breaker=$(readlink "$pull_dir/lock.break" 2>/dev/null) || pull_breaker=
    if [ -n "$pull_breaker" ] && pull_alive "$pull_breaker"; then
      pull_die 3 "another run is taking over the lock $pull_dir/lock"
    fi
    rm -f "$pull_dir/lock.break"
    ln -s "$pull_info" "$pull_dir/lock.break" 2>/dev/null || pull_die 3 "another run is taking over the lock $pull_dir/lock"
  fi
  if [ "$(readlink "$pull_dir/lock" 2>/dev/null)" = "$pull_held" ]; then
    rm -f "$pull_dir/lock"
  fi
  if ln -s "$pull_info" "$pull_dir/lock" 2>/dev/null; then
    pull_lock_held=1
    rm -f "$pull_dir/lock.break"
    printf 'pull-agent: warning: took over a stale lock: the run that held it (%s) is gone\n' "${pull_held%% start=*}" >&2
    return 0
  fi
  rm -f "$pull_dir/lock.break"
  pull_die 3 "another run holds the lock $pull_dir/lock"
}

# shellcheck disable=SC2317 # run by the EXIT trap
# pull_cleanup: remove this run's temp files, then release the lock if it still names this run.
pull_cleanup() {
  # shellcheck disable=SC2086 # the list is of mktemp names (no spaces: <state>/pull/.tmp.XXXXXX)
  [ -z "$pull_tmp_files" ] || rm -f $pull_tmp_files
  pull_tmp_files=
  if [ -n "$pull_lock_held" ] && [ "$(readlink "$pull_dir/lock" 2>/dev/null)" = "$pull_info" ]; then
    rm -f "$pull_dir/lock"
  fi
  pull_lock_held=
}

# pull_report RESULT MESSAGE: write <state>/pull/report (atomically) and PUT
# it to <store>reports/<host>; a report not sent yet is marked (report.unsent)
# and sent again by the next run.
pull_report() {
  pull_applied=$(pull_last serial)
  pull_digest=$(cat "$pull_dir/digest" 2>/dev/null) || pull_digest=-
  case $pull_digest in '' | *[!0-9a-f]*) pull_digest=- ;; esac
  # A run killed between writing digest and serial: nothing counts as applied yet.
  [ "$pull_applied" != 0 ] || pull_digest=-
  {
    printf 'depc-report 1\nhost %s\nserial %s\ndigest %s\n' "$pull_host" "$pull_applied" "$pull_digest"
    printf 'result %s\nattempted %s\nat %s\nmessage %s\n' "$1" "$pull_attempted" "$(pull_now)" "$(pull_clean "$2")"
  } | pull_put "$pull_dir/report"
  : >"$pull_dir/report.unsent"
  pull_send_report
}

# pull_send_report: PUT <state>/pull/report (curl -T, GNU wget --method=PUT;
# busybox wget cannot PUT: the log is the only report then).
pull_send_report() {
  [ -f "$pull_dir/report.unsent" ] || return 0
  pull_mktemp
  pull_err=$pull_t
  case $pull_fetcher in
    curl) curl -fsS --connect-timeout 30 --max-time 120 -T "$pull_dir/report" -- "${pull_store}reports/$pull_host" >/dev/null 2>"$pull_err" ;;
    wget) wget -nv -T 60 --method=PUT --body-file="$pull_dir/report" -O /dev/null -- "${pull_store}reports/$pull_host" 2>"$pull_err" ;;
    *) return 0 ;;
  esac || return 0
  rm -f "$pull_dir/report.unsent"
}

# pull_last NAME: the recorded serial (0 when none or unreadable).
pull_last() {
  pull_v=$(cat "$pull_dir/$1" 2>/dev/null) || pull_v=0
  case $pull_v in '' | *[!0-9]*) pull_v=0 ;; esac
  printf '%s\n' "$pull_v"
}

# pull_stop RESULT STATUS MESSAGE: log MESSAGE, report RESULT, exit STATUS.
pull_stop() {
  pull_log "$3"
  pull_report "$1" "${3#serial * }"
  exit "$2"
}

# pull_config FILE: the agent's settings ("key value" lines; # comments).
pull_config() {
  [ -r "$1" ] || pull_die 64 "cannot read the config file $1"
  pull_env='' pull_host='' pull_store='' pull_signers='' pull_identity=/etc/ssh/ssh_host_ed25519_key pull_state='' pull_logfile='' pull_splay=0
  pull_n=0
  while IFS= read -r pull_l || [ -n "$pull_l" ]; do
    pull_n=$((pull_n + 1))
    case $pull_l in '' | '#'*) continue ;; esac
    pull_k=${pull_l%% *}
    pull_v=${pull_l#"$pull_k"}
    pull_v=${pull_v# }
    case $pull_k in
      environment) pull_env=$pull_v ;;
      host) pull_host=$pull_v ;;
      store) pull_store=$pull_v ;;
      signers) pull_signers=$pull_v ;;
      identity) pull_identity=$pull_v ;;
      state) pull_state=$pull_v ;;
      log) pull_logfile=$pull_v ;;
      splay) pull_splay=$pull_v ;;
      *) pull_die 64 "$1 line $pull_n: unknown setting '$(pull_clean "$pull_k")'" ;;
    esac
  done <"$1"
  [ -n "$pull_env" ] || pull_die 64 "$1: the setting 'environment' is missing"
  [ -n "$pull_host" ] || pull_die 64 "$1: the setting 'host' is missing"
  [ -n "$pull_store" ] || pull_die 64 "$1: the setting 'store' is missing"
  [ -n "$pull_signers" ] || pull_die 64 "$1: the setting 'signers' is missing"
  case $pull_host in
    [A-Za-z0-9]*) case $pull_host in *[!A-Za-z0-9._-]*) pull_die 64 "$1: host '$(pull_clean "$pull_host")' is not a host name" ;; esac ;;
    *) pull_die 64 "$1: host '$(pull_clean "$pull_host")' is not a host name" ;;
  esac
  case $pull_store in
    http://*/ | https://*/) ;;
    *) pull_die 64 "$1: store '$(pull_clean "$pull_store")' is not an http(s) URL ending in /" ;;
  esac
  case $pull_splay in '' | *[!0-9]*) pull_die 64 "$1: splay '$(pull_clean "$pull_splay")' is not a number of seconds" ;; esac
  [ -n "$pull_state" ] || pull_state="/var/lib/depc/$pull_env"
  pull_dir="$pull_state/pull"
  [ -n "$pull_logfile" ] || pull_logfile="$pull_dir/log"
}

# pull_manifest FILE N: checks the verified manifest's text and prints what
# this host needs, one "key value" line each: version, environment, serial,
# expires, host DIGEST OBJECT SHA AFTER; "malformed LINE" for a line that does
# not match its pattern. Values are printable ASCII only.
pull_manifest() {
  awk -v host="$pull_host" '
    function bad(what) { print "malformed " NR " (" what ")"; exit }
    NR == 1 { print "version " ($0 == "depc-manifest 1" ? "1" : "other"); next }
    $1 == "environment" { if (NF != 2 || $2 !~ /^[A-Za-z0-9][A-Za-z0-9._-]*$/) bad("environment"); print; next }
    $1 == "serial" || $1 == "expires" || $1 == "published" {
      if (NF != 2 || $2 !~ /^[0-9]+$/ || length($2) > 15) bad($1); print; next
    }
    $1 == "host" {
      if (NF != 6 || $2 !~ /^[A-Za-z0-9][A-Za-z0-9._-]*$/) bad("host")
      if ($2 != host) next
      if ($3 !~ /^[0-9a-f]+$/ || length($3) != 64) bad("digest")
      if ($4 !~ /^bundles\/[0-9a-f]+(\.age)?$/ || $5 !~ /^[0-9a-f]+$/ || length($5) != 64) bad("object")
      o = $4; sub(/^bundles\//, "", o); sub(/\.age$/, "", o)
      if (o != $5) bad("object")
      if ($6 != "-" && $6 !~ /^[A-Za-z0-9][A-Za-z0-9._-]*(,[A-Za-z0-9][A-Za-z0-9._-]*)*$/) bad("after")
      print; next
    }
  ' "$1"
}

pull_main() {
  [ $# -eq 1 ] || pull_die 64 "usage: pull-agent CONFIG"
  pull_config "$1"
  pull_probe
  mkdir -p "$pull_dir" || pull_die 1 "cannot create $pull_dir"
  chmod 700 "$pull_dir" 2>/dev/null
  case $pull_logfile in */*) mkdir -p "${pull_logfile%/*}" 2>/dev/null ;; esac
  if [ "$pull_splay" -gt 0 ] 2>/dev/null; then
    sleep "$(awk -v m="$pull_splay" -v p="$$" 'BEGIN { srand(); srand(srand() + p); print int(rand() * (m + 1)) }')"
  fi
  trap pull_cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  pull_lock
  # What a run killed with -9 left: temp files, a plain bundle among them.
  rm -f "$pull_dir"/.tmp.* "$pull_logfile".tmp.*
  pull_send_report

  pull_mktemp
  pull_f=$pull_t
  pull_fetch latest "$pull_f" || pull_stop error 1 "failed: cannot fetch ${pull_store}latest: $pull_error"
  # One line of digits (the substitution drops the final newline; any other byte, a second line too, is refused).
  pull_n=$(head -c 32 "$pull_f")
  case $pull_n in
    '' | 0* | *[!0-9]*) pull_stop refused 1 "refused: the store's latest is not a serial number ('$(pull_clean "$pull_n")')" ;;
  esac
  [ ${#pull_n} -le 15 ] || pull_stop refused 1 "refused: the store's latest is not a serial number ('$(pull_clean "$pull_n")')"
  pull_attempted=$pull_n
  pull_m=$(pull_last serial)
  [ "$pull_n" != "$pull_m" ] || exit 0
  if pull_gt "$pull_m" "$pull_n"; then
    pull_stop refused 1 "serial $pull_n: refused: serial $pull_n is lower than the applied $pull_m"
  fi

  pull_mktemp
  pull_manifest_file=$pull_t
  pull_fetch "manifests/$pull_n" "$pull_manifest_file" || pull_stop error 1 "serial $pull_n: failed: cannot fetch manifests/$pull_n: $pull_error"
  pull_size=$(wc -c <"$pull_manifest_file")
  [ "$pull_size" -le 1048576 ] || pull_stop refused 1 "serial $pull_n: refused: manifest $pull_n is larger than 1 MiB"
  pull_mktemp
  pull_sig=$pull_t
  pull_fetch "manifests/$pull_n.sig" "$pull_sig" || pull_stop error 1 "serial $pull_n: failed: cannot fetch manifests/$pull_n.sig: $pull_error"
  if ! ssh-keygen -Y verify -f "$pull_signers" -I depc-publisher -n depc-manifest -s "$pull_sig" <"$pull_manifest_file" >/dev/null 2>&1; then
    pull_stop refused 1 "serial $pull_n: refused: manifest $pull_n is not signed by the publisher"
  fi

  pull_mktemp
  pull_fields=$pull_t
  pull_manifest "$pull_manifest_file" >"$pull_fields"
  pull_version='' pull_menv='' pull_mserial='' pull_expires='' pull_line=''
  while read -r pull_k pull_v; do
    case $pull_k in
      version) pull_version=$pull_v ;;
      environment) pull_menv=$pull_v ;;
      serial) pull_mserial=$pull_v ;;
      expires) pull_expires=$pull_v ;;
      host) pull_line=$pull_v ;;
      malformed) pull_stop refused 1 "serial $pull_n: refused: manifest $pull_n is malformed at line $pull_v" ;;
    esac
  done <"$pull_fields"
  [ "$pull_version" = 1 ] || pull_stop refused 1 "serial $pull_n: refused: manifest $pull_n is not a depc-manifest 1"
  [ "$pull_menv" = "$pull_env" ] || pull_stop refused 1 "serial $pull_n: refused: manifest $pull_n is for environment '$pull_menv', this host is in '$pull_env'"
  [ "$pull_mserial" = "$pull_n" ] || pull_stop refused 1 "serial $pull_n: refused: manifest $pull_n says serial '$pull_mserial' (a replayed manifest)"
  [ -n "$pull_expires" ] || pull_stop refused 1 "serial $pull_n: refused: manifest $pull_n has no expiry"
  pull_gt "$pull_expires" "$(pull_now)" || pull_stop refused 1 "serial $pull_n: refused: manifest $pull_n expired at $(pull_iso "$pull_expires")"
  [ -n "$pull_line" ] || pull_stop refused 1 "serial $pull_n: refused: manifest $pull_n has no bundle for host $pull_host"
  # shellcheck disable=SC2086 # the checked line: host name, digest, object, sha256, after (no glob characters)
  set -- $pull_line
  pull_bdigest=$2 pull_object=$3 pull_osha=$4 pull_after=$5

  # Cross-host order: every provider must have reported this serial (or a later one).
  if [ "$pull_after" != - ]; then
    pull_rest="$pull_after,"
    while [ -n "$pull_rest" ]; do
      pull_p=${pull_rest%%,*}
      pull_rest=${pull_rest#*,}
      pull_mktemp
      pull_r=$pull_t
      pull_got=0
      if pull_fetch "reports/$pull_p" "$pull_r"; then
        pull_got=$(awk '$1 == "serial" && NF == 2 && $2 ~ /^[0-9]+$/ && length($2) <= 15 { print $2; exit }' "$pull_r")
        [ -n "$pull_got" ] || pull_got=0
      fi
      pull_gt "$pull_n" "$pull_got" && pull_stop waiting 0 "serial $pull_n: waiting for $pull_p (serial $pull_n)"
    done
  fi

  pull_mktemp
  pull_obj=$pull_t
  pull_fetch "$pull_object" "$pull_obj" || pull_stop error 1 "serial $pull_n: failed: cannot fetch $pull_object: $pull_error"
  pull_got=$(pull_sha256 "$pull_obj")
  [ "$pull_got" = "$pull_osha" ] || pull_stop refused 1 "serial $pull_n: refused: bundle for $pull_host has sha256 $pull_got, manifest says $pull_osha"
  pull_bundle=$pull_obj
  case $pull_object in
    *.age)
      command -v age >/dev/null 2>&1 ||
        pull_stop error 1 "serial $pull_n: failed: host $pull_host has no 'age' to decrypt $pull_object (PullAgent's decrypt: true installs it; PATH=$PATH)"
      pull_mktemp
      pull_bundle=$pull_t
      pull_mktemp
      pull_err=$pull_t
      if ! age -d -i "$pull_identity" -o "$pull_bundle" "$pull_obj" 2>"$pull_err"; then
        # age ends its errors with a line asking for bug reports: the line that says "error" is the one that tells.
        pull_why=$(awk '/error/ { print; exit }' "$pull_err")
        [ -n "$pull_why" ] || pull_why=$(tail -n 1 "$pull_err")
        pull_stop error 1 "serial $pull_n: failed: cannot decrypt $pull_object with $pull_identity: $pull_why"
      fi
      rm -f "$pull_obj"
      pull_got=$(pull_sha256 "$pull_bundle")
      [ "$pull_got" = "$pull_bdigest" ] || pull_stop refused 1 "serial $pull_n: refused: decrypted bundle for $pull_host has sha256 $pull_got, manifest says $pull_bdigest"
      ;;
  esac

  # The bundle's own CLI: its lock and state are the ones depc deploy uses.
  pull_mktemp
  pull_out=$pull_t
  sh "$pull_bundle" --quiet --state-dir "$pull_state" >"$pull_out" 2>&1
  pull_status=$?
  rm -f "$pull_bundle"
  mv -f "$pull_out" "$pull_dir/output" 2>/dev/null
  case $pull_status in
    0) ;;
    3) pull_stop waiting 0 "serial $pull_n: waiting: another run holds the bundle's lock; retrying next run" ;;
    *)
      pull_why=$(grep '^depc: ' "$pull_dir/output" 2>/dev/null | tail -n 1)
      pull_stop error 1 "serial $pull_n: failed (exit $pull_status)${pull_why:+: $pull_why}"
      ;;
  esac
  # Recorded only after success; digest first: a run killed between the two re-applies the same bundle (idempotent).
  printf '%s\n' "$pull_bdigest" | pull_put "$pull_dir/digest"
  printf '%s\n' "$pull_n" | pull_put "$pull_dir/serial"
  pull_stop ok 0 "serial $pull_n: applied"
}

pull_main "$@"
